use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{
    ConfigError, Optimizer, OptimizerState, StateError, check_lengths, check_state, non_negative,
    take_buffers,
};
use crate::Float;

/// Settings of [`Adagrad`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate `γ` (default 0.01).
    pub lr: f64,
    /// Learning-rate decay `η` (default 0).
    pub lr_decay: f64,
    /// L2 penalty `λ` added to the gradient (default 0).
    pub weight_decay: f64,
    /// The value `s₀` the sums of squares start from (default 0).
    pub initial_accumulator_value: f64,
    /// Term `ε` added to the denominator for numerical stability (default 10⁻¹⁰).
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

/// Adagrad, step for step as `torch.optim.Adagrad`.
///
/// For each parameter `θ` with gradient `g`, at step `t` (from 1), with the
/// sum of squares `s` starting at `s₀`:
///
/// ```text
/// g ← g + λ θ                  (weight decay, if λ ≠ 0)
/// γₜ = γ / (1 + (t − 1) η)
/// s ← s + g²
/// θ ← θ − γₜ g / (√s + ε)
/// ```
///
/// Its state buffer is PyTorch's `sum` (`s`). PyTorch fills it with `s₀` when
/// the optimizer is built; here it is filled at the first step, when the
/// parameters' number is known, so that the state is empty before it (and an
/// empty state loaded resumes with `s₀` just the same).
#[derive(Clone, Debug)]
pub struct Adagrad<T> {
    config: AdagradConfig,
    sum: Vec<T>,
    steps: u64,
}

impl<T: Float> Adagrad<T> {
    /// An optimizer with these settings, checked as PyTorch checks them.
    pub fn new(config: AdagradConfig) -> Result<Self, ConfigError> {
        non_negative(config.lr, ConfigError::LearningRate)?;
        non_negative(config.lr_decay, ConfigError::LearningRateDecay)?;
        non_negative(config.weight_decay, ConfigError::WeightDecay)?;
        non_negative(config.initial_accumulator_value, ConfigError::InitialAccumulator)?;
        non_negative(config.eps, ConfigError::Epsilon)?;
        Ok(Adagrad { config, sum: Vec::new(), steps: 0 })
    }

    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(AdagradConfig { lr, ..AdagradConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        check_lengths("adagrad", params, grads);
        let c = self.config;
        if self.sum.is_empty() {
            self.sum = vec![T::of_f64(c.initial_accumulator_value); params.len()];
        }
        check_state("adagrad", params, self.sum.len());
        self.steps += 1;
        let clr = c.lr / (1.0 + (self.steps - 1) as f64 * c.lr_decay);
        let neg_clr = T::of_f64(-clr);
        let wd = T::of_f64(c.weight_decay);
        let eps = T::of_f64(c.eps);
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(&mut self.sum) {
            let g = if c.weight_decay != 0.0 { g + wd * *p } else { g };
            *s += g * g;
            let std = s.sqrt() + eps;
            *p += neg_clr * g / std;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "adagrad"
    }

    fn state(&self) -> OptimizerState<T> {
        let buffers = if self.sum.is_empty() {
            Vec::new()
        } else {
            vec![(String::from("sum"), self.sum.clone())]
        };
        OptimizerState { steps: self.steps, buffers }
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        let steps = state.steps;
        let mut buffers = take_buffers("adagrad", state, &["sum"])?;
        self.sum = buffers.pop().unwrap_or_default();
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{assert_rejects_bad_states, assert_resumes};
    use crate::testing::assert_all_close;

    fn adagrad(config: AdagradConfig) -> Adagrad<f64> {
        Adagrad::new(config).expect("valid configuration")
    }

    #[test]
    fn steps_by_hand() {
        // s = 4, θ = 1 − 0.1 · 2 / 2; then s = 4 + 9, θ −= 0.1 · 3 / √13.
        let mut opt = adagrad(AdagradConfig { lr: 0.1, eps: 0.0, ..Default::default() });
        let mut p = [1.0];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[0.9], 1e-15);
        opt.step(&mut p, &[3.0]);
        assert_all_close(&p, &[0.9 - 0.3 / 13f64.sqrt()], 1e-15);
        assert_eq!(opt.state().buffers, [(String::from("sum"), vec![13.0])]);
        // f32 too.
        let mut opt = Adagrad::<f32>::with_lr(0.1).unwrap();
        let mut p = [1.0f32];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[0.9], 1e-7);
    }

    #[test]
    fn decay_accumulator_and_weight_decay_by_hand() {
        // s₀ = 5, η = 1, λ = 0.5, γ = 1: g = 1 + 0.5 · 2 = 2, s = 9,
        // θ = 2 − 2 / 3; then γ₂ = 1 / 2, g = 0.5 θ, s = 9 + g².
        let config = AdagradConfig {
            lr: 1.0,
            lr_decay: 1.0,
            weight_decay: 0.5,
            initial_accumulator_value: 5.0,
            eps: 0.0,
        };
        let mut opt = adagrad(config);
        let mut p = [2.0];
        opt.step(&mut p, &[1.0]);
        let theta = 2.0 - 2.0 / 3.0;
        assert_all_close(&p, &[theta], 1e-15);
        opt.step(&mut p, &[0.0]);
        let g = 0.5 * theta;
        assert_all_close(&p, &[theta - 0.5 * g / (9.0 + g * g).sqrt()], 1e-15);
    }

    #[test]
    fn the_initial_accumulator_applies_after_an_empty_state() {
        let config = AdagradConfig { initial_accumulator_value: 0.1, ..Default::default() };
        let mut a = adagrad(config);
        assert_eq!(a.state(), OptimizerState::default());
        let mut b = adagrad(config);
        b.load_state(a.state()).unwrap();
        let (mut p, mut q) = ([1.0, 2.0], [1.0, 2.0]);
        a.step(&mut p, &[0.5, -0.5]);
        b.step(&mut q, &[0.5, -0.5]);
        assert_eq!(p, q);
        assert_eq!(b.state().buffers[0].1, [0.1 + 0.25; 2]);
    }

    #[test]
    fn learning_rate_can_change() {
        let mut opt = Adagrad::<f64>::with_lr(0.1).unwrap();
        assert_eq!(opt.learning_rate(), 0.1);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.learning_rate(), 0.5);
        assert_eq!(opt.config().lr, 0.5);
        assert_eq!(opt.name(), "adagrad");
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(
            AdagradConfig::default(),
            AdagradConfig {
                lr: 1e-2,
                lr_decay: 0.0,
                weight_decay: 0.0,
                initial_accumulator_value: 0.0,
                eps: 1e-10
            }
        );
    }

