use alloc::string::String;
use alloc::vec::Vec;

use super::{
    ConfigError, Optimizer, OptimizerState, StateError, check_lengths, check_state, lerp,
    non_negative, take_buffers, unit_closed,
};
use crate::Float;

/// Settings of [`RmsProp`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate `γ` (default 0.01).
    pub lr: f64,
    /// Smoothing constant `α` of the running averages, in `[0, 1]` (default 0.99).
    pub alpha: f64,
    /// Term `ε` added to the denominator for numerical stability (default 10⁻⁸).
    pub eps: f64,
    /// L2 penalty `λ` added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor `μ` (default 0: none).
    pub momentum: f64,
    /// Divide by an estimate of the gradient's variance rather than of its
    /// second moment (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

/// RMSprop, step for step as `torch.optim.RMSprop`.
///
/// For each parameter `θ` with gradient `g`, with `v`, `ḡ` and `b` starting
/// at 0:
///
/// ```text
/// g ← g + λ θ                        (weight decay, if λ ≠ 0)
/// v ← α v + (1 − α) g²
/// ḡ ← ḡ + (1 − α)(g − ḡ)             (centered)
/// d ← √(v − ḡ²) + ε   (centered)  or  d ← √v + ε
/// b ← μ b + g / d,  θ ← θ − γ b      (if μ > 0)
/// θ ← θ − γ g / d                    (otherwise)
/// ```
///
/// Its state buffers are PyTorch's: `square_avg` (`v`), `momentum_buffer`
/// (`b`, with momentum) and `grad_avg` (`ḡ`, when centered).
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    config: RmsPropConfig,
    square_avg: Vec<T>,
    momentum_buffer: Vec<T>,
    grad_avg: Vec<T>,
    steps: u64,
}

impl<T: Float> RmsProp<T> {
    /// An optimizer with these settings, checked as PyTorch checks them (and
    /// `α ≤ 1`, which PyTorch does not check: above it the average of
    /// squares can turn negative).
    pub fn new(config: RmsPropConfig) -> Result<Self, ConfigError> {
        non_negative(config.lr, ConfigError::LearningRate)?;
        non_negative(config.eps, ConfigError::Epsilon)?;
        non_negative(config.momentum, ConfigError::Momentum)?;
        non_negative(config.weight_decay, ConfigError::WeightDecay)?;
        unit_closed(config.alpha, ConfigError::Alpha)?;
        Ok(RmsProp {
            config,
            square_avg: Vec::new(),
            momentum_buffer: Vec::new(),
            grad_avg: Vec::new(),
            steps: 0,
        })
    }

