//! Optimizers: they update the flat parameter slice from the flat gradient,
//! and gradient clipping.

mod adadelta;
mod adagrad;
mod adam;
mod clip;
mod rmsprop;
mod sgd;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::Float;
use crate::gemm::{Pieces, for_each_piece};

/// Updates parameters from their gradients, one step at a time.
///
/// Both slices are in the network's flat `state_dict` layout, so an
/// optimizer's per-parameter state (momentum, moments) is in that layout too.
pub trait Optimizer<T: Float> {
    /// One update of `params` from `grads` (equal lengths).
    ///
    /// # Panics
    /// If the lengths differ, or differ from those of earlier steps.
    fn step(&mut self, params: &mut [T], grads: &[T]);

    /// One update like [`Optimizer::step`], then every gradient set to
    /// zero, as PyTorch's `optimizer.step()` followed by
    /// `optimizer.zero_grad()`: what a training loop does between batches.
    ///
    /// The default does exactly that. SGD, Adam and AdamW zero each block of
    /// gradients right after stepping it, while it is still in cache,
    /// instead of passing over all of them again: Adam on 784-256-128-10
    /// took 72–73 µs a step for both against 73–77 µs for the step and the
    /// pass (2-core Zen 4, four alternating runs). The `Trainer` calls
    /// this.
    ///
    /// # Panics
    /// As [`Optimizer::step`].
    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        self.step(params, grads);
        zero(grads);
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate for the following steps (for schedules).
    fn set_learning_rate(&mut self, lr: f64);

    /// A short name for checkpoints and logs: `"sgd"`, `"adam"`, …
    fn name(&self) -> &'static str;

    /// A copy of the optimizer's state: the steps taken and its
    /// per-parameter buffers, named as PyTorch names them (`"exp_avg"`, …).
    fn state(&self) -> OptimizerState<T>;

    /// Restores a state taken with [`Optimizer::state`] (from a checkpoint,
    /// say), checking that every buffer is one this optimizer keeps and that
    /// all have the same length. Nothing changes on error.
    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError>;
}

/// An optimizer borrowed: `Trainer::new(loss, &mut adam)` keeps `adam`'s
/// state with the caller.
impl<T: Float, O: Optimizer<T> + ?Sized> Optimizer<T> for &mut O {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        (**self).step(params, grads);
    }

    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        (**self).step_and_zero(params, grads);
    }

    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr);
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn state(&self) -> OptimizerState<T> {
        (**self).state()
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        (**self).load_state(state)
    }
}

/// An optimizer chosen at run time: `Box<dyn Optimizer<f32>>`.
impl<T: Float, O: Optimizer<T> + ?Sized> Optimizer<T> for alloc::boxed::Box<O> {
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        (**self).step(params, grads);
    }

    fn step_and_zero(&mut self, params: &mut [T], grads: &mut [T]) {
        (**self).step_and_zero(params, grads);
    }

    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr);
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn state(&self) -> OptimizerState<T> {
        (**self).state()
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), StateError> {
        (**self).load_state(state)
    }
}

/// Sets every scalar of `values` to zero, shared between the cores.
pub(crate) fn zero<T: Float>(values: &mut [T]) {
    for_each_piece(1 << 15, values, &|v: &mut [T]| v.fill(T::zero()));
}

/// The gradients a step reads: left as they are ([`Optimizer::step`]), or
/// set to zero once read ([`Optimizer::step_and_zero`]).
pub(crate) enum Grads<'a, T> {
    Keep(&'a [T]),
    Zero(&'a mut [T]),
}

impl<T: Float> Grads<'_, T> {
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Grads::Keep(g) => g,
            Grads::Zero(g) => g,
        }
    }

    /// Runs an elementwise step `pass` over `state` (the parameters and any
    /// per-parameter buffers) and these gradients, shared between the cores
    /// by `gemm::for_each_piece`; with `Zero`, each block's gradients are
    /// then set to zero while still in cache.
    pub(crate) fn for_each_piece<P: Pieces>(self, state: P, pass: &(dyn Fn(P, &[T]) + Sync)) {
        match self {
            Grads::Keep(g) => for_each_piece(PIECE, (state, g), &|(s, g)| pass(s, g)),
            Grads::Zero(g) => for_each_piece(PIECE, (state, g), &|(s, g)| {
                pass(s, g);
                g.fill(T::zero());
            }),
        }
    }
}

