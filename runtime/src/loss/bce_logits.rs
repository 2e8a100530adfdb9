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

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::gradcheck::check_loss;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    type V1 = SVector<f64, 1>;
    type V2 = SVector<f64, 2>;
    type F1 = SVector<f32, 1>;

    #[test]
    fn values_and_gradients_match_pytorch() {
        // ℓ = −(t ln σ(x) + (1 − t) ln(1 − σ(x))) for (x, t) = (0, 1), (2, 1), (−1, 0.3), (3.5, 0),
        // averaged over the 4 elements; ∂L/∂x = (σ(x) − t) / 4.
        let y = [0.0, 2.0, -1.0, 3.5];
        let t = [V2::new(1.0, 1.0), V2::new(0.3, 0.0)];
        let terms =
            [core::f64::consts::LN_2, 0.1269280110429725, 0.6132616875182229, 3.5297504182726205];
        for (i, &expected) in terms.iter().enumerate() {
            let ti = V1::new(t[i / 2][i % 2]);
            assert_close(Loss::<V1>::loss(&BceWithLogits, &y[i..=i], &[ti]), expected, 1e-14);
        }
        let expected_grad =
            [-0.125, -0.02980073050552939, -0.007764644657501217, 0.2426719423121609];
        let mut dy = [f64::NAN; 4];
        let value = Loss::<V2>::loss_grad(&BceWithLogits, &y, &t, &mut dy);
        assert_close(value, 1.2407718243484402, 1e-14);
        assert_close(Loss::<V2>::loss(&BceWithLogits, &y, &t), 1.2407718243484402, 1e-14);
        assert_all_close(&dy, &expected_grad, 1e-14);

        let y32 = y.map(|v| v as f32);
        let t32 = [SVector::<f32, 2>::new(1.0, 1.0), SVector::<f32, 2>::new(0.3, 0.0)];
        let mut dy32 = [0.0f32; 4];
        let value = Loss::<SVector<f32, 2>>::loss_grad(&BceWithLogits, &y32, &t32, &mut dy32);
        assert_close(value, 1.2407718243484402, 1e-6);
        assert_all_close(&dy32, &expected_grad, 1e-5);
    }

    #[test]
    fn extreme_logits_give_exact_values() {
        // (x, t, loss, ∂loss/∂x) for one element: the loss is |x| when the
        // logit is confidently wrong and 0 when it is confidently right.
        let cases = [
            (1e4, 0.0, 1e4, 1.0),
            (1e4, 1.0, 0.0, 0.0),
            (-1e4, 1.0, 1e4, -1.0),
            (-1e4, 0.0, 0.0, 0.0),
            (1e4, 0.5, 5e3, 0.5),
            (-1e4, 0.25, 2.5e3, -0.25),
        ];
        for (x, t, loss, grad) in cases {
            let mut dy = [f64::NAN];
            assert_eq!(Loss::<V1>::loss_grad(&BceWithLogits, &[x], &[V1::new(t)], &mut dy), loss);
            assert_eq!(dy[0], grad, "x = {x}, t = {t}");
            let mut dy = [f32::NAN];
            let t32 = F1::new(t as f32);
            let value = Loss::<F1>::loss_grad(&BceWithLogits, &[x as f32], &[t32], &mut dy);
            assert_eq!(value, loss as f32, "x = {x}, t = {t}");
            assert_eq!(dy[0], grad as f32, "x = {x}, t = {t}");
        }
        // A batch of two averages: (10⁴ + 0) / 2, gradients [1, 0] / 2.
        let mut dy = [0.0; 2];
        let value = Loss::<V1>::loss_grad(
            &BceWithLogits,
            &[1e4, -1e4],
            &[V1::new(0.0), V1::new(0.0)],
            &mut dy,
        );
        assert_eq!(value, 5e3);
        assert_eq!(dy, [0.5, 0.0]);
    }

    #[test]
    fn gradient_check() {
        let y = values(3 * 4, 71, -4.0, 4.0);
        let t: alloc::vec::Vec<SVector<f64, 3>> =
            values(3 * 4, 72, 0.0, 1.0).chunks(3).map(SVector::from_column_slice).collect();
        assert_grads("BceWithLogits", &check_loss::<SVector<f64, 3>, _>(&BceWithLogits, &y, &t));
    }

    #[test]
    fn targets_must_be_probabilities() {
        let check = |t: [f64; 2]| Loss::<V2>::check_target(&BceWithLogits, &V2::from(t));
        assert_eq!(check([0.0, 1.0]), Ok(()));
        assert_eq!(check([1.0001, 0.0]), Err(TargetError::NotAProbability { value: 1.0001 }));
        assert_eq!(check([-1.0, 0.0]), Err(TargetError::NotAProbability { value: -1.0 }));
        assert!(
            matches!(check([0.0, f64::NAN]), Err(TargetError::NotFinite { value }) if value.is_nan())
        );
    }

    #[test]
    fn is_correct_thresholds_logits_at_zero() {
        let correct =
            |y: [f64; 2], t: [f64; 2]| Loss::<V2>::is_correct(&BceWithLogits, &y, &V2::from(t));
        assert_eq!(correct([0.5, -0.3], [1.0, 0.0]), Some(true));
        assert_eq!(correct([0.5, 0.3], [1.0, 0.0]), Some(false));
        assert_eq!(correct([-2.0, -0.3], [1.0, 0.0]), Some(false));
        assert_eq!(correct([-2.0, 1e4], [0.2, 0.8]), Some(true));
        assert_eq!(correct([f64::NAN, -1.0], [1.0, 0.0]), Some(false));
    }
}