    /// RMSprop with learning rate `lr` and PyTorch's other defaults.
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(RmsPropConfig { lr, ..RmsPropConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    /// The names of the buffers these settings keep.
    fn buffer_names(&self) -> &'static [&'static str] {
        match (self.config.momentum > 0.0, self.config.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        check_lengths("rmsprop", params, grads);
        let c = self.config;
        let with_momentum = c.momentum > 0.0;
        if self.square_avg.is_empty() {
            self.square_avg.resize(params.len(), T::zero());
            if with_momentum {
                self.momentum_buffer.resize(params.len(), T::zero());
            }
            if c.centered {
                self.grad_avg.resize(params.len(), T::zero());
            }
        }
        check_state("rmsprop", params, self.square_avg.len());
        self.steps += 1;
        let neg_lr = T::of_f64(-c.lr);
        let wd = T::of_f64(c.weight_decay);
        let alpha = T::of_f64(c.alpha);
        let keep = T::of_f64(1.0 - c.alpha);
        let eps = T::of_f64(c.eps);
        let mu = T::of_f64(c.momentum);
        for (i, (p, &g)) in params.iter_mut().zip(grads).enumerate() {
            let g = if c.weight_decay != 0.0 { g + wd * *p } else { g };
            let v = &mut self.square_avg[i];
            *v = *v * alpha + keep * g * g;
            let root = if c.centered {
                let m = &mut self.grad_avg[i];
                *m = lerp(*m, g, keep);
                (*v - *m * *m).sqrt()
            } else {
                v.sqrt()
            };
            let avg = root + eps;
            if with_momentum {
                let b = &mut self.momentum_buffer[i];
                *b = *b * mu + g / avg;
                *p += neg_lr * *b;
            } else {
                *p += neg_lr * g / avg;
            }
        }
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn state(&self) -> OptimizerState<T> {
        let mut buffers = Vec::new();
        if !self.square_avg.is_empty() {
            for &name in self.buffer_names() {
                let values = match name {
                    "square_avg" => &self.square_avg,
                    "momentum_buffer" => &self.momentum_buffer,
                    _ => &self.grad_avg,
                };
                buffers.push((String::from(name), values.clone()));
            }
        }
        OptimizerState { steps: self.steps, buffers }
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        let steps = state.steps;
        let names = self.buffer_names();
        let buffers = take_buffers("rmsprop", state, names)?;
        self.momentum_buffer = Vec::new();
        self.grad_avg = Vec::new();
        for (&name, values) in names.iter().zip(buffers) {
            match name {
                "square_avg" => self.square_avg = values,
                "momentum_buffer" => self.momentum_buffer = values,
                _ => self.grad_avg = values,
            }
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{assert_rejects_bad_states, assert_resumes};
    use crate::testing::assert_all_close;

    fn rmsprop(config: RmsPropConfig) -> RmsProp<f64> {
        RmsProp::new(config).expect("valid configuration")
    }

    #[test]
    fn steps_by_hand() {
        // α = 0.5, γ = 0.1, ε = 0: v = 0.5 · 4 = 2, θ = 1 − 0.1 · 2 / √2.
        let mut opt =
            rmsprop(RmsPropConfig { lr: 0.1, alpha: 0.5, eps: 0.0, ..Default::default() });
        let mut p = [1.0];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[1.0 - 0.1 * 2.0 / 2f64.sqrt()], 1e-15);
        // v = 0.5 · 2 + 0.5 · 1 = 1.5, θ −= 0.1 · 1 / √1.5.
        opt.step(&mut p, &[1.0]);
        assert_all_close(&p, &[1.0 - 0.1 * 2f64.sqrt() - 0.1 / 1.5f64.sqrt()], 1e-15);
        assert_eq!(opt.state().buffers.len(), 1);
        // f32 too.
        let mut opt = RmsProp::<f32>::new(RmsPropConfig {
            lr: 0.1,
            alpha: 0.5,
            eps: 0.0,
            ..Default::default()
        })
        .unwrap();
        let mut p = [1.0f32];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[1.0 - 0.1 * 2.0 / 2f64.sqrt()], 1e-7);
    }

    #[test]
    fn momentum_and_centering_by_hand() {
        // α = 0.5, μ = 0.5, γ = 1, ε = 0, centered; g = 2 then 2:
        // v = 2, ḡ = 1, d = √(2 − 1) = 1, b = 2, θ = −2;
        // v = 1 + 2 = 3, ḡ = 1.5, d = √(3 − 2.25) = √0.75, b = 1 + 2 / √0.75.
        let config = RmsPropConfig {
            lr: 1.0,
            alpha: 0.5,
            eps: 0.0,
            momentum: 0.5,
            centered: true,
            ..Default::default()
        };
        let mut opt = rmsprop(config);
        let mut p = [0.0];
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[-2.0], 1e-15);
        opt.step(&mut p, &[2.0]);
        assert_all_close(&p, &[-2.0 - (1.0 + 2.0 / 0.75f64.sqrt())], 1e-15);
        let state = opt.state();
        let names: Vec<&str> = state.buffers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["square_avg", "momentum_buffer", "grad_avg"]);
        assert_all_close(&state.buffers[2].1, &[1.5], 1e-15);
    }

    #[test]
    fn weight_decay_is_added_to_the_gradient() {
        // g = 0 + 0.5 · 2 = 1; α = 0: v = 1, θ = 2 − 0.1.
        let config = RmsPropConfig {
            lr: 0.1,
            alpha: 0.0,
            eps: 0.0,
            weight_decay: 0.5,
            ..Default::default()
        };
        let mut p = [2.0];
        rmsprop(config).step(&mut p, &[0.0]);
        assert_all_close(&p, &[1.9], 1e-15);
    }

    #[test]
    fn learning_rate_can_change() {
        let mut opt = RmsProp::<f64>::with_lr(0.1).unwrap();
        assert_eq!(opt.learning_rate(), 0.1);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.learning_rate(), 0.5);
        assert_eq!(opt.config().lr, 0.5);
        assert_eq!(opt.name(), "rmsprop");
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(
            RmsPropConfig::default(),
            RmsPropConfig {
                lr: 1e-2,
                alpha: 0.99,
                eps: 1e-8,
                weight_decay: 0.0,
                momentum: 0.0,
                centered: false
            }
        );
    }

