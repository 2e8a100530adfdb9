use alloc::string::String;
use alloc::vec::Vec;

use nalgebra::ComplexField;

use super::{
    ConfigError, Grads, Optimizer, OptimizerState, StateError, check_lengths, check_state, lerp,
    non_negative, take_buffers, unit_open, zero,
};
use crate::Float;
use crate::aligned::AlignedVec;
use crate::gemm::wide;

/// Settings of [`Adam`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate `γ` (default 0.001).
    pub lr: f64,
    /// Decay rates `(β₁, β₂)` of the first and second moment estimates, each
    /// in `[0, 1)` (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Term `ε` added to the denominator for numerical stability (default 10⁻⁸).
    pub eps: f64,
    /// L2 penalty `λ` added to the gradient (default 0).
    pub weight_decay: f64,
    /// The AMSGrad variant: divide by the largest second moment so far
    /// (default off).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, amsgrad: false }
    }
}

/// Settings of [`AdamW`], with PyTorch's defaults: those of [`AdamConfig`]
/// but for the weight decay, which is decoupled and 0.01 by default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate `γ` (default 0.001).
    pub lr: f64,
    /// Decay rates `(β₁, β₂)` of the first and second moment estimates, each
    /// in `[0, 1)` (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Term `ε` added to the denominator for numerical stability (default 10⁻⁸).
    pub eps: f64,
    /// Decoupled weight decay `λ`: parameters shrink by the factor `1 − γλ`
    /// each step (default 0.01).
    pub weight_decay: f64,
    /// The AMSGrad variant: divide by the largest second moment so far
    /// (default off).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 1e-2, amsgrad: false }
    }
}

impl From<AdamWConfig> for AdamConfig {
    fn from(c: AdamWConfig) -> Self {
        AdamConfig {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
        }
    }
}

/// Is `x` NaN?
#[allow(clippy::eq_op)]
fn is_nan<T: Float>(x: T) -> bool {
    x != x
}

/// Checks an Adam or AdamW configuration as PyTorch checks it.
fn validate(c: &AdamConfig) -> Result<(), ConfigError> {
    non_negative(c.lr, ConfigError::LearningRate)?;
    non_negative(c.eps, ConfigError::Epsilon)?;
    unit_open(c.betas.0, ConfigError::Beta1)?;
    unit_open(c.betas.1, ConfigError::Beta2)?;
    non_negative(c.weight_decay, ConfigError::WeightDecay)
}

/// The scalars of one Adam step.
#[derive(Clone, Copy)]
struct AdamScalars<T> {
    w1: T,
    b2: T,
    w2: T,
    step_size: T,
    bias_correction2_sqrt: T,
    eps: T,
    wd: T,
    shrink: T,
}

const NO_DECAY: u8 = 0;
const L2_DECAY: u8 = 1;
const DECOUPLED_DECAY: u8 = 2;

/// One Adam step without AMSGrad over a piece of the parameters, in
/// `torch.optim.Adam`'s (or `AdamW`'s) order of operations; the kind of
/// weight decay is chosen at compile time, so that the loop has no branch.
#[inline(always)]
fn adam_pass<T: Float, const DECAY: u8>(
    s: AdamScalars<T>,
    params: &mut [T],
    grads: &[T],
    exp_avg: &mut [T],
    exp_avg_sq: &mut [T],
) {
    let moments = exp_avg.iter_mut().zip(exp_avg_sq.iter_mut());
    for ((p, &g), (m, v)) in params.iter_mut().zip(grads).zip(moments) {
        let g = match DECAY {
            L2_DECAY => g + s.wd * *p,
            DECOUPLED_DECAY => {
                *p *= s.shrink;
                g
            }
            _ => g,
        };
        *m = lerp(*m, g, s.w1).flush_subnormal();
        *v = (*v * s.b2 + s.w2 * g * g).flush_subnormal();
        *p += s.step_size * *m / (v.sqrt() / s.bias_correction2_sqrt + s.eps);
    }
}