/// What an optimizer carries from step to step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState<T> {
    /// Steps taken so far.
    pub steps: u64,
    /// Named per-parameter buffers, each in the flat parameter layout; empty
    /// before the first step.
    pub buffers: Vec<(String, Vec<T>)>,
}

/// A state that does not fit an optimizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// A buffer this optimizer does not keep.
    UnknownBuffer {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The buffer's name.
        buffer: String,
    },
    /// A buffer this optimizer needs that the state lacks.
    MissingBuffer {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The buffer's name.
        buffer: &'static str,
    },
    /// Buffers of different lengths.
    Length {
        /// The buffer's name.
        buffer: String,
        /// The length of the state's other buffers.
        expected: usize,
        /// Its length.
        found: usize,
    },
    /// A buffer that appears twice.
    DuplicateBuffer {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The buffer's name.
        buffer: String,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::UnknownBuffer { optimizer, buffer } => {
                write!(f, "`{optimizer}` keeps no state named `{buffer}`")
            }
            StateError::MissingBuffer { optimizer, buffer } => {
                write!(f, "the state for `{optimizer}` lacks its `{buffer}` buffer")
            }
            StateError::Length { buffer, expected, found } => {
                write!(f, "optimizer buffer `{buffer}` has {found} values, expected {expected}")
            }
            StateError::DuplicateBuffer { optimizer, buffer } => {
                write!(f, "the state for `{optimizer}` has two `{buffer}` buffers")
            }
        }
    }
}

impl core::error::Error for StateError {}

/// An optimizer configuration that cannot work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConfigError {
    /// A learning rate that is negative or not finite.
    LearningRate(f64),
    /// A momentum that is negative or not finite.
    Momentum(f64),
    /// A dampening that is not finite.
    Dampening(f64),
    /// A weight decay that is negative or not finite.
    WeightDecay(f64),
    /// Nesterov momentum without momentum, or with dampening.
    Nesterov,
    /// A term `ε` added for numerical stability that is negative or not finite.
    Epsilon(f64),
    /// A first-moment decay rate `β₁` (Adam) outside `[0, 1)`.
    Beta1(f64),
    /// A second-moment decay rate `β₂` (Adam) outside `[0, 1)`.
    Beta2(f64),
    /// A smoothing constant `α` (RMSprop) outside `[0, 1]`.
    Alpha(f64),
    /// A decay rate `ρ` (Adadelta) outside `[0, 1]`.
    Rho(f64),
    /// A learning-rate decay (Adagrad) that is negative or not finite.
    LearningRateDecay(f64),
    /// An initial accumulator value (Adagrad) that is negative or not finite.
    InitialAccumulator(f64),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::LearningRate(v) => {
                write!(f, "invalid learning rate {v}; it must be finite and at least 0")
            }
            ConfigError::Momentum(v) => {
                write!(f, "invalid momentum {v}; it must be finite and at least 0")
            }
            ConfigError::Dampening(v) => write!(f, "invalid dampening {v}; it must be finite"),
            ConfigError::WeightDecay(v) => {
                write!(f, "invalid weight decay {v}; it must be finite and at least 0")
            }
            ConfigError::Nesterov => {
                f.write_str("nesterov momentum requires a momentum above 0 and zero dampening")
            }
            ConfigError::Epsilon(v) => {
                write!(f, "invalid epsilon {v}; it must be finite and at least 0")
            }
            ConfigError::Beta1(v) => write!(f, "invalid beta1 {v}; it must be in [0, 1)"),
            ConfigError::Beta2(v) => write!(f, "invalid beta2 {v}; it must be in [0, 1)"),
            ConfigError::Alpha(v) => write!(f, "invalid alpha {v}; it must be in [0, 1]"),
            ConfigError::Rho(v) => write!(f, "invalid rho {v}; it must be in [0, 1]"),
            ConfigError::LearningRateDecay(v) => {
                write!(f, "invalid learning rate decay {v}; it must be finite and at least 0")
            }
            ConfigError::InitialAccumulator(v) => {
                write!(f, "invalid initial accumulator value {v}; it must be finite and at least 0")
            }
        }
    }
}