    #[test]
    fn invalid_configurations_are_errors() {
        let err = |config: RmsPropConfig| RmsProp::<f64>::new(config).unwrap_err();
        let base = RmsPropConfig::default();
        assert_eq!(err(RmsPropConfig { lr: -0.1, ..base }), ConfigError::LearningRate(-0.1));
        assert_eq!(err(RmsPropConfig { eps: -0.1, ..base }), ConfigError::Epsilon(-0.1));
        assert_eq!(err(RmsPropConfig { momentum: -0.1, ..base }), ConfigError::Momentum(-0.1));
        assert_eq!(
            err(RmsPropConfig { weight_decay: -0.1, ..base }),
            ConfigError::WeightDecay(-0.1)
        );
        assert_eq!(err(RmsPropConfig { alpha: -0.1, ..base }), ConfigError::Alpha(-0.1));
        assert_eq!(err(RmsPropConfig { alpha: 1.5, ..base }), ConfigError::Alpha(1.5));
        assert!(RmsProp::<f64>::new(RmsPropConfig { alpha: 1.0, ..base }).is_ok());
        assert!(RmsProp::<f64>::new(RmsPropConfig { alpha: 0.0, ..base }).is_ok());
        assert_eq!(
            alloc::format!("{}", ConfigError::Alpha(1.5)),
            "invalid alpha 1.5; it must be in [0, 1]"
        );
    }

    #[test]
    fn state_round_trips() {
        assert_resumes(|| rmsprop(RmsPropConfig::default()));
        assert_resumes(|| rmsprop(RmsPropConfig { momentum: 0.9, ..Default::default() }));
        assert_resumes(|| {
            rmsprop(RmsPropConfig {
                momentum: 0.9,
                centered: true,
                weight_decay: 0.1,
                ..Default::default()
            })
        });
        assert_resumes(|| rmsprop(RmsPropConfig { centered: true, ..Default::default() }));
    }

    #[test]
    fn bad_states_are_rejected() {
        let base = RmsPropConfig::default();
        assert_rejects_bad_states(|| rmsprop(base), &["square_avg"]);
        assert_rejects_bad_states(
            || rmsprop(RmsPropConfig { momentum: 0.9, ..base }),
            &["square_avg", "momentum_buffer"],
        );
        assert_rejects_bad_states(
            || rmsprop(RmsPropConfig { centered: true, ..base }),
            &["square_avg", "grad_avg"],
        );
        assert_rejects_bad_states(
            || rmsprop(RmsPropConfig { momentum: 0.9, centered: true, ..base }),
            &["square_avg", "momentum_buffer", "grad_avg"],
        );
    }

    #[test]
    #[should_panic(expected = "rmsprop: 2 parameters but 3 gradients")]
    fn mismatched_lengths_panic() {
        RmsProp::<f64>::with_lr(0.1).unwrap().step(&mut [0.0; 2], &[0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "rmsprop: stepping 3 parameters with state for 2")]
    fn state_of_another_size_panics() {
        let mut opt = RmsProp::<f64>::with_lr(0.1).unwrap();
        opt.step(&mut [0.0; 2], &[1.0; 2]);
        opt.step(&mut [0.0; 3], &[1.0; 3]);
    }

    /// The RMSprop trajectories of PyTorch in the shared fixtures.
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch_trajectories() {
        use alloc::boxed::Box;

        use crate::optim::test_support::{check_pytorch_cases, number};

        let names = ["rmsprop", "rmsprop_momentum", "rmsprop_centered"];
        check_pytorch_cases("RMSprop", &names, |name, kwargs| {
            let mut c = RmsPropConfig::default();
            for (key, value) in kwargs {
                match key.as_str() {
                    "lr" => c.lr = number(name, key, value),
                    "alpha" => c.alpha = number(name, key, value),
                    "eps" => c.eps = number(name, key, value),
                    "weight_decay" => c.weight_decay = number(name, key, value),
                    "momentum" => c.momentum = number(name, key, value),
                    "centered" => c.centered = value.as_bool().unwrap(),
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            Box::new(rmsprop(c))
        });
    }
}
