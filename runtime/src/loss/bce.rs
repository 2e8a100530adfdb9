use nalgebra::SVector;

use super::{Loss, TargetError, check_batch, check_vector};
use crate::Float;

/// Binary cross-entropy on probabilities, like `nn.BCELoss()`: for outputs
/// `p` in `[0, 1]` (after a `Sigmoid`) and targets `t` in `[0, 1]`,
/// `ℓ = −(t log p + (1 − t) log(1 − p))`, each logarithm clamped at −100 as
/// PyTorch does, averaged over every element of the batch.
///
/// `∂L/∂p = (p − t) / max(p (1 − p), 10⁻¹²) / (N n)`, PyTorch's formula.
/// [`BceWithLogits`](crate::BceWithLogits) on the logits is more precise.
/// A sample counts as correct when every output is on the target's side of ½.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropy;

#[inline]
fn term<T: Float>(p: T, t: T) -> T {
    let floor = T::of_f64(-100.0);
    let log_p = p.ln().max(floor);
    let log_q = (T::one() - p).ln().max(floor);
    -(t * log_p + (T::one() - t) * log_q)
}

impl<T: Float, const N: usize> Loss<SVector<T, N>> for BinaryCrossEntropy {
    type Target = SVector<T, N>;

    fn loss(&self, y: &[T], targets: &[SVector<T, N>]) -> T {
        check_batch(y, N, targets.len(), None);
        let t: &[T] = bytemuck::cast_slice(targets);
        let sum = y.iter().zip(t).fold(T::zero(), |s, (&p, &t)| s + term(p, t));
        sum / T::of_usize(y.len().max(1))
    }

    fn loss_grad(&self, y: &[T], targets: &[SVector<T, N>], dy: &mut [T]) -> T {
        check_batch(y, N, targets.len(), Some(dy));
        let t: &[T] = bytemuck::cast_slice(targets);
        let inv = T::one() / T::of_usize(y.len().max(1));
        let eps = T::of_f64(1e-12);
        let mut sum = T::zero();
        for ((dy, &p), &t) in dy.iter_mut().zip(y).zip(t) {
            sum += term(p, t);
            *dy = (p - t) / (p * (T::one() - p)).max(eps) * inv;
        }
        sum * inv
    }

    fn check_target(&self, target: &SVector<T, N>) -> Result<(), TargetError> {
        check_vector(target.as_slice(), true)
    }

    fn is_correct(&self, y: &[T], target: &SVector<T, N>) -> Option<bool> {
        let half = T::of_f64(0.5);
        Some(y.iter().zip(target.iter()).all(|(&p, &t)| (p > half) == (t > half)))
    }
}
