use nalgebra::SVector;

use super::{Loss, TargetError, check_batch, check_vector};
use crate::Float;

/// Mean squared error, like `nn.MSELoss()`: the mean over every element of
/// the batch of `(y − t)²`.
///
/// For a batch of `n` outputs of `N` elements, `L = Σ (y − t)² / (N n)` and
/// `∂L/∂y = 2 (y − t) / (N n)`. Targets are vectors like the output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse;

impl<T: Float, const N: usize> Loss<SVector<T, N>> for Mse {
    type Target = SVector<T, N>;

    fn loss(&self, y: &[T], targets: &[SVector<T, N>]) -> T {
        check_batch(y, N, targets.len(), None);
        let t: &[T] = bytemuck::cast_slice(targets);
        let sum = y.iter().zip(t).fold(T::zero(), |s, (&y, &t)| s + (y - t) * (y - t));
        sum / T::of_usize(y.len().max(1))
    }

    fn loss_grad(&self, y: &[T], targets: &[SVector<T, N>], dy: &mut [T]) -> T {
        check_batch(y, N, targets.len(), Some(dy));
        let t: &[T] = bytemuck::cast_slice(targets);
        let scale = T::of_f64(2.0) / T::of_usize(y.len().max(1));
        let mut sum = T::zero();
        for ((dy, &y), &t) in dy.iter_mut().zip(y).zip(t) {
            let d = y - t;
            sum += d * d;
            *dy = d * scale;
        }
        sum / T::of_usize(y.len().max(1))
    }

    fn check_target(&self, target: &SVector<T, N>) -> Result<(), TargetError> {
        check_vector(target.as_slice(), false)
    }
}
