use alloc::vec::Vec;

use alloc::string::String;
use alloc::vec;

use super::{
    ConfigError, Grads, Optimizer, OptimizerState, StateError, check_lengths, check_state,
    non_negative,
};
use crate::Float;
use crate::aligned::AlignedVec;
use crate::gemm::wide;

/// Settings of [`Sgd`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate `γ` (default 0.001).
    pub lr: f64,
    /// Momentum factor `μ` (default 0: plain SGD).
    pub momentum: f64,
    /// Dampening `τ` of the momentum (default 0).
    pub dampening: f64,
    /// Nesterov momentum (default off; needs `momentum > 0` and `dampening = 0`).
    pub nesterov: bool,
    /// L2 penalty `λ` added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, nesterov: false, weight_decay: 0.0 }
    }
}

/// Stochastic gradient descent, step for step as `torch.optim.SGD`.
///
/// For each parameter `θ` with gradient `g`, at step `t`:
///
/// ```text
/// g ← g + λ θ                          (weight decay, if λ ≠ 0)
/// b ← g                 at t = 1       (momentum buffer, if μ ≠ 0)
/// b ← μ b + (1 − τ) g   after
/// g ← g + μ b  (Nesterov)  or  g ← b
/// θ ← θ − γ g
/// ```
///
/// A momentum buffer below the smallest normal number of `T` is stored as
/// zero of the same sign, as [`Adam`](crate::Adam)'s moments are (it
/// decays there wherever gradients stay zero, and subnormal arithmetic is
/// slow on x86).
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    config: SgdConfig,
    momentum: AlignedVec<T>,
    steps: u64,
}

