use nalgebra::SVector;

use crate::{Float, Layer, Mode, Saved};

/// Softmax over the features of each sample: `yᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)`, like
/// `nn.Softmax(dim=1)`.
///
/// Computed as `e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x)`, so no exponential
/// overflows. Backward: `∂L/∂xᵢ = yᵢ (∂L/∂yᵢ − Σⱼ yⱼ ∂L/∂yⱼ)`.
///
/// To train a classifier, prefer ending the network with its logits and using
/// [`CrossEntropy`](crate::CrossEntropy), which applies a log-softmax itself,
/// more precisely than a softmax followed by a logarithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

/// Softmax of one sample, `x` to `y` (same length).
#[inline]
pub(crate) fn softmax_into<T: Float>(x: &[T], y: &mut [T]) {
    let max = x.iter().copied().reduce(|m, v| m.max(v)).unwrap_or(T::zero());
    let mut sum = T::zero();
    for (y, &x) in y.iter_mut().zip(x) {
        *y = (x - max).exp();
        sum += *y;
    }
    let inv = T::one() / sum;
    for y in y.iter_mut() {
        *y *= inv;
    }
}

impl<T: Float, const N: usize> Layer<T, N, N> for Softmax {
    const PARAMS: usize = 0;

    #[inline]
    fn forward(&self, _params: &[T], x: &SVector<T, N>) -> SVector<T, N> {
        let mut y = SVector::<T, N>::zeros();
        softmax_into(x.as_slice(), y.as_mut_slice());
        y
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _mode: Mode) {
        for (x, y) in x.chunks_exact(N).zip(y.chunks_exact_mut(N)) {
            softmax_into(x, y);
        }
    }

    fn backward_batch(
        &self,
        _params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        _grads: &mut [T],
    ) {
        let Some(dx) = dx else { return };
        let samples = saved.y.chunks_exact(N).zip(dy.chunks_exact(N));
        for ((y, dy), dx) in samples.zip(dx.chunks_exact_mut(N)) {
            let dot = y.iter().zip(dy).fold(T::zero(), |s, (&y, &d)| s + y * d);
            for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
                *dx = y * (dy - dot);
            }
        }
    }
}
