//! Loss functions, each with its gradient.
//!
//! A loss sees a batch of network outputs `y` as a column-major `[N, n]`
//! slice (the `n` outputs one after the other) and `n` targets of its own
//! kind. Every loss is a mean over the batch, as with PyTorch's default
//! `reduction="mean"`, and its gradient is the gradient of that mean.

mod bce;
mod bce_logits;
mod cross_entropy;
mod mse;

use core::fmt;

pub use bce::BinaryCrossEntropy;
pub use bce_logits::BceWithLogits;
pub use cross_entropy::CrossEntropy;
pub use mse::Mse;

use crate::{Float, Vector};

/// A loss for networks whose output is `O` (an `SVector<T, N>`).
pub trait Loss<O: Vector> {
    /// What one sample's target is: a class index, or a vector like the output.
    type Target: Clone;

    /// The mean loss of the batch `y` (`[N, n]`) against `targets` (`n` long).
    ///
    /// # Panics
    /// If `y.len() != N · targets.len()`.
    fn loss(&self, y: &[O::Scalar], targets: &[Self::Target]) -> O::Scalar;

    /// The mean loss, and its gradient ∂loss/∂y written into `dy` (`[N, n]`,
    /// overwritten).
    ///
    /// # Panics
    /// If the lengths of `y`, `targets` and `dy` disagree.
    fn loss_grad(
        &self,
        y: &[O::Scalar],
        targets: &[Self::Target],
        dy: &mut [O::Scalar],
    ) -> O::Scalar;

    /// Checks that `target` is one this loss can take (a class index in range,
    /// a probability in `[0, 1]`, a finite value).
    fn check_target(&self, target: &Self::Target) -> Result<(), TargetError> {
        let _ = target;
        Ok(())
    }

    /// Whether the output `y` of one sample (`N` long) counts as a correct
    /// prediction of `target`, for accuracy; `None` when accuracy does not
    /// apply (regression).
    fn is_correct(&self, y: &[O::Scalar], target: &Self::Target) -> Option<bool> {
        let _ = (y, target);
        None
    }

    /// For class targets, how many outputs of one sample rank above the
    /// target's (0 when it is the top prediction), for top-k accuracy;
    /// `None` when ranks do not apply.
    fn target_rank(&self, y: &[O::Scalar], target: &Self::Target) -> Option<usize> {
        let _ = (y, target);
        None
    }
}

/// A target a loss cannot take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetError {
    /// A class index at or beyond the number of outputs.
    ClassOutOfRange {
        /// The index found.
        class: usize,
        /// The number of classes (outputs).
        classes: usize,
    },
    /// A binary target outside `[0, 1]`.
    NotAProbability {
        /// The value found.
        value: f64,
    },
    /// A NaN or infinite target.
    NotFinite {
        /// The value found.
        value: f64,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TargetError::ClassOutOfRange { class, classes } => write!(
                f,
                "class index {class} is out of range for a network with {classes} outputs"
            ),
            TargetError::NotAProbability { value } => {
                write!(f, "binary target {value} is outside [0, 1]")
            }
            TargetError::NotFinite { value } => write!(f, "target {value} is not finite"),
        }
    }
}

impl core::error::Error for TargetError {}

/// Checks that the lengths of a batch agree, with a message that says how.
#[inline]
#[track_caller]
pub(crate) fn check_batch<T>(y: &[T], width: usize, targets: usize, dy: Option<&[T]>) {
    assert!(
        y.len() == width * targets,
        "loss: {} outputs for {targets} targets; expected {width} per target",
        y.len()
    );
    if let Some(dy) = dy {
        assert!(
            dy.len() == y.len(),
            "loss: gradient buffer of {} for {} outputs",
            dy.len(),
            y.len()
        );
    }
}

/// Checks that every element of a vector target is finite and, for binary
/// losses, within `[0, 1]`.
pub(crate) fn check_vector<T: Float>(t: &[T], probability: bool) -> Result<(), TargetError> {
    for &v in t {
        let value = v.as_f64();
        if !value.is_finite() {
            return Err(TargetError::NotFinite { value });
        }
        if probability && !(0.0..=1.0).contains(&value) {
            return Err(TargetError::NotAProbability { value });
        }
    }
    Ok(())
}