    #[test]
    fn invalid_configurations_are_errors() {
        let err = |config: AdagradConfig| Adagrad::<f64>::new(config).unwrap_err();
        let base = AdagradConfig::default();
        assert_eq!(err(AdagradConfig { lr: -0.1, ..base }), ConfigError::LearningRate(-0.1));
        assert_eq!(
            err(AdagradConfig { lr_decay: -0.1, ..base }),
            ConfigError::LearningRateDecay(-0.1)
        );
        assert_eq!(
            err(AdagradConfig { weight_decay: -0.1, ..base }),
            ConfigError::WeightDecay(-0.1)
        );
        assert_eq!(
            err(AdagradConfig { initial_accumulator_value: -0.1, ..base }),
            ConfigError::InitialAccumulator(-0.1)
        );
        let e = err(AdagradConfig { eps: f64::NAN, ..base });
        assert!(matches!(e, ConfigError::Epsilon(v) if v.is_nan()));
        assert_eq!(
            alloc::format!("{}", ConfigError::InitialAccumulator(-0.1)),
            "invalid initial accumulator value -0.1; it must be finite and at least 0"
        );
    }

    #[test]
    fn state_round_trips() {
        assert_resumes(|| adagrad(AdagradConfig::default()));
        assert_resumes(|| {
            adagrad(AdagradConfig {
                lr_decay: 0.1,
                initial_accumulator_value: 0.5,
                weight_decay: 0.1,
                ..Default::default()
            })
        });
    }

    #[test]
    fn bad_states_are_rejected() {
        assert_rejects_bad_states(|| adagrad(AdagradConfig::default()), &["sum"]);
    }

    #[test]
    #[should_panic(expected = "adagrad: 2 parameters but 3 gradients")]
    fn mismatched_lengths_panic() {
        Adagrad::<f64>::with_lr(0.1).unwrap().step(&mut [0.0; 2], &[0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "adagrad: stepping 3 parameters with state for 2")]
    fn state_of_another_size_panics() {
        let mut opt = Adagrad::<f64>::with_lr(0.1).unwrap();
        opt.step(&mut [0.0; 2], &[1.0; 2]);
        opt.step(&mut [0.0; 3], &[1.0; 3]);
    }

    /// The Adagrad trajectories of PyTorch in the shared fixtures.
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch_trajectories() {
        use alloc::boxed::Box;

        use crate::optim::test_support::{check_pytorch_cases, number};

        check_pytorch_cases("Adagrad", &["adagrad", "adagrad_lr_decay"], |name, kwargs| {
            let mut c = AdagradConfig::default();
            for (key, value) in kwargs {
                let v = number(name, key, value);
                match key.as_str() {
                    "lr" => c.lr = v,
                    "lr_decay" => c.lr_decay = v,
                    "weight_decay" => c.weight_decay = v,
                    "initial_accumulator_value" => c.initial_accumulator_value = v,
                    "eps" => c.eps = v,
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            Box::new(adagrad(c))
        });
    }
}