/// The per-parameter state of Adam and AdamW, and their update.
#[derive(Clone, Debug)]
struct Moments<T> {
    exp_avg: AlignedVec<T>,
    exp_avg_sq: AlignedVec<T>,
    max_exp_avg_sq: AlignedVec<T>,
    steps: u64,
}

impl<T: Float> Moments<T> {
    fn new() -> Self {
        Moments {
            exp_avg: AlignedVec::default(),
            exp_avg_sq: AlignedVec::default(),
            max_exp_avg_sq: AlignedVec::default(),
            steps: 0,
        }
    }

    /// One step of `torch.optim.Adam` (`decoupled` false) or `AdamW` (true).
    fn step(
        &mut self,
        name: &str,
        c: &AdamConfig,
        decoupled: bool,
        params: &mut [T],
        grads: Grads<'_, T>,
    ) {
        check_lengths(name, params, grads.as_slice());
        if self.exp_avg.is_empty() {
            self.exp_avg.resize(params.len());
            self.exp_avg_sq.resize(params.len());
            if c.amsgrad {
                self.max_exp_avg_sq.resize(params.len());
            }
        }
        check_state(name, params, self.exp_avg.len());
        self.steps += 1;
        // The scalars in f64, as PyTorch computes them in Python.
        let step = self.steps as f64;
        let (beta1, beta2) = c.betas;
        let bias_correction1 = 1.0 - ComplexField::powf(beta1, step);
        let bias_correction2 = 1.0 - ComplexField::powf(beta2, step);
        let step_size = T::of_f64(-(c.lr / bias_correction1));
        let bias_correction2_sqrt = T::of_f64(ComplexField::sqrt(bias_correction2));
        let shrink = T::of_f64(1.0 - c.lr * c.weight_decay);
        let wd = T::of_f64(c.weight_decay);
        let w1 = T::of_f64(1.0 - beta1);
        let b2 = T::of_f64(beta2);
        let w2 = T::of_f64(1.0 - beta2);
        let eps = T::of_f64(c.eps);
        if !c.amsgrad {
            // Without AMSGrad, a branch-free pass per kind of weight decay
            // (none, L2 as in `Adam`, decoupled as in `AdamW`), which
            // vectorises and is shared between the cores.
            // The pass is called directly inside `wide`, not through a
            // function pointer, so that it is compiled for AVX-512 there.
            let s = AdamScalars { w1, b2, w2, step_size, bias_correction2_sqrt, eps, wd, shrink };
            let decay = c.weight_decay != 0.0;
            let pass = |params: &mut [T], grads: &[T], m: &mut [T], v: &mut [T]| {
                wide(|| match (decay, decoupled) {
                    (false, _) => adam_pass::<T, NO_DECAY>(s, params, grads, m, v),
                    (true, false) => adam_pass::<T, L2_DECAY>(s, params, grads, m, v),
                    (true, true) => adam_pass::<T, DECOUPLED_DECAY>(s, params, grads, m, v),
                });
            };
            let state = (params, self.exp_avg.as_mut_slice(), self.exp_avg_sq.as_mut_slice());
            grads.for_each_piece(state, &|(p, m, v), g| pass(p, g, m, v));
            return;
        }
        let (exp_avg, exp_avg_sq) = (self.exp_avg.as_mut_slice(), self.exp_avg_sq.as_mut_slice());
        let max_exp_avg_sq = self.max_exp_avg_sq.as_mut_slice();
        for (i, (p, &g)) in params.iter_mut().zip(grads.as_slice()).enumerate() {
            let mut g = g;
            if c.weight_decay != 0.0 {
                if decoupled {
                    *p *= shrink;
                } else {
                    g += wd * *p;
                }
            }
            let m = &mut exp_avg[i];
            *m = lerp(*m, g, w1).flush_subnormal();
            let v = &mut exp_avg_sq[i];
            *v = (*v * b2 + w2 * g * g).flush_subnormal();
            let v = if c.amsgrad {
                let max = &mut max_exp_avg_sq[i];
                // `torch.maximum`: NaN wins.
                if *v > *max || is_nan(*v) {
                    *max = *v;
                }
                *max
            } else {
                *v
            };
            let denom = v.sqrt() / bias_correction2_sqrt + eps;
            *p += step_size * *m / denom;
        }
        if let Grads::Zero(grads) = grads {
            zero(grads);
        }
    }

