use alloc::vec::Vec;

use super::{ConfigError, Optimizer, non_negative};
use crate::Float;

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
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    config: SgdConfig,
    momentum: Vec<T>,
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
        Ok(Sgd { config, momentum: Vec::new() })
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
        &self.momentum
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "sgd: {} parameters but {} gradients",
            params.len(),
            grads.len()
        );
        let c = &self.config;
        let lr = T::of_f64(c.lr);
        let wd = T::of_f64(c.weight_decay);
        if c.momentum == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                let g = if c.weight_decay != 0.0 { g + wd * *p } else { g };
                *p -= lr * g;
            }
            return;
        }
        let mu = T::of_f64(c.momentum);
        let keep = T::of_f64(1.0 - c.dampening);
        let first = self.momentum.is_empty();
        if first {
            self.momentum.resize(params.len(), T::zero());
        }
        assert_eq!(
            self.momentum.len(),
            params.len(),
            "sgd: stepping {} parameters with state for {}",
            params.len(),
            self.momentum.len()
        );
        for ((p, &g), b) in params.iter_mut().zip(grads).zip(&mut self.momentum) {
            let g = if c.weight_decay != 0.0 { g + wd * *p } else { g };
            *b = if first { g } else { mu * *b + keep * g };
            let step = if c.nesterov { g + mu * *b } else { *b };
            *p -= lr * step;
        }
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}
