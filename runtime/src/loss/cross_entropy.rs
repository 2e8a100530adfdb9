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

/// `ℓ = log Σ e^(xᵢ) − x_c`, stable, computed as `(max x − x_c) + log Σ e^(xᵢ − max x)`
/// so that large logits do not cost precision (`max + log Σ` would round to
/// the spacing of `max` before `x_c` is subtracted).
#[inline]
fn nll<T: Float>(x: &[T], c: usize) -> T {
    let max = x.iter().copied().reduce(|m, v| m.max(v)).unwrap_or(T::zero());
    let sum = x.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
    nll_of(x[c], max, sum)
}

/// `ℓ` from the target's logit, the maximum logit and `Σ e^(xᵢ − max x)`:
/// shared by [`nll`] and by `loss_grad`, which takes the sum from the
/// softmax, so that both give the same bits.
#[inline]
fn nll_of<T: Float>(target: T, max: T, sum: T) -> T {
    (max - target) + sum.ln()
}

/// The mean of a batch's losses, divided the same way by `loss` and `loss_grad`.
#[inline]
fn mean<T: Float>(sum: T, n: usize) -> T {
    sum / T::of_usize(n.max(1))
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
        let sum =
            y.chunks_exact(N).zip(targets).fold(T::zero(), |s, (x, &c)| s + nll(x, class::<N>(c)));
        mean(sum, targets.len())
    }

    fn loss_grad(&self, y: &[T], targets: &[usize], dy: &mut [T]) -> T {
        check_batch(y, N, targets.len(), Some(dy));
        let inv_n = T::one() / T::of_usize(targets.len().max(1));
        let mut sum = T::zero();
        for ((x, &c), dx) in y.chunks_exact(N).zip(targets).zip(dy.chunks_exact_mut(N)) {
            let c = class::<N>(c);
            // The softmax's exponentials give the loss too: the same sum, in
            // the same order, as `nll` computes.
            let (max, exps) = softmax_into(x, dx);
            sum += nll_of(x[c], max, exps);
            dx[c] -= T::one();
            for d in dx.iter_mut() {
                *d *= inv_n;
            }
        }
        mean(sum, targets.len())
    }

    fn check_target(&self, &class: &usize) -> Result<(), TargetError> {
        if class < N { Ok(()) } else { Err(TargetError::ClassOutOfRange { class, classes: N }) }
    }

    fn target_rank(&self, y: &[T], &target: &usize) -> Option<usize> {
        // A NaN output for the target ranks last.
        let own = *y.get(target)?;
        if own.as_f64().is_nan() {
            return Some(y.len());
        }
        Some(y.iter().filter(|&&v| v > own).count())
    }

    fn is_correct(&self, y: &[T], &target: &usize) -> Option<bool> {
        // An all-NaN output predicts no class.
        let number = y.get(target).is_some_and(|v| !v.as_f64().is_nan());
        Some(number && argmax(y) == target)
    }
}