    fn state(&self, amsgrad: bool) -> OptimizerState<T> {
        let mut buffers = Vec::new();
        if !self.exp_avg.is_empty() {
            buffers.push((String::from("exp_avg"), self.exp_avg.as_slice().to_vec()));
            buffers.push((String::from("exp_avg_sq"), self.exp_avg_sq.as_slice().to_vec()));
            if amsgrad {
                let max = self.max_exp_avg_sq.as_slice().to_vec();
                buffers.push((String::from("max_exp_avg_sq"), max));
            }
        }
        OptimizerState { steps: self.steps, buffers }
    }

    fn load_state(
        &mut self,
        name: &'static str,
        amsgrad: bool,
        state: OptimizerState<T>,
    ) -> Result<(), StateError> {
        let steps = state.steps;
        let names: &[&'static str] = if amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        };
        let mut buffers = take_buffers(name, state, names)?.into_iter();
        let mut next = || AlignedVec::from_slice(&buffers.next().unwrap_or_default());
        self.exp_avg = next();
        self.exp_avg_sq = next();
        self.max_exp_avg_sq = next();
        self.steps = steps;
        Ok(())
    }
}

/// Adam, step for step as `torch.optim.Adam`: adaptive moment estimation
/// with an L2 penalty added to the gradient.
///
/// For each parameter `θ` with gradient `g`, at step `t` (from 1), with the
/// first and second moments `m` and `v` starting at 0:
///
/// ```text
/// g ← g + λ θ                                    (weight decay, if λ ≠ 0)
/// m ← m + (1 − β₁)(g − m)
/// v ← β₂ v + (1 − β₂) g²
/// v̂ ← max(v̂, v)  and use v̂ for v below          (AMSGrad; v̂ starts at 0)
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Its state buffers are PyTorch's: `exp_avg` (`m`), `exp_avg_sq` (`v`) and,
/// with AMSGrad, `max_exp_avg_sq` (`v̂`).
///
/// A moment that falls below the smallest normal number of `T` (about
/// 1.2·10⁻³⁸ for `f32`; a moment decays towards it wherever gradients stay
/// zero, as for pixels that are always blank) is stored as zero of the same
/// sign: arithmetic on subnormal numbers takes a slow path in x86 floating-
/// point units, and PyTorch keeps them, as TensorFlow does not. The
/// parameters are not affected in practice: such a moment moves a weight by
/// less than 10⁻³³, far below a weight's own rounding step. Measured: the
/// parameters of 784-256-128-10 after each of 6 epochs of MNIST at batch 64
/// were bit for bit those of the unflushed step, and an epoch took
/// 0.42–0.43 s against 0.445–0.47 s (rising with the epochs) without.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    config: AdamConfig,
    moments: Moments<T>,
}

impl<T: Float> Adam<T> {
    /// An optimizer with these settings, checked as PyTorch checks them.
    pub fn new(config: AdamConfig) -> Result<Self, ConfigError> {
        validate(&config)?;
        Ok(Adam { config, moments: Moments::new() })
    }

    /// Adam with learning rate `lr` and PyTorch's other defaults.
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(AdamConfig { lr, ..AdamConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        self.moments.step("adam", &self.config, false, params, Grads::Keep(grads));
    }

    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        self.moments.step("adam", &self.config, false, params, Grads::Zero(grads));
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "adam"
    }

    fn state(&self) -> OptimizerState<T> {
        self.moments.state(self.config.amsgrad)
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        self.moments.load_state("adam", self.config.amsgrad, state)
    }
}