impl core::error::Error for ConfigError {}

/// Elementwise steps over at least twice this many parameters are shared
/// between the threads that share products (see `gemm::for_each_piece`).
pub(crate) const PIECE: usize = 1 << 14;

/// Checks that `v` is finite and at least 0.
pub(crate) fn non_negative(v: f64, err: fn(f64) -> ConfigError) -> Result<(), ConfigError> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(err(v)) }
}

/// Checks that `v` is in `[0, 1)` (`NaN` is not).
pub(crate) fn unit_open(v: f64, err: fn(f64) -> ConfigError) -> Result<(), ConfigError> {
    if (0.0..1.0).contains(&v) { Ok(()) } else { Err(err(v)) }
}

/// Checks that `v` is in `[0, 1]` (`NaN` is not).
pub(crate) fn unit_closed(v: f64, err: fn(f64) -> ConfigError) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(err(v)) }
}

/// Takes the buffers `names` out of `state` for `optimizer`, in that order:
/// either all of them, of one length, or (before the first step) none, as
/// empty vectors.
///
/// Errors on a buffer not in `names`, on one given twice, on one missing
/// while others are there or after a step, and on differing lengths.
pub(crate) fn take_buffers<T>(
    optimizer: &'static str,
    state: OptimizerState<T>,
    names: &[&'static str],
) -> Result<Vec<Vec<T>>, StateError> {
    let mut taken: Vec<Option<Vec<T>>> = names.iter().map(|_| None).collect();
    let mut expected = None;
    for (name, values) in state.buffers {
        let Some(i) = names.iter().position(|&n| n == name) else {
            return Err(StateError::UnknownBuffer { optimizer, buffer: name });
        };
        if taken[i].is_some() {
            return Err(StateError::DuplicateBuffer { optimizer, buffer: name });
        }
        let expected = *expected.get_or_insert(values.len());
        if values.len() != expected {
            return Err(StateError::Length { buffer: name, expected, found: values.len() });
        }
        taken[i] = Some(values);
    }
    let none = taken.iter().all(Option::is_none);
    if none && state.steps == 0 {
        return Ok(taken.into_iter().map(|_| Vec::new()).collect());
    }
    if let Some(i) = taken.iter().position(Option::is_none) {
        return Err(StateError::MissingBuffer { optimizer, buffer: names[i] });
    }
    Ok(taken.into_iter().flatten().collect())
}

/// Panics unless `params` and `grads` have the same length, naming `optimizer`.
#[track_caller]
pub(crate) fn check_lengths<T>(optimizer: &str, params: &[T], grads: &[T]) {
    assert_eq!(
        params.len(),
        grads.len(),
        "{optimizer}: {} parameters but {} gradients",
        params.len(),
        grads.len()
    );
}

/// Panics unless the optimizer's state (of `state_len` values per buffer)
/// fits `params`.
#[track_caller]
pub(crate) fn check_state<T>(optimizer: &str, params: &[T], state_len: usize) {
    assert_eq!(
        state_len,
        params.len(),
        "{optimizer}: stepping {} parameters with state for {}",
        params.len(),
        state_len
    );
}

/// `self + weight · (end − self)`, as PyTorch's `lerp` computes it.
#[inline(always)]
pub(crate) fn lerp<T: Float>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::of_f64(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// Checks shared by the optimizers' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::{Optimizer, OptimizerState, StateError};
    use crate::testing::values;

    /// Gradient `t` of the round-trip runs.
    fn grads(t: u64) -> Vec<f64> {
        values(7, 100 + t, -1.0, 1.0)
    }

    /// Runs 5 steps, moves the state into a fresh optimizer, then runs 5 more
    /// steps on both: their parameters and states must be bit-identical.
    pub(crate) fn assert_resumes<O: Optimizer<f64>>(make: impl Fn() -> O) {
        let mut a = make();
        let mut p = values(7, 1, -2.0, 2.0);
        for t in 0..5 {
            a.step(&mut p, &grads(t));
        }
        let state = a.state();
        assert_eq!(state.steps, 5);
        assert!(!state.buffers.is_empty());
        let mut b = make();
        b.load_state(state.clone()).expect("its own state");
        assert_eq!(b.state(), state);
        let mut q = p.clone();
        for t in 5..10 {
            a.step(&mut p, &grads(t));
            b.step(&mut q, &grads(t));
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p), bits(&q));
        assert_eq!(a.state(), b.state());
        assert!(p.iter().all(|x| x.is_finite()));
    }

    /// Loads states that do not fit an optimizer with the buffers `required`
    /// after two steps: each is an error, and the optimizer is unchanged.
    pub(crate) fn assert_rejects_bad_states<O: Optimizer<f64>>(
        make: impl Fn() -> O,
        required: &[&'static str],
    ) {
        let mut opt = make();
        let name = opt.name();
        let mut p = values(7, 2, -2.0, 2.0);
        opt.step(&mut p, &grads(0));
        opt.step(&mut p, &grads(1));
        let good = opt.state();
        let mut names: Vec<&str> = good.buffers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let mut want = required.to_vec();
        want.sort_unstable();
        assert_eq!(names, want, "{name} keeps exactly these buffers");

        let rejects = |opt: &mut O, bad: OptimizerState<f64>, err: StateError| {
            assert_eq!(opt.load_state(bad), Err(err));
            assert_eq!(opt.state(), good, "{name} changed by a failed load");
        };
        // A buffer of another optimizer.
        let mut bad = good.clone();
        bad.buffers.push((String::from("bogus"), vec![0.0; 7]));
        let err = StateError::UnknownBuffer { optimizer: name, buffer: String::from("bogus") };
        rejects(&mut opt, bad, err);
        // One buffer twice.
        let mut bad = good.clone();
        bad.buffers.push(good.buffers[0].clone());
        let err =
            StateError::DuplicateBuffer { optimizer: name, buffer: good.buffers[0].0.clone() };
        rejects(&mut opt, bad, err);
        // Each buffer missing, after steps or not.
        for (i, (missing, _)) in good.buffers.iter().enumerate() {
            for steps in [0, 2] {
                let mut bad = good.clone();
                bad.steps = steps;
                bad.buffers.remove(i);
                if bad.buffers.is_empty() && steps == 0 {
                    continue;
                }
                let buffer = required.iter().find(|&&r| r == missing).copied().unwrap();
                rejects(&mut opt, bad, StateError::MissingBuffer { optimizer: name, buffer });
            }
        }
        // No buffers at all after a step.
        let bad = OptimizerState { steps: 1, buffers: Vec::new() };
        let err = StateError::MissingBuffer { optimizer: name, buffer: required[0] };
        rejects(&mut opt, bad, err);
        // Buffers of different lengths (the first one sets the length).
        if good.buffers.len() > 1 {
            let mut bad = good.clone();
            let last = bad.buffers.len() - 1;
            bad.buffers[last].1.pop();
            let buffer = bad.buffers[last].0.clone();
            rejects(&mut opt, bad, StateError::Length { buffer, expected: 7, found: 6 });
            let mut bad = good.clone();
            bad.buffers[0].1.push(0.0);
            let buffer = bad.buffers[1].0.clone();
            rejects(&mut opt, bad, StateError::Length { buffer, expected: 8, found: 7 });
        }
        // An empty state resets the optimizer to before its first step.
        opt.load_state(OptimizerState::default()).expect("an empty state");
        assert_eq!(opt.state(), OptimizerState::default());
        let mut fresh = make();
        let mut q = p.clone();
        opt.step(&mut p, &grads(3));
        fresh.step(&mut q, &grads(3));
        assert_eq!(p, q);
    }

    /// Runs every case of `torch.optim.<class>` in the shared fixtures (10 steps
    /// from `params0` with gradients `grads[t]`), building each optimizer from
    /// its constructor arguments with `make`; each step's result must be within
    /// 10⁻⁹ relatively (10⁻¹² absolutely near 0). `names` must be all the
    /// class's cases.
    #[cfg(feature = "std")]
    pub(crate) fn check_pytorch_cases(
        class: &str,
        names: &[&str],
        make: impl Fn(
            &str,
            &serde_json::Map<String, serde_json::Value>,
        ) -> alloc::boxed::Box<dyn Optimizer<f64>>,
    ) {
        fn floats(v: &serde_json::Value) -> Vec<f64> {
            v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
        }
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
        let class = alloc::format!("torch.optim.{class}");
        for &name in names {
            let case = &cases[name];
            assert_eq!(case["optimizer"], class.as_str(), "{name}");
            let mut opt = make(name, case["kwargs"].as_object().unwrap());
            let mut params = params0.clone();
            let expected: Vec<Vec<f64>> =
                case["params_after_step"].as_array().unwrap().iter().map(floats).collect();
            assert_eq!(expected.len(), 10);
            let mut worst = 0.0f64;
            for (t, (g, want)) in grads.iter().zip(&expected).enumerate() {
                opt.step(&mut params, g);
                for (i, (&got, &want)) in params.iter().zip(want).enumerate() {
                    let err = (got - want).abs();
                    assert!(
                        err <= 1e-9 * want.abs() || err <= 1e-12,
                        "{name}, step {t}, parameter {i}: got {got:e}, PyTorch {want:e}"
                    );
                    worst = worst.max(err / want.abs());
                }
            }
            std::eprintln!("{name}: largest relative difference from PyTorch {worst:e}");
        }
        let count = cases.values().filter(|c| c["optimizer"] == class.as_str()).count();
        assert_eq!(count, names.len(), "every {class} case is checked");
    }

    /// A number argument of a fixture case.
    #[cfg(feature = "std")]
    pub(crate) fn number(name: &str, key: &str, value: &serde_json::Value) -> f64 {
        value.as_f64().unwrap_or_else(|| panic!("{name}: `{key}` is not a number"))
    }
}

/// Large steps are shared between threads and run on wide vectors: every
/// parameter must still get the bits of the scalar formula.
#[cfg(test)]
mod shared_steps {
    use alloc::vec::Vec;

    use alloc::boxed::Box;

    use super::{
        Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
    };
    use crate::testing::values;

    const N: usize = 100_003;

    fn f32s(seed: u64) -> Vec<f32> {
        values(N, seed, -1.0, 1.0).into_iter().map(|v| v as f32).collect()
    }

    fn same_bits(got: &[f32], want: &[f32], what: &str) {
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "{what}: parameter {i}: {g} against {w}");
        }
    }

    #[test]
    fn sgd_steps_match_the_scalar_formula() {
        let cases = [(0.0, 0.0, false), (0.0, 0.01, false), (0.9, 0.0, false), (0.9, 0.01, true)];
        for (momentum, weight_decay, nesterov) in cases {
            let config =
                SgdConfig { lr: 0.1, momentum, weight_decay, nesterov, ..Default::default() };
            let mut sgd = Sgd::new(config).unwrap();
            let mut params = f32s(1);
            let mut want = params.clone();
            let mut buf = alloc::vec![0.0f32; N];
            let (lr, wd, mu) = (0.1f32, weight_decay as f32, momentum as f32);
            for t in 0..3u64 {
                let grads = f32s(10 + t);
                sgd.step(&mut params, &grads);
                for ((p, &g), b) in want.iter_mut().zip(&grads).zip(&mut buf) {
                    let g = if weight_decay != 0.0 { g + wd * *p } else { g };
                    if momentum == 0.0 {
                        *p -= lr * g;
                        continue;
                    }
                    *b = if t == 0 { g } else { mu * *b + 1.0 * g };
                    let step = if nesterov { g + mu * *b } else { *b };
                    *p -= lr * step;
                }
                same_bits(&params, &want, &alloc::format!("{config:?}, step {t}"));
            }
        }
    }

    #[test]
    fn adam_steps_match_the_scalar_formula() {
        // (weight decay, decoupled as in AdamW)
        for (wd, decoupled) in [(0.0, false), (0.01, false), (0.01, true)] {
            let config = AdamConfig { lr: 1e-3, weight_decay: wd, ..AdamConfig::default() };
            let mut adam: Box<dyn Optimizer<f32>> = if decoupled {
                let c = AdamWConfig { lr: 1e-3, weight_decay: wd, ..AdamWConfig::default() };
                Box::new(AdamW::new(c).unwrap())
            } else {
                Box::new(Adam::new(config).unwrap())
            };
            let mut params = f32s(2);
            let mut want = params.clone();
            let (mut m, mut v) = (alloc::vec![0.0f32; N], alloc::vec![0.0f32; N]);
            for t in 1..=3u32 {
                let grads = f32s(20 + u64::from(t));
                adam.step(&mut params, &grads);
                let c1 = 1.0 - 0.9f64.powf(f64::from(t));
                let c2 = (1.0 - 0.999f64.powf(f64::from(t))).sqrt() as f32;
                let step_size = -(1e-3 / c1) as f32;
                let (wd32, shrink) = (wd as f32, (1.0 - 1e-3 * wd) as f32);
                for (((p, &g), m), v) in want.iter_mut().zip(&grads).zip(&mut m).zip(&mut v) {
                    let mut g = g;
                    if wd != 0.0 {
                        if decoupled {
                            *p *= shrink;
                        } else {
                            g += wd32 * *p;
                        }
                    }
                    *m = super::lerp(*m, g, (1.0 - 0.9f64) as f32);
                    *v = *v * 0.999f64 as f32 + (1.0 - 0.999f64) as f32 * g * g;
                    *p += step_size * *m / (v.sqrt() / c2 + 1e-8f64 as f32);
                }
                let what = alloc::format!("weight decay {wd}, decoupled {decoupled}, step {t}");
                same_bits(&params, &want, &what);
            }
        }
    }

    /// `step_and_zero` steps as `step` does, bit for bit, and leaves every
    /// gradient zero: for the optimizers that zero block by block (SGD,
    /// Adam, AdamW, each case of their passes and AMSGrad's loop), for one
    /// that keeps the default (RMSprop), and through `Box` and `&mut`.
    #[test]
    fn step_and_zero_steps_as_step_then_zeroes() {
        fn check<O: Optimizer<f32>>(name: &str, mut a: O, mut b: O) {
            let mut p = f32s(3);
            let mut q = p.clone();
            for t in 0..3u64 {
                let grads = f32s(30 + t);
                let mut zeroed = grads.clone();
                a.step(&mut p, &grads);
                b.step_and_zero(&mut q, &mut zeroed);
                same_bits(&q, &p, &alloc::format!("{name}, step {t}"));
                assert!(
                    zeroed.iter().all(|&g| g.to_bits() == 0),
                    "{name}, step {t}: a gradient left"
                );
            }
            assert_eq!(a.state(), b.state(), "{name}");
        }
        type Make = fn() -> Box<dyn Optimizer<f32>>;
        let makes: [(&str, Make); 8] = [
            ("sgd", || Box::new(Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap())),
            ("sgd, decay", || {
                let c = SgdConfig { lr: 0.1, weight_decay: 0.01, ..Default::default() };
                Box::new(Sgd::new(c).unwrap())
            }),
            ("sgd, momentum", || {
                let c = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
                Box::new(Sgd::new(c).unwrap())
            }),
            ("adam", || Box::new(Adam::new(AdamConfig::default()).unwrap())),
            ("adam, decay", || {
                let c = AdamConfig { weight_decay: 0.01, ..AdamConfig::default() };
                Box::new(Adam::new(c).unwrap())
            }),
            ("adam, amsgrad", || {
                Box::new(Adam::new(AdamConfig { amsgrad: true, ..AdamConfig::default() }).unwrap())
            }),
            ("adamw", || Box::new(AdamW::new(AdamWConfig::default()).unwrap())),
            ("rmsprop", || Box::new(RmsProp::new(RmsPropConfig::default()).unwrap())),
        ];
        for (name, make) in makes {
            check(name, make(), make());
        }
        let (mut x, mut y) = (Adam::with_lr(1e-3).unwrap(), Adam::with_lr(1e-3).unwrap());
        check("&mut adam", &mut x, &mut y);
    }
}
