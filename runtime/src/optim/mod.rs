//! Optimizers: they update the flat parameter slice from the flat gradient.

mod sgd;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use sgd::{Sgd, SgdConfig};

use crate::Float;

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
        }
    }
}

impl core::error::Error for ConfigError {}

/// Checks that `v` is finite and at least 0.
pub(crate) fn non_negative(v: f64, err: fn(f64) -> ConfigError) -> Result<(), ConfigError> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(err(v)) }
}