/// AdamW, step for step as `torch.optim.AdamW`: [`Adam`] with decoupled
/// weight decay (Loshchilov and Hutter).
///
/// For each parameter `θ` with gradient `g`, at step `t` (from 1), with the
/// first and second moments `m` and `v` starting at 0:
///
/// ```text
/// θ ← θ (1 − γλ)                                 (weight decay)
/// m ← m + (1 − β₁)(g − m)
/// v ← β₂ v + (1 − β₂) g²
/// v̂ ← max(v̂, v)  and use v̂ for v below          (AMSGrad; v̂ starts at 0)
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Its state buffers are PyTorch's: `exp_avg` (`m`), `exp_avg_sq` (`v`) and,
/// with AMSGrad, `max_exp_avg_sq` (`v̂`).
///
/// Moments below the smallest normal number of `T` are stored as zero, as
/// [`Adam`]'s are.
#[derive(Clone, Debug)]
pub struct AdamW<T> {
    config: AdamWConfig,
    moments: Moments<T>,
}

impl<T: Float> AdamW<T> {
    /// An optimizer with these settings, checked as PyTorch checks them.
    pub fn new(config: AdamWConfig) -> Result<Self, ConfigError> {
        validate(&config.into())?;
        Ok(AdamW { config, moments: Moments::new() })
    }

    /// AdamW with learning rate `lr` and PyTorch's other defaults (weight
    /// decay 0.01).
    pub fn with_lr(lr: f64) -> Result<Self, ConfigError> {
        Self::new(AdamWConfig { lr, ..AdamWConfig::default() })
    }