/// The index of the first largest element (NaN never wins).
/// 0 when every element is NaN.
pub(crate) fn argmax<T: Float>(y: &[T]) -> usize {
    let mut best: Option<usize> = None;
    for (i, &v) in y.iter().enumerate() {
        if !v.as_f64().is_nan() && best.is_none_or(|b| v > y[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_loss;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    type V2 = SVector<f64, 2>;
    type V3 = SVector<f64, 3>;
    type F3 = SVector<f32, 3>;
    type F2 = SVector<f32, 2>;

    #[test]
    fn values_match_pytorch() {
        // F.cross_entropy(tensor([[1., 2., 3.]]), tensor([c])) = log(e + e² + e³) − (c + 1).
        assert_close(
            Loss::<V3>::loss(&CrossEntropy, &[1.0, 2.0, 3.0], &[0]),
            2.40760596444438,
            1e-14,
        );
        assert_close(
            Loss::<V3>::loss(&CrossEntropy, &[1.0, 2.0, 3.0], &[2]),
            0.4076059644443803,
            1e-14,
        );
        let f32_loss = Loss::<F3>::loss(&CrossEntropy, &[1.0, 2.0, 3.0], &[0]);
        assert_close(f32_loss, 2.40760596444438, 1e-6);
    }

    #[test]
    fn batch_mean_and_gradient_match_pytorch() {
        // Mean over two samples; ∂L/∂x = (softmax(x) − onehot(c)) / 2.
        let y = [1.0, 2.0, 3.0, -1.0, 0.5, 0.25];
        let expected_grad = [
            -0.4549847134148098,
            0.12236423552739882,
            0.33262047788741095,
            0.05572873552510138,
            -0.2502411350933925,
            0.19451239956829114,
        ];
        let mut dy = [f64::NAN; 6];
        let value = Loss::<V3>::loss_grad(&CrossEntropy, &y, &[0, 1], &mut dy);
        assert_close(value, 1.5508590754231473, 1e-14);
        assert_close(Loss::<V3>::loss(&CrossEntropy, &y, &[0, 1]), 1.5508590754231473, 1e-14);
        assert_all_close(&dy, &expected_grad, 1e-14);

        let y32 = y.map(|v| v as f32);
        let mut dy32 = [0.0f32; 6];
        let value = Loss::<F3>::loss_grad(&CrossEntropy, &y32, &[0, 1], &mut dy32);
        assert_close(value, 1.5508590754231473, 1e-6);
        assert_all_close(&dy32, &expected_grad, 1e-5);
    }

    #[test]
    fn extreme_logits_give_exact_losses_and_gradients() {
        // Sample 1: logits [10⁴, 0], class 1: loss 10⁴, softmax [1, 0].
        // Sample 2: logits [0, 10⁴], class 1: loss 0, softmax [0, 1].
        // Mean loss 5000; gradient (softmax − onehot) / 2.
        let y = [1e4, 0.0, 0.0, 1e4];
        let expected_grad = [0.5, -0.5, 0.0, 0.0];
        let mut dy = [f64::NAN; 4];
        assert_eq!(Loss::<V2>::loss_grad(&CrossEntropy, &y, &[1, 1], &mut dy), 5000.0);
        assert_eq!(dy, expected_grad);
        let mut dy32 = [f32::NAN; 4];
        let y32 = y.map(|v| v as f32);
        assert_eq!(Loss::<F2>::loss_grad(&CrossEntropy, &y32, &[1, 1], &mut dy32), 5000.0);
        assert_eq!(dy32, expected_grad.map(|v| v as f32));

        // One sample [10⁴, 0] with class 1: loss 10⁴, gradient [1, −1].
        let mut dy = [0.0; 2];
        assert_eq!(Loss::<V2>::loss_grad(&CrossEntropy, &[1e4, 0.0], &[1], &mut dy), 1e4);
        assert_eq!(dy, [1.0, -1.0]);
        // [−10⁴, 10⁴] with class 0: loss 2·10⁴.
        assert_eq!(Loss::<V2>::loss(&CrossEntropy, &[-1e4, 1e4], &[0]), 2e4);
        assert_eq!(Loss::<F2>::loss(&CrossEntropy, &[-1e4, 1e4], &[0]), 2e4);
        // All equal and huge: log 3, to the precision of f32 (not of 10⁴ in f32).
        let v = Loss::<F3>::loss(&CrossEntropy, &[1e4, 1e4, 1e4], &[2]);
        assert_close(v, 1.0986122886681098, 1e-6);
        // Near-ties of large logits: log(1 + e⁻¹) = 0.31326168751822286.
        let v = Loss::<F2>::loss(&CrossEntropy, &[1e4, 1e4 - 1.0], &[0]);
        assert_close(v, 0.31326168751822286, 1e-6);
        let v = Loss::<V3>::loss(&CrossEntropy, &[-1e4, -1e4, -1e4], &[2]);
        assert_close(v, 1.0986122886681098, 1e-10);
    }

    #[test]
    fn loss_grad_gives_the_bits_of_loss() {
        // `loss_grad` takes its loss from the softmax's exponentials: it must
        // be the value `loss` computes on its own, bit for bit.
        let y = values(10 * 37, 52, -20.0, 20.0);
        let targets: Vec<usize> = (0..37).map(|i| (i * 7) % 10).collect();
        let mut dy = vec![0.0; y.len()];
        let with_grad = Loss::<SVector<f64, 10>>::loss_grad(&CrossEntropy, &y, &targets, &mut dy);
        let alone = Loss::<SVector<f64, 10>>::loss(&CrossEntropy, &y, &targets);
        assert_eq!(with_grad.to_bits(), alone.to_bits());
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let mut dy32 = vec![0.0f32; y.len()];
        let with_grad =
            Loss::<SVector<f32, 10>>::loss_grad(&CrossEntropy, &y32, &targets, &mut dy32);
        let alone = Loss::<SVector<f32, 10>>::loss(&CrossEntropy, &y32, &targets);
        assert_eq!(with_grad.to_bits(), alone.to_bits());
    }

    #[test]
    fn gradient_check() {
        let y = values(4 * 6, 51, -3.0, 3.0);
        let targets = [0, 3, 1, 2, 3, 0];
        let comparisons = check_loss::<SVector<f64, 4>, _>(&CrossEntropy, &y, &targets);
        assert_eq!(comparisons.len(), 24);
        assert_grads("CrossEntropy", &comparisons);
    }

    #[test]
    fn class_out_of_range_is_an_error() {
        assert_eq!(Loss::<V3>::check_target(&CrossEntropy, &2), Ok(()));
        let err = Loss::<V3>::check_target(&CrossEntropy, &3);
        assert_eq!(err, Err(TargetError::ClassOutOfRange { class: 3, classes: 3 }));
        assert_eq!(
            err.unwrap_err().to_string(),
            "class index 3 is out of range for a network with 3 outputs"
        );
    }

    #[test]
    #[should_panic(expected = "class index 3 is out of range for 3 outputs")]
    fn loss_panics_on_class_out_of_range() {
        let _ = Loss::<V3>::loss(&CrossEntropy, &[0.0; 3], &[3]);
    }

    #[test]
    #[should_panic(expected = "class index 5 is out of range for 3 outputs")]
    fn loss_grad_panics_on_class_out_of_range() {
        let _ = Loss::<V3>::loss_grad(&CrossEntropy, &[0.0; 6], &[0, 5], &mut [0.0; 6]);
    }

    #[test]
    fn is_correct_is_argmax() {
        let correct = |y: &[f64], c: usize| Loss::<V3>::is_correct(&CrossEntropy, y, &c);
        assert_eq!(correct(&[0.1, 0.7, 0.2], 1), Some(true));
        assert_eq!(correct(&[0.1, 0.7, 0.2], 0), Some(false));
        assert_eq!(correct(&[-5.0, -7.0, -6.0], 0), Some(true));
        // Ties go to the first, like torch.argmax.
        assert_eq!(correct(&[1.0, 3.0, 3.0], 1), Some(true));
        assert_eq!(correct(&[1.0, 3.0, 3.0], 2), Some(false));
        // NaN never wins, wherever it is.
        assert_eq!(correct(&[f64::NAN, 1.0, 2.0], 2), Some(true));
        assert_eq!(correct(&[f64::NAN, 1.0, 2.0], 0), Some(false));
        assert_eq!(correct(&[1.0, f64::NAN, 0.0], 0), Some(true));
        assert_eq!(correct(&[1.0, f64::NAN, 0.0], 1), Some(false));
        // A diverged network predicts nothing.
        assert_eq!(correct(&[f64::NAN; 3], 0), Some(false));
    }

    #[test]
    fn argmax_skips_nan() {
        assert_eq!(argmax(&[0.0, 2.0, 1.0]), 1);
        assert_eq!(argmax(&[f64::NAN, 2.0, 1.0]), 1);
        assert_eq!(argmax(&[f32::NAN, -1.0, f32::NAN, 3.0]), 3);
        assert_eq!(argmax(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), 0);
    }
}
