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

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::gradcheck::check_loss;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    type V1 = SVector<f64, 1>;
    type V2 = SVector<f64, 2>;
    type F2 = SVector<f32, 2>;

    #[test]
    fn values_and_gradients_match_pytorch() {
        // −(t ln p + (1 − t) ln(1 − p)) for (p, t) = (0.8, 1), (0.3, 0), (0.6, 0.25), (0.5, 0.5),
        // averaged over the 4 elements; ∂L/∂p = (p − t) / (p (1 − p)) / 4.
        let y = [0.8, 0.3, 0.6, 0.5];
        let t = [V2::new(1.0, 0.0), V2::new(0.25, 0.5)];
        let terms =
            [0.2231435513142097, 0.35667494393873234, 0.814924454847114, core::f64::consts::LN_2];
        for (i, &expected) in terms.iter().enumerate() {
            let ti = V1::new(t[i / 2][i % 2]);
            assert_close(Loss::<V1>::loss(&BinaryCrossEntropy, &y[i..=i], &[ti]), expected, 1e-14);
        }
        let mut dy = [f64::NAN; 4];
        let value = Loss::<V2>::loss_grad(&BinaryCrossEntropy, &y, &t, &mut dy);
        assert_close(value, 0.5219725326650003, 1e-14);
        assert_close(Loss::<V2>::loss(&BinaryCrossEntropy, &y, &t), 0.5219725326650003, 1e-14);
        assert_all_close(&dy, &[-0.3125, 0.35714285714285715, 0.3645833333333333, 0.0], 1e-14);

        let y32 = y.map(|v| v as f32);
        let t32 = [F2::new(1.0, 0.0), F2::new(0.25, 0.5)];
        let mut dy32 = [0.0f32; 4];
        let value = Loss::<F2>::loss_grad(&BinaryCrossEntropy, &y32, &t32, &mut dy32);
        assert_close(value, 0.5219725326650003, 1e-6);
        assert_all_close(&dy32, &[-0.3125, 0.35714285714285715, 0.3645833333333333, 0.0], 1e-5);
    }

    #[test]
    fn logarithms_are_clamped_at_minus_100() {
        // PyTorch's BCELoss: log(0) is clamped to −100, and the gradient's
        // denominator p (1 − p) to at least 10⁻¹².
        let cases = [
            // (p, t, loss, gradient)
            (0.0, 1.0, 100.0, -1e12),
            (1.0, 0.0, 100.0, 1e12),
            (0.0, 0.0, 0.0, 0.0),
            (1.0, 1.0, 0.0, 0.0),
            (0.0, 0.5, 50.0, -0.5e12),
        ];
        for (p, t, loss, grad) in cases {
            let mut dy = [f64::NAN];
            let value = Loss::<V1>::loss_grad(&BinaryCrossEntropy, &[p], &[V1::new(t)], &mut dy);
            assert_close(value, loss, 1e-14);
            assert_close(dy[0], grad, 1e-14);
            let mut dy = [f32::NAN];
            let t = SVector::<f32, 1>::new(t as f32);
            let value =
                Loss::<SVector<f32, 1>>::loss_grad(&BinaryCrossEntropy, &[p as f32], &[t], &mut dy);
            assert_close(value, loss, 1e-6);
            assert_close(dy[0], grad, 1e-6);
        }
        // e⁻²⁰⁰ is below the clamp: the loss is 100, not 200.
        let tiny = (-200.0f64).exp();
        assert_close(Loss::<V1>::loss(&BinaryCrossEntropy, &[tiny], &[V1::new(1.0)]), 100.0, 1e-14);
    }

    #[test]
    fn gradient_check() {
        let y = values(3 * 4, 61, 0.05, 0.95);
        let t: alloc::vec::Vec<SVector<f64, 3>> = values(3 * 4, 62, 0.0, 1.0)
            .chunks(3)
            .map(|c| {
                SVector::<f64, 3>::from_column_slice(c).map(|v| {
                    if v < 0.3 {
                        0.0
                    } else if v > 0.7 {
                        1.0
                    } else {
                        v
                    }
                })
            })
            .collect();
        assert_grads(
            "BinaryCrossEntropy",
            &check_loss::<SVector<f64, 3>, _>(&BinaryCrossEntropy, &y, &t),
        );
    }

    #[test]
    fn targets_must_be_probabilities() {
        let check = |t: [f64; 2]| Loss::<V2>::check_target(&BinaryCrossEntropy, &V2::from(t));
        assert_eq!(check([0.0, 1.0]), Ok(()));
        assert_eq!(check([0.25, 0.5]), Ok(()));
        assert_eq!(check([1.5, 0.0]), Err(TargetError::NotAProbability { value: 1.5 }));
        assert_eq!(check([0.0, -0.1]), Err(TargetError::NotAProbability { value: -0.1 }));
        assert!(
            matches!(check([f64::NAN, 0.0]), Err(TargetError::NotFinite { value }) if value.is_nan())
        );
        assert_eq!(
            check([0.0, f64::NEG_INFINITY]),
            Err(TargetError::NotFinite { value: f64::NEG_INFINITY })
        );
        let f32_check = Loss::<F2>::check_target(&BinaryCrossEntropy, &F2::new(2.0, 0.0));
        assert_eq!(f32_check, Err(TargetError::NotAProbability { value: 2.0 }));
    }

    #[test]
    fn is_correct_thresholds_at_one_half() {
        let correct = |y: [f64; 2], t: [f64; 2]| {
            Loss::<V2>::is_correct(&BinaryCrossEntropy, &y, &V2::from(t))
        };
        assert_eq!(correct([0.7, 0.2], [1.0, 0.0]), Some(true));
        assert_eq!(correct([0.7, 0.6], [1.0, 0.0]), Some(false));
        assert_eq!(correct([0.4, 0.2], [1.0, 0.0]), Some(false));
        assert_eq!(correct([0.51, 0.49], [0.9, 0.1]), Some(true));
        assert_eq!(correct([f64::NAN, 0.2], [1.0, 0.0]), Some(false));
    }
}
