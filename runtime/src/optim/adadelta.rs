use alloc::string::String;
use alloc::vec::Vec;

use super::{
    ConfigError, Optimizer, OptimizerState, StateError, check_lengths, check_state, non_negative,
    take_buffers, unit_closed,
};
use crate::Float;

/// Settings of [`Adadelta`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdadeltaConfig {
    /// Learning rate `γ`, scaling the delta (default 1).
    pub lr: f64,
    /// Decay rate `ρ` of the running averages, in `[0, 1]` (default 0.9).
    pub rho: f64,
    /// Term `ε` added inside the square roots for numerical stability
    /// (default 10⁻⁶).
    pub eps: f64,
    /// L2 penalty `λ` added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        AdadeltaConfig { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0 }
    }
}

/// Adadelta, step for step as `torch.optim.Adadelta`.
///
/// For each parameter `θ` with gradient `g`, with `v` and `u` starting at 0:
///
/// ```text
/// g ← g + λ θ                        (weight decay, if λ ≠ 0)
/// v ← ρ v + (1 − ρ) g²
/// Δ ← √(u + ε) / √(v + ε) · g
/// u ← ρ u + (1 − ρ) Δ²
/// θ ← θ − γ Δ
/// ```
///
/// Its state buffers are PyTorch's: `square_avg` (`v`) and `acc_delta` (`u`).
#[derive(Clone, Debug)]
pub struct Adadelta<T> {
    config: AdadeltaConfig,
    square_avg: Vec<T>,
    acc_delta: Vec<T>,
    steps: u64,
}

impl<T: Float> Adadelta<T> {
    /// An optimizer with these settings, checked as PyTorch checks them.
    pub fn new(config: AdadeltaConfig) -> Result<Self, ConfigError> {
        non_negative(config.lr, ConfigError::LearningRate)?;
        unit_closed(config.rho, ConfigError::Rho)?;
        non_negative(config.eps, ConfigError::Epsilon)?;
        non_negative(config.weight_decay, ConfigError::WeightDecay)?;
        Ok(Adadelta { config, square_avg: Vec::new(), acc_delta: Vec::new(), steps: 0 })
    }