impl<T: Float> Sgd<T> {
    /// An optimizer with these settings, checked as PyTorch checks them.
    pub fn new(config: SgdConfig) -> Result<Self, ConfigError> {
        non_negative(config.lr, ConfigError::LearningRate)?;
        non_negative(config.momentum, ConfigError::Momentum)?;
        non_negative(config.weight_decay, ConfigError::WeightDecay)?;
        if !config.dampening.is_finite() {
            return Err(ConfigError::Dampening(config.dampening));
        }
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(ConfigError::Nesterov);
        }
        Ok(Sgd { config, momentum: AlignedVec::default(), steps: 0 })
    }

    /// Plain SGD with learning rate `lr`.
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(SgdConfig { lr, ..SgdConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// The momentum buffer, in the flat parameter layout (empty before the
    /// first step, or without momentum).
    pub fn momentum_buffer(&self) -> &[T] {
        self.momentum.as_slice()
    }
}

/// The scalars of a step with momentum.
#[derive(Clone, Copy)]
struct Scalars<T> {
    lr: T,
    wd: T,
    mu: T,
    keep: T,
}

/// A step with momentum, `torch.optim.SGD`'s arithmetic, its cases chosen
/// at compile time so that the loop has no branch and vectorises.
#[inline(always)]
fn momentum_step<T: Float, const DECAY: bool, const FIRST: bool, const NESTEROV: bool>(
    s: Scalars<T>,
    params: &mut [T],
    grads: &[T],
    momentum: &mut [T],
) {
    for ((p, &g), b) in params.iter_mut().zip(grads).zip(momentum) {
        let g = if DECAY { g + s.wd * *p } else { g };
        *b = if FIRST { g } else { s.mu * *b + s.keep * g }.flush_subnormal();
        let step = if NESTEROV { g + s.mu * *b } else { *b };
        *p -= s.lr * step;
    }
}

impl<T: Float> Sgd<T> {
    /// One step, leaving the gradients or zeroing each block once stepped.
    fn run(&mut self, params: &mut [T], grads: Grads<'_, T>) {
        check_lengths("sgd", params, grads.as_slice());
        self.steps += 1;
        let c = &self.config;
        let lr = T::of_f64(c.lr);
        let wd = T::of_f64(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        if c.momentum == 0.0 {
            // A loop per case, without branches inside, so that it vectorises.
            let pass = |params: &mut [T], grads: &[T]| {
                wide(|| {
                    if decay {
                        for (p, &g) in params.iter_mut().zip(grads) {
                            *p -= lr * (g + wd * *p);
                        }
                    } else {
                        for (p, &g) in params.iter_mut().zip(grads) {
                            *p -= lr * g;
                        }
                    }
                })
            };
            grads.for_each_piece(params, &|p, g| pass(p, g));
            return;
        }
        let mu = T::of_f64(c.momentum);
        let keep = T::of_f64(1.0 - c.dampening);
        let first = self.momentum.is_empty();
        if first {
            self.momentum.resize(params.len());
        }
        check_state("sgd", params, self.momentum.len());
        let s = Scalars { lr, wd, mu, keep };
        let nesterov = c.nesterov;
        let momentum = self.momentum.as_mut_slice();
        // Each case is called directly inside `wide`, not through a function
        // pointer, so that it is compiled for AVX-512 there.
        let pass = |p: &mut [T], g: &[T], b: &mut [T]| {
            wide(|| match (decay, first, nesterov) {
                (false, false, false) => momentum_step::<T, false, false, false>(s, p, g, b),
                (false, false, true) => momentum_step::<T, false, false, true>(s, p, g, b),
                (false, true, false) => momentum_step::<T, false, true, false>(s, p, g, b),
                (false, true, true) => momentum_step::<T, false, true, true>(s, p, g, b),
                (true, false, false) => momentum_step::<T, true, false, false>(s, p, g, b),
                (true, false, true) => momentum_step::<T, true, false, true>(s, p, g, b),
                (true, true, false) => momentum_step::<T, true, true, false>(s, p, g, b),
                (true, true, true) => momentum_step::<T, true, true, true>(s, p, g, b),
            });
        };
        grads.for_each_piece((params, momentum), &|(p, b), g| pass(p, g, b));
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        self.run(params, Grads::Keep(grads));
    }

    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        self.run(params, Grads::Zero(grads));
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "sgd"
    }

    fn state(&self) -> OptimizerState<T> {
        let buffers = if self.momentum.is_empty() {
            Vec::new()
        } else {
            vec![(String::from("momentum_buffer"), self.momentum.as_slice().to_vec())]
        };
        OptimizerState { steps: self.steps, buffers }
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        let mut momentum = AlignedVec::default();
        for (name, values) in state.buffers {
            if name != "momentum_buffer" {
                return Err(StateError::UnknownBuffer { optimizer: "sgd", buffer: name });
            }
            momentum = AlignedVec::from_slice(&values);
        }
        self.momentum = momentum;
        self.steps = state.steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "std")]
    use alloc::vec::Vec;

    use super::*;
    use crate::testing::assert_all_close;

    fn sgd(config: SgdConfig) -> Sgd<f64> {
        Sgd::new(config).expect("valid configuration")
    }

    #[test]
    fn plain_step_by_hand() {
        // θ − γ g: [1, −2] − 0.1 · [0.5, −1] = [0.95, −1.9].
        let mut opt = Sgd::<f64>::with_lr(0.1).unwrap();
        let mut p = [1.0, -2.0];
        opt.step(&mut p, &[0.5, -1.0]);
        assert_all_close(&p, &[0.95, -1.9], 1e-15);
        assert!(opt.momentum_buffer().is_empty());
        // f32 too.
        let mut opt = Sgd::<f32>::with_lr(0.1).unwrap();
        let mut p = [1.0f32, -2.0];
        opt.step(&mut p, &[0.5, -1.0]);
        assert_all_close(&p, &[0.95, -1.9], 1e-7);
    }

    #[test]
    fn weight_decay_without_momentum_by_hand() {
        // g + λθ = [0.5 + 0.1, 0.5 − 0.2] = [0.6, 0.3]; θ − 0.1 g = [0.94, −2.03].
        let mut opt = sgd(SgdConfig { lr: 0.1, weight_decay: 0.1, ..SgdConfig::default() });
        let mut p = [1.0, -2.0];
        opt.step(&mut p, &[0.5, 0.5]);
        assert_all_close(&p, &[0.94, -2.03], 1e-15);
    }

    #[test]
    fn momentum_by_hand() {
        // b₁ = g₁ = 1, θ = 1 − 0.1 = 0.9; b₂ = 0.9 · 1 + (1 − 0.5) · 2 = 1.9, θ = 0.9 − 0.19 = 0.71.
        let mut opt =
            sgd(SgdConfig { lr: 0.1, momentum: 0.9, dampening: 0.5, ..SgdConfig::default() });
        let mut p = [1.0];
        opt.step(&mut p, &[1.0]);
        assert_all_close(&p, &[0.9], 1e-15);
        assert_eq!(opt.momentum_buffer(), [1.0]);
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[0.71], 1e-15);
        assert_all_close(opt.momentum_buffer(), &[1.9], 1e-15);
        // Nesterov: b₁ = 1, step g + μ b = 1.9, θ = 1 − 0.19 = 0.81.
        let mut opt =
            sgd(SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() });
        let mut p = [1.0];
        opt.step(&mut p, &[1.0]);
        assert_all_close(&p, &[0.81], 1e-15);
    }

    #[test]
    fn learning_rate_can_change() {
        let mut opt = Sgd::<f64>::with_lr(0.1).unwrap();
        assert_eq!(opt.learning_rate(), 0.1);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.learning_rate(), 0.5);
        assert_eq!(opt.config().lr, 0.5);
        let mut p = [1.0];
        opt.step(&mut p, &[1.0]);
        assert_eq!(p, [0.5]);
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(
            SgdConfig::default(),
            SgdConfig {
                lr: 1e-3,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0
            }
        );
    }

    #[test]
    fn invalid_configurations_are_errors() {
        let err = |config: SgdConfig| Sgd::<f64>::new(config).unwrap_err();
        let base = SgdConfig::default();
        assert_eq!(err(SgdConfig { lr: -0.1, ..base }), ConfigError::LearningRate(-0.1));
        assert!(
            matches!(err(SgdConfig { lr: f64::NAN, ..base }), ConfigError::LearningRate(v) if v.is_nan())
        );
        assert_eq!(
            err(SgdConfig { lr: f64::INFINITY, ..base }),
            ConfigError::LearningRate(f64::INFINITY)
        );
        assert_eq!(err(SgdConfig { momentum: -0.5, ..base }), ConfigError::Momentum(-0.5));
        assert_eq!(err(SgdConfig { weight_decay: -1e-4, ..base }), ConfigError::WeightDecay(-1e-4));
        assert_eq!(
            err(SgdConfig { dampening: f64::INFINITY, ..base }),
            ConfigError::Dampening(f64::INFINITY)
        );
        // Nesterov needs momentum and no dampening.
        assert_eq!(err(SgdConfig { nesterov: true, ..base }), ConfigError::Nesterov);
        assert_eq!(
            err(SgdConfig { nesterov: true, momentum: 0.9, dampening: 0.1, ..base }),
            ConfigError::Nesterov
        );
        assert!(Sgd::<f64>::with_lr(-1.0).is_err());
        // Edge cases that are valid, as in PyTorch.
        assert!(Sgd::<f64>::with_lr(0.0).is_ok());
        assert!(Sgd::<f64>::new(SgdConfig { nesterov: true, momentum: 0.9, ..base }).is_ok());
        assert!(Sgd::<f64>::new(SgdConfig { dampening: -0.5, momentum: 0.9, ..base }).is_ok());
    }

    #[test]
    #[should_panic(expected = "sgd: 2 parameters but 3 gradients")]
    fn mismatched_lengths_panic() {
        Sgd::<f64>::with_lr(0.1).unwrap().step(&mut [0.0; 2], &[0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "sgd: stepping 3 parameters with state for 2")]
    fn state_of_another_size_panics() {
        let mut opt = sgd(SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() });
        opt.step(&mut [0.0; 2], &[1.0; 2]);
        opt.step(&mut [0.0; 3], &[1.0; 3]);
    }

    #[cfg(feature = "std")]
    fn floats(v: &serde_json::Value) -> Vec<f64> {
        v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
    }

    /// The five SGD trajectories of `torch.optim.SGD` in the shared fixtures:
    /// 10 steps from `params0` with gradients `grads[t]`, each step's result
    /// within 10⁻⁹ relatively (10⁻¹² absolutely near 0).
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch_trajectories() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/optim.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            std::eprintln!("skipping: {path} is absent");
            return;
        };
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let params0 = floats(&fixture["params0"]);
        let grads: Vec<Vec<f64>> =
            fixture["grads"].as_array().unwrap().iter().map(floats).collect();
        assert_eq!(grads.len(), 10);
        let cases = fixture["cases"].as_object().unwrap();
        let names =
            ["sgd", "sgd_momentum", "sgd_momentum_dampening", "sgd_nesterov", "sgd_weight_decay"];
        for name in names {
            let case = &cases[name];
            assert_eq!(case["optimizer"], "torch.optim.SGD");
            let kwargs = case["kwargs"].as_object().unwrap();
            let mut config = SgdConfig::default();
            for (key, value) in kwargs {
                match key.as_str() {
                    "lr" => config.lr = value.as_f64().unwrap(),
                    "momentum" => config.momentum = value.as_f64().unwrap(),
                    "dampening" => config.dampening = value.as_f64().unwrap(),
                    "weight_decay" => config.weight_decay = value.as_f64().unwrap(),
                    "nesterov" => config.nesterov = value.as_bool().unwrap(),
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            let mut opt = sgd(config);
            let mut params = params0.clone();
            let expected: Vec<Vec<f64>> =
                case["params_after_step"].as_array().unwrap().iter().map(floats).collect();
            assert_eq!(expected.len(), 10);
            for (t, (g, want)) in grads.iter().zip(&expected).enumerate() {
                opt.step(&mut params, g);
                for (i, (&got, &want)) in params.iter().zip(want).enumerate() {
                    let err = (got - want).abs();
                    assert!(
                        err <= 1e-9 * want.abs() || err <= 1e-12,
                        "{name} ({config:?}), step {t}, parameter {i}: got {got:e}, PyTorch {want:e}"
                    );
                }
            }
        }
        // Every SGD case of the file was checked.
        let sgd_cases = cases.values().filter(|c| c["optimizer"] == "torch.optim.SGD").count();
        assert_eq!(sgd_cases, names.len());
    }
}