    /// The settings.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for AdamW<T> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        self.moments.step("adamw", &self.config.into(), true, params, Grads::Keep(grads));
    }

    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        self.moments.step("adamw", &self.config.into(), true, params, Grads::Zero(grads));
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn name(&self) -> &'static str {
        "adamw"
    }

    fn state(&self) -> OptimizerState<T> {
        self.moments.state(self.config.amsgrad)
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        self.moments.load_state("adamw", self.config.amsgrad, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{assert_rejects_bad_states, assert_resumes};
    use crate::testing::assert_all_close;

    fn adam(config: AdamConfig) -> Adam<f64> {
        Adam::new(config).expect("valid configuration")
    }

    fn adamw(config: AdamWConfig) -> AdamW<f64> {
        AdamW::new(config).expect("valid configuration")
    }

    #[test]
    fn first_step_moves_by_the_learning_rate() {
        // m = 0.1 g, v = 0.001 g²; m̂ = g, v̂ = g²: θ − γ g / (|g| + ε).
        let mut opt = Adam::<f64>::with_lr(0.1).unwrap();
        let mut p = [1.0, -2.0, 0.5];
        opt.step(&mut p, &[0.5, -4.0, 0.0]);
        let step = |g: f64| 0.1 * g / (g.abs() + 1e-8);
        assert_all_close(&p, &[1.0 - step(0.5), -2.0 - step(-4.0), 0.5], 1e-15);
        let state = opt.state();
        assert_eq!(state.steps, 1);
        assert_eq!(state.buffers[0].0, "exp_avg");
        assert_all_close(&state.buffers[0].1, &[0.05, -0.4, 0.0], 1e-15);
        assert_eq!(state.buffers[1].0, "exp_avg_sq");
        assert_all_close(&state.buffers[1].1, &[0.00025, 0.016, 0.0], 1e-12);
        // f32 too.
        let mut opt = Adam::<f32>::with_lr(0.1).unwrap();
        let mut p = [1.0f32, -2.0];
        opt.step(&mut p, &[0.5, -4.0]);
        assert_all_close(&p, &[0.9, -1.9], 1e-6);
    }

    /// A first moment that decays below `f32`'s smallest normal number is
    /// stored as zero, and the parameters stay those of IEEE
    /// arithmetic without the flush (computed here step by step).
    #[test]
    fn moments_below_normal_are_stored_as_zero() {
        for amsgrad in [false, true] {
            let config = AdamConfig { lr: 1e-3, amsgrad, ..Default::default() };
            let mut opt = Adam::<f32>::new(config).unwrap();
            let mut p = [0.5f32, -0.25, 0.125];
            let (mut rp, mut rm, mut rv) = (p, [0.0f32; 3], [0.0f32; 3]);
            let mut rmax = [0.0f32; 3];
            for t in 1..=800u64 {
                let g = if t == 1 { [1e-3f32, -1e-3, 0.5] } else { [0.0, 0.0, 0.5] };
                opt.step(&mut p, &g);
                let step_size = -(1e-3 / (1.0 - ComplexField::powf(0.9f64, t as f64))) as f32;
                let bc2 = ComplexField::sqrt(1.0 - ComplexField::powf(0.999f64, t as f64)) as f32;
                for i in 0..3 {
                    rm[i] = rm[i] + 0.1f64 as f32 * (g[i] - rm[i]);
                    rv[i] = rv[i] * 0.999f64 as f32 + 0.001f64 as f32 * g[i] * g[i];
                    rmax[i] = rmax[i].max(rv[i]);
                    let v = if amsgrad { rmax[i] } else { rv[i] };
                    rp[i] += step_size * rm[i] / (v.sqrt() / bc2 + 1e-8f64 as f32);
                }
            }
            // Unflushed, the first two moments are subnormal by now.
            assert!(rm[0] > 0.0 && rm[0] < f32::MIN_POSITIVE, "{rm:?}");
            assert!(rm[1] < 0.0 && rm[1] > -f32::MIN_POSITIVE, "{rm:?}");
            let m = &opt.state().buffers[0].1;
            // (A flushed −0 becomes +0 at the next step: −0 + 0.1·(0 − −0).)
            assert!(m[0] == 0.0 && m[1] == 0.0, "amsgrad {amsgrad}: {m:?}");
            assert_eq!(m[2].to_bits(), rm[2].to_bits());
            for i in 0..3 {
                assert_eq!(p[i].to_bits(), rp[i].to_bits(), "amsgrad {amsgrad}, parameter {i}");
            }
        }
    }

    #[test]
    fn second_step_by_hand() {
        // β = (0.5, 0.5), γ = 1, ε = 0, g = 1 then 3:
        // m = 0.5, 1.75; v = 0.5, 4.75; m̂ = 1.75 / 0.75, v̂ = 4.75 / 0.75.
        let mut opt =
            adam(AdamConfig { lr: 1.0, betas: (0.5, 0.5), eps: 0.0, ..Default::default() });
        let mut p = [0.0];
        opt.step(&mut p, &[1.0]);
        assert_all_close(&p, &[-1.0], 1e-15);
        opt.step(&mut p, &[3.0]);
        let update = (1.75 / 0.75) / (4.75f64 / 0.75).sqrt();
        assert_all_close(&p, &[-1.0 - update], 1e-15);
    }

    #[test]
    fn weight_decay_coupled_and_decoupled() {
        // Adam adds λθ to the gradient: g = 0 + 0.5 · 2 = 1, so θ = 2 − γ
        // (but for ε).
        let mut opt = adam(AdamConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() });
        let mut p = [2.0];
        opt.step(&mut p, &[0.0]);
        assert_all_close(&p, &[2.0 - 0.1 / (1.0 + 1e-8)], 1e-15);
        // AdamW shrinks θ first: 2 (1 − 0.1 · 0.5) = 1.9, then a zero gradient
        // moves nothing.
        let mut opt = adamw(AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() });
        let mut p = [2.0];
        opt.step(&mut p, &[0.0]);
        assert_all_close(&p, &[1.9], 1e-15);
        // With a gradient, the two differ.
        let mut a = adam(AdamConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() });
        let mut w = adamw(AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() });
        let (mut p, mut q) = ([2.0], [2.0]);
        a.step(&mut p, &[-1.0]);
        w.step(&mut q, &[-1.0]);
        // Adam: g = −1 + 1 = 0 → no move. AdamW: 1.9 + 0.1.
        assert_all_close(&p, &[2.0], 1e-15);
        assert_all_close(&q, &[2.0], 1e-9);
    }

    #[test]
    fn amsgrad_keeps_the_largest_second_moment() {
        let mut opt = adam(AdamConfig { amsgrad: true, ..Default::default() });
        let mut p = [0.0, 0.0];
        opt.step(&mut p, &[10.0, 1.0]);
        opt.step(&mut p, &[0.0, 1.0]);
        let state = opt.state();
        assert_eq!(state.buffers[2].0, "max_exp_avg_sq");
        let v = &state.buffers[1].1;
        let max = &state.buffers[2].1;
        // v₁ = 0.1, v₂ = 0.0999 for the first: the maximum stays at 0.1.
        assert_all_close(&[max[0]], &[0.1], 1e-12);
        assert!(v[0] < max[0]);
        // Growing for the second: equal to v.
        assert_eq!(v[1], max[1]);
    }

    #[test]
    fn learning_rate_can_change() {
        let mut opt = Adam::<f64>::with_lr(0.1).unwrap();
        assert_eq!(opt.learning_rate(), 0.1);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.learning_rate(), 0.5);
        assert_eq!(opt.config().lr, 0.5);
        let mut p = [1.0];
        opt.step(&mut p, &[1.0]);
        assert_all_close(&p, &[0.5], 1e-7);
        let mut opt = AdamW::<f64>::with_lr(0.1).unwrap();
        opt.set_learning_rate(0.2);
        assert_eq!(opt.learning_rate(), 0.2);
        assert_eq!(opt.config().lr, 0.2);
        assert_eq!(Optimizer::<f64>::name(&opt), "adamw");
        assert_eq!(Optimizer::<f64>::name(&Adam::<f64>::with_lr(0.1).unwrap()), "adam");
    }

    #[test]
    fn defaults_are_pytorchs() {
        assert_eq!(
            AdamConfig::default(),
            AdamConfig {
                lr: 1e-3,
                betas: (0.9, 0.999),
                eps: 1e-8,
                weight_decay: 0.0,
                amsgrad: false
            }
        );
        assert_eq!(
            AdamWConfig::default(),
            AdamWConfig {
                lr: 1e-3,
                betas: (0.9, 0.999),
                eps: 1e-8,
                weight_decay: 1e-2,
                amsgrad: false
            }
        );
    }

    #[test]
    fn invalid_configurations_are_errors() {
        let err = |config: AdamConfig| Adam::<f64>::new(config).unwrap_err();
        let base = AdamConfig::default();
        assert_eq!(err(AdamConfig { lr: -0.1, ..base }), ConfigError::LearningRate(-0.1));
        assert_eq!(err(AdamConfig { eps: -1.0, ..base }), ConfigError::Epsilon(-1.0));
        assert_eq!(err(AdamConfig { betas: (1.0, 0.9), ..base }), ConfigError::Beta1(1.0));
        assert_eq!(err(AdamConfig { betas: (-0.1, 0.9), ..base }), ConfigError::Beta1(-0.1));
        assert_eq!(err(AdamConfig { betas: (0.9, 1.5), ..base }), ConfigError::Beta2(1.5));
        let e = err(AdamConfig { betas: (0.9, f64::NAN), ..base });
        assert!(matches!(e, ConfigError::Beta2(v) if v.is_nan()));
        assert_eq!(err(AdamConfig { weight_decay: -0.1, ..base }), ConfigError::WeightDecay(-0.1));
        let errw = |config: AdamWConfig| AdamW::<f64>::new(config).unwrap_err();
        let basew = AdamWConfig::default();
        assert_eq!(
            errw(AdamWConfig { lr: f64::INFINITY, ..basew }),
            ConfigError::LearningRate(f64::INFINITY)
        );
        assert_eq!(errw(AdamWConfig { betas: (0.9, 1.0), ..basew }), ConfigError::Beta2(1.0));
        assert_eq!(
            errw(AdamWConfig { weight_decay: -1.0, ..basew }),
            ConfigError::WeightDecay(-1.0)
        );
        // Edge cases that are valid, as in PyTorch.
        assert!(
            Adam::<f64>::new(AdamConfig { lr: 0.0, betas: (0.0, 0.0), eps: 0.0, ..base }).is_ok()
        );
        // The messages.
        assert_eq!(
            alloc::format!("{}", ConfigError::Beta1(1.0)),
            "invalid beta1 1; it must be in [0, 1)"
        );
        assert_eq!(
            alloc::format!("{}", ConfigError::Epsilon(-1.0)),
            "invalid epsilon -1; it must be finite and at least 0"
        );
    }

    #[test]
    fn state_round_trips() {
        assert_resumes(|| adam(AdamConfig { lr: 0.01, ..Default::default() }));
        assert_resumes(|| {
            adam(AdamConfig { lr: 0.01, amsgrad: true, weight_decay: 0.1, ..Default::default() })
        });
        assert_resumes(|| adamw(AdamWConfig { lr: 0.01, amsgrad: true, ..Default::default() }));
    }

    #[test]
    fn bad_states_are_rejected() {
        assert_rejects_bad_states(|| adam(AdamConfig::default()), &["exp_avg", "exp_avg_sq"]);
        let amsgrad = AdamConfig { amsgrad: true, ..Default::default() };
        assert_rejects_bad_states(|| adam(amsgrad), &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
        assert_rejects_bad_states(|| adamw(AdamWConfig::default()), &["exp_avg", "exp_avg_sq"]);
        // An AMSGrad state does not fit plain Adam.
        let mut with = adam(amsgrad);
        with.step(&mut [0.0], &[1.0]);
        let mut without = adam(AdamConfig::default());
        assert_eq!(
            without.load_state(with.state()),
            Err(StateError::UnknownBuffer {
                optimizer: "adam",
                buffer: String::from("max_exp_avg_sq")
            })
        );
    }

    #[test]
    #[should_panic(expected = "adam: 2 parameters but 3 gradients")]
    fn mismatched_lengths_panic() {
        Adam::<f64>::with_lr(0.1).unwrap().step(&mut [0.0; 2], &[0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "adamw: stepping 3 parameters with state for 2")]
    fn state_of_another_size_panics() {
        let mut opt = AdamW::<f64>::with_lr(0.1).unwrap();
        opt.step(&mut [0.0; 2], &[1.0; 2]);
        opt.step(&mut [0.0; 3], &[1.0; 3]);
    }

    /// The Adam and AdamW trajectories of PyTorch in the shared fixtures.
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch_trajectories() {
        use alloc::boxed::Box;

        use crate::optim::test_support::{check_pytorch_cases, number};

        fn betas(name: &str, value: &serde_json::Value) -> (f64, f64) {
            let b = value.as_array().unwrap_or_else(|| panic!("{name}: betas not an array"));
            (number(name, "betas", &b[0]), number(name, "betas", &b[1]))
        }
        let names = ["adam", "adam_betas_eps", "adam_weight_decay", "adam_amsgrad"];
        check_pytorch_cases("Adam", &names, |name, kwargs| {
            let mut c = AdamConfig::default();
            for (key, value) in kwargs {
                match key.as_str() {
                    "lr" => c.lr = number(name, key, value),
                    "betas" => c.betas = betas(name, value),
                    "eps" => c.eps = number(name, key, value),
                    "weight_decay" => c.weight_decay = number(name, key, value),
                    "amsgrad" => c.amsgrad = value.as_bool().unwrap(),
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            Box::new(adam(c))
        });
        check_pytorch_cases("AdamW", &["adamw"], |name, kwargs| {
            let mut c = AdamWConfig::default();
            for (key, value) in kwargs {
                match key.as_str() {
                    "lr" => c.lr = number(name, key, value),
                    "betas" => c.betas = betas(name, value),
                    "eps" => c.eps = number(name, key, value),
                    "weight_decay" => c.weight_decay = number(name, key, value),
                    "amsgrad" => c.amsgrad = value.as_bool().unwrap(),
                    other => panic!("{name}: unexpected argument {other}"),
                }
            }
            Box::new(adamw(c))
        });
    }
}
