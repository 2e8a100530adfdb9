use nalgebra::SVector;

use super::{Loss, TargetError, check_batch, check_vector};
use crate::Float;
use crate::layers::sigmoid;

/// Binary cross-entropy on logits, like `nn.BCEWithLogitsLoss()`: a sigmoid
/// and [`BinaryCrossEntropy`](crate::BinaryCrossEntropy) in one stable step.
///
/// For a logit `x` and target `t` in `[0, 1]`,
/// `ℓ = max(x, 0) − x t + log(1 + e^(−|x|))`, finite for any finite `x`;
/// `L` is the mean over every element of the batch and
/// `∂L/∂x = (sigmoid(x) − t) / (N n)`. A sample counts as correct when every
/// logit is on the target's side of 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BceWithLogits;

#[inline]
fn term<T: Float>(x: T, t: T) -> T {
    x.max(T::zero()) - x * t + (-x.abs()).exp().ln_1p()
}

impl<T: Float, const N: usize> Loss<SVector<T, N>> for BceWithLogits {
    type Target = SVector<T, N>;

    fn loss(&self, y: &[T], targets: &[SVector<T, N>]) -> T {
        check_batch(y, N, targets.len(), None);
        let t: &[T] = bytemuck::cast_slice(targets);
        let sum = y.iter().zip(t).fold(T::zero(), |s, (&x, &t)| s + term(x, t));
        sum / T::of_usize(y.len().max(1))
    }

    fn loss_grad(&self, y: &[T], targets: &[SVector<T, N>], dy: &mut [T]) -> T {
        check_batch(y, N, targets.len(), Some(dy));
        let t: &[T] = bytemuck::cast_slice(targets);
        let inv = T::one() / T::of_usize(y.len().max(1));
        let mut sum = T::zero();
        for ((dy, &x), &t) in dy.iter_mut().zip(y).zip(t) {
            sum += term(x, t);
            *dy = (sigmoid(x) - t) * inv;
        }
        sum * inv
    }

    fn check_target(&self, target: &SVector<T, N>) -> Result<(), TargetError> {
        check_vector(target.as_slice(), true)
    }

    fn is_correct(&self, y: &[T], target: &SVector<T, N>) -> Option<bool> {
        let half = T::of_f64(0.5);
        Some(y.iter().zip(target.iter()).all(|(&x, &t)| (x > T::zero()) == (t > half)))
    }
}
