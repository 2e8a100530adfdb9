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

/// Softmax of one sample, `x` to `y` (same length). Returns `max x` and
/// `Σⱼ e^(xⱼ − max x)`, from which the log-sum-exp follows with no second
/// pass of exponentials.
#[inline]
pub(crate) fn softmax_into<T: Float>(x: &[T], y: &mut [T]) -> (T, T) {
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
    (max, sum)
}

impl<T: Float, const N: usize> Layer<T, N, N> for Softmax {
    const PARAMS: usize = 0;

    #[inline]
    fn forward(&self, _params: &[T], x: &SVector<T, N>) -> SVector<T, N> {
        let mut y = SVector::<T, N>::zeros();
        softmax_into(x.as_slice(), y.as_mut_slice());
        y
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
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
        _scratch: &mut [T],
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

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    fn batch<T: Float, const N: usize>(x: &[f64]) -> Vec<T> {
        let x: Vec<T> = x.iter().map(|&v| T::of_f64(v)).collect();
        let mut y = vec![T::zero(); x.len()];
        Layer::<T, N, N>::forward_batch(&Softmax, &[], &x, &mut y, &mut [], Mode::Eval);
        for (x, y) in x.chunks(N).zip(y.chunks(N)) {
            let single = Layer::<T, N, N>::forward(&Softmax, &[], &SVector::from_column_slice(x));
            assert_eq!(single.as_slice(), y, "forward and forward_batch differ");
        }
        y
    }

    #[test]
    fn values_match_literals() {
        let expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
        assert_all_close(&batch::<f64, 3>(&[1.0, 2.0, 3.0]), &expected, 1e-15);
        assert_all_close(&batch::<f32, 3>(&[1.0, 2.0, 3.0]), &expected, 1e-6);
        // Two samples at once, each normalised on its own; a shift changes nothing.
        let y = batch::<f64, 4>(&[0.5, -1.0, 2.0, 0.0, 100.5, 99.0, 102.0, 100.0]);
        let expected =
            [0.15844470951497971, 0.03535379340874887, 0.7100999228861742, 0.09610157419009721];
        assert_all_close(&y[..4], &expected, 1e-15);
        assert_all_close(&y[4..], &expected, 1e-13);
    }

    #[test]
    fn rows_sum_to_one() {
        let x = values(6 * 50, 21, -10.0, 10.0);
        let y = batch::<f64, 6>(&x);
        for (i, row) in y.chunks(6).enumerate() {
            let sum: f64 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-15 * 6.0, "row {i} sums to {sum}");
            assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for x in [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [710.0, 0.0, -710.0]] {
            let y64 = batch::<f64, 3>(&x);
            let y32 = batch::<f32, 3>(&x);
            assert!(y64.iter().all(|v| v.is_finite()), "{x:?} → {y64:?}");
            assert!(y32.iter().all(|v| v.is_finite()), "{x:?} → {y32:?}");
        }
        assert_eq!(batch::<f64, 3>(&[1e4, 0.0, -1e4]), [1.0, 0.0, 0.0]);
        assert_eq!(batch::<f32, 3>(&[1e4, 0.0, -1e4]), [1.0, 0.0, 0.0]);
        assert_all_close(&batch::<f64, 3>(&[-1e4, -1e4, -1e4]), &[1.0 / 3.0; 3], 1e-15);
        assert_eq!(batch::<f32, 2>(&[1e4, 1e4]), [0.5, 0.5]);
    }

    #[test]
    fn backward_matches_hand_computation() {
        // y = softmax([1, 2, 3]), ∂L/∂y = [1, 0, 0]: ∂L/∂xᵢ = yᵢ (δᵢ₀ − y₀).
        let x = [1.0, 2.0, 3.0];
        let y = batch::<f64, 3>(&x);
        let mut dx = vec![f64::NAN; 3];
        let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
        Layer::<f64, 3, 3>::backward_batch(
            &Softmax,
            &[],
            saved,
            &[1.0, 0.0, 0.0],
            Some(&mut dx),
            &mut [],
            &mut [],
        );
        assert_close(dx[0], 0.08192506906499322, 1e-14);
        assert_close(dx[1], -0.022033044520174298, 1e-14);
        assert_close(dx[2], -0.059892024544818935, 1e-14);
        // A constant ∂L/∂y changes nothing: softmax is invariant to shifts.
        Layer::<f64, 3, 3>::backward_batch(
            &Softmax,
            &[],
            saved,
            &[2.0; 3],
            Some(&mut dx),
            &mut [],
            &mut [],
        );
        assert!(dx.iter().all(|d| d.abs() < 1e-15), "{dx:?}");
    }

    #[test]
    fn gradient_check() {
        let x = values(5 * 4, 22, -3.0, 3.0);
        let comparisons = check_layer::<_, 5, 5>(&Softmax, &[], &x, Mode::Eval);
        assert_eq!(comparisons.len(), 20);
        assert_grads("Softmax", &comparisons);
        let x = values(2 * 3, 23, -3.0, 3.0);
        assert_grads("Softmax(2)", &check_layer::<_, 2, 2>(&Softmax, &[], &x, Mode::Eval));
    }
}
