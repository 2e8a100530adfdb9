use nalgebra::SVector;

use super::{Loss, TargetError, check_batch};
use crate::Float;
use crate::layers::softmax_into;

/// Cross-entropy on logits with class-index targets, like
/// `nn.CrossEntropyLoss()`: a log-softmax and the negative log-likelihood in
/// one step.
///
/// For one sample with logits `x` (`N` of them) and class `c`,
/// `ℓ = log Σⱼ e^(xⱼ) − x_c`, computed with the maximum subtracted first so no
/// exponential overflows; `L` is the mean of `ℓ` over the batch and
/// `∂L/∂x = (softmax(x) − onehot(c)) / n`.
///
/// The network should end with its logits (no `Softmax` layer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossEntropy;

/// `log Σ e^(xᵢ)`, stable.
#[inline]
fn log_sum_exp<T: Float>(x: &[T]) -> T {
    let max = x.iter().copied().reduce(|m, v| m.max(v)).unwrap_or(T::zero());
    let sum = x.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
    max + sum.ln()
}

#[track_caller]
fn class<const N: usize>(c: usize) -> usize {
    assert!(c < N, "cross-entropy: class index {c} is out of range for {N} outputs");
    c
}

impl<T: Float, const N: usize> Loss<SVector<T, N>> for CrossEntropy {
    type Target = usize;

    fn loss(&self, y: &[T], targets: &[usize]) -> T {
        check_batch(y, N, targets.len(), None);
        let sum = y
            .chunks_exact(N)
            .zip(targets)
            .fold(T::zero(), |s, (x, &c)| s + log_sum_exp(x) - x[class::<N>(c)]);
        sum / T::of_usize(targets.len().max(1))
    }

    fn loss_grad(&self, y: &[T], targets: &[usize], dy: &mut [T]) -> T {
        check_batch(y, N, targets.len(), Some(dy));
        let inv_n = T::one() / T::of_usize(targets.len().max(1));
        let mut sum = T::zero();
        for ((x, &c), dx) in y.chunks_exact(N).zip(targets).zip(dy.chunks_exact_mut(N)) {
            let c = class::<N>(c);
            sum += log_sum_exp(x) - x[c];
            softmax_into(x, dx);
            dx[c] -= T::one();
            for d in dx.iter_mut() {
                *d *= inv_n;
            }
        }
        sum * inv_n
    }

    fn check_target(&self, &class: &usize) -> Result<(), TargetError> {
        if class < N { Ok(()) } else { Err(TargetError::ClassOutOfRange { class, classes: N }) }
    }

    fn is_correct(&self, y: &[T], &target: &usize) -> Option<bool> {
        Some(argmax(y) == target)
    }
}

/// The index of the first largest element (NaN never wins).
pub(crate) fn argmax<T: Float>(y: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in y.iter().enumerate() {
        if v > y[best] {
            best = i;
        }
    }
    best
}