    /// Adadelta with learning rate `lr` and PyTorch's other defaults.
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(AdadeltaConfig { lr, ..AdadeltaConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &AdadeltaConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adadelta<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        check_lengths("adadelta", params, grads);
        if self.square_avg.is_empty() {
            self.square_avg.resize(params.len(), T::zero());
            self.acc_delta.resize(params.len(), T::zero());
        }
        check_state("adadelta", params, self.square_avg.len());
        self.steps += 1;
        let c = self.config;
        let neg_lr = T::of_f64(-c.lr);
        let wd = T::of_f64(c.weight_decay);
        let rho = T::of_f64(c.rho);
        let keep = T::of_f64(1.0 - c.rho);
        let eps = T::of_f64(c.eps);
        let state = self.square_avg.iter_mut().zip(&mut self.acc_delta);
        for ((p, &g), (v, u)) in params.iter_mut().zip(grads).zip(state) {
            let g = if c.weight_decay != 0.0 { g + wd * *p } else { g };
            *v = *v * rho + keep * g * g;
            let std = (*v + eps).sqrt();
            let delta = (*u + eps).sqrt() / std * g;
            *u = *u * rho + keep * delta * delta;
            *p += neg_lr * delta;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "adadelta"
    }

    fn state(&self) -> OptimizerState<T> {
        let mut buffers = Vec::new();
        if !self.square_avg.is_empty() {
            buffers.push((String::from("square_avg"), self.square_avg.clone()));
            buffers.push((String::from("acc_delta"), self.acc_delta.clone()));
        }
        OptimizerState { steps: self.steps, buffers }
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        let steps = state.steps;
        let mut buffers =
            take_buffers("adadelta", state, &["square_avg", "acc_delta"])?.into_iter();
        self.square_avg = buffers.next().unwrap_or_default();
        self.acc_delta = buffers.next().unwrap_or_default();
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{assert_rejects_bad_states, assert_resumes};
    use crate::testing::assert_all_close;

    fn adadelta(config: AdadeltaConfig) -> Adadelta<f64> {
        Adadelta::new(config).expect("valid configuration")
    }

    #[test]
    fn steps_by_hand() {
        // ρ = 0.5, ε = 1, γ = 1, g = 2: v = 2, Δ = √1 / √3 · 2, u = Δ² / 2.
        let mut opt = adadelta(AdadeltaConfig { rho: 0.5, eps: 1.0, ..Default::default() });
        let mut p = [1.0];
        opt.step(&mut p, &[2.0]);
        let delta = 2.0 / 3f64.sqrt();
        assert_all_close(&p, &[1.0 - delta], 1e-15);
        let u = 0.5 * delta * delta;
        let state = opt.state();
        assert_eq!(state.buffers[0].0, "square_avg");
        assert_all_close(&state.buffers[0].1, &[2.0], 1e-15);
        assert_eq!(state.buffers[1].0, "acc_delta");
        assert_all_close(&state.buffers[1].1, &[u], 1e-15);
        // g = 0 with λ = 0: nothing moves, the averages decay.
        opt.step(&mut p, &[0.0]);
        assert_all_close(&p, &[1.0 - delta], 1e-15);
        assert_all_close(&opt.state().buffers[0].1, &[1.0], 1e-15);
        // f32 too.
        let mut opt =
            Adadelta::<f32>::new(AdadeltaConfig { rho: 0.5, eps: 1.0, ..Default::default() })
                .unwrap();
        let mut p = [1.0f32];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[1.0 - delta], 1e-6);
    }

    #[test]
    fn weight_decay_is_added_to_the_gradient() {
        // g = 0 + 0.5 · 2 = 1; ρ = 0, ε = 1: v = 1, Δ = 1 / √2, θ = 2 − 0.1 Δ.
        let config = AdadeltaConfig { lr: 0.1, rho: 0.0, eps: 1.0, weight_decay: 0.5 };
        let mut p = [2.0];
        adadelta(config).step(&mut p, &[0.0]);
        assert_all_close(&p, &[2.0 - 0.1 / 2f64.sqrt()], 1e-15);
    }

    #[test]
    fn learning_rate_can_change() {
        let mut opt = Adadelta::<f64>::with_lr(0.1).unwrap();
        assert_eq!(opt.learning_rate(), 0.1);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.learning_rate(), 0.5);
        assert_eq!(opt.config().lr, 0.5);
        assert_eq!(opt.name(), "adadelta");
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(
            AdadeltaConfig::default(),
            AdadeltaConfig { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0 }
        );
    }

    #[test]
    fn invalid_configurations_are_errors() {
        let err = |config: AdadeltaConfig| Adadelta::<f64>::new(config).unwrap_err();
        let base = AdadeltaConfig::default();
        assert_eq!(err(AdadeltaConfig { lr: -1.0, ..base }), ConfigError::LearningRate(-1.0));
        assert_eq!(err(AdadeltaConfig { rho: 1.1, ..base }), ConfigError::Rho(1.1));
        assert_eq!(err(AdadeltaConfig { rho: -0.1, ..base }), ConfigError::Rho(-0.1));
        assert_eq!(err(AdadeltaConfig { eps: -1.0, ..base }), ConfigError::Epsilon(-1.0));
        assert_eq!(
            err(AdadeltaConfig { weight_decay: -1.0, ..base }),
            ConfigError::WeightDecay(-1.0)
        );
        // The ends of [0, 1] are valid, as in PyTorch.
        assert!(Adadelta::<f64>::new(AdadeltaConfig { rho: 0.0, ..base }).is_ok());
        assert!(Adadelta::<f64>::new(AdadeltaConfig { rho: 1.0, ..base }).is_ok());
        assert_eq!(
            alloc::format!("{}", ConfigError::Rho(1.1)),
            "invalid rho 1.1; it must be in [0, 1]"
        );
    }

    #[test]
    fn state_round_trips() {
        assert_resumes(|| adadelta(AdadeltaConfig::default()));
        assert_resumes(|| {
            adadelta(AdadeltaConfig { rho: 0.8, weight_decay: 0.1, ..Default::default() })
        });
    }

    #[test]
    fn bad_states_are_rejected() {
        assert_rejects_bad_states(
            || adadelta(AdadeltaConfig::default()),
            &["square_avg", "acc_delta"],
        );
    }

    #[test]
    #[should_panic(expected = "adadelta: 2 parameters but 3 gradients")]
    fn mismatched_lengths_panic() {
        Adadelta::<f64>::with_lr(0.1).unwrap().step(&mut [0.0; 2], &[0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "adadelta: stepping 3 parameters with state for 2")]
    fn state_of_another_size_panics() {
        let mut opt = Adadelta::<f64>::with_lr(0.1).unwrap();
        opt.step(&mut [0.0; 2], &[1.0; 2]);
        opt.step(&mut [0.0; 3], &[1.0; 3]);
    }

    /// The Adadelta trajectories of PyTorch in the shared fixtures.
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch_trajectories() {
        use alloc::boxed::Box;

        use crate::optim::test_support::{check_pytorch_cases, number};

        check_pytorch_cases("Adadelta", &["adadelta", "adadelta_rho"], |name, kwargs| {
            let mut c = AdadeltaConfig::default();
            for (key, value) in kwargs {
                let v = number(name, key, value);
                match key.as_str() {
                    "lr" => c.lr = v,
                    "rho" => c.rho = v,
                    "eps" => c.eps = v,
                    "weight_decay" => c.weight_decay = v,
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            Box::new(adadelta(c))
        });
    }
}
