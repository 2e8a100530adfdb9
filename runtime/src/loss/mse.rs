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

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_loss;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    type V2 = SVector<f64, 2>;

    #[test]
    fn value_and_gradient_match_hand_computation() {
        // y − t = [0.5, −0.5, 0, 3]: L = (0.25 + 0.25 + 0 + 9) / 4 = 2.375,
        // ∂L/∂y = 2 (y − t) / 4.
        let y = [1.0, 2.0, 3.0, 4.0];
        let t = [V2::new(0.5, 2.5), V2::new(3.0, 1.0)];
        assert_close(Loss::<V2>::loss(&Mse, &y, &t), 2.375, 1e-15);
        let mut dy = [f64::NAN; 4];
        assert_close(Loss::<V2>::loss_grad(&Mse, &y, &t, &mut dy), 2.375, 1e-15);
        assert_all_close(&dy, &[0.25, -0.25, 0.0, 1.5], 1e-15);

        let y32 = [1.0f32, 2.0, 3.0, 4.0];
        let t32 = [SVector::<f32, 2>::new(0.5, 2.5), SVector::<f32, 2>::new(3.0, 1.0)];
        let mut dy32 = [0.0f32; 4];
        assert_close(Loss::<SVector<f32, 2>>::loss_grad(&Mse, &y32, &t32, &mut dy32), 2.375, 1e-7);
        assert_all_close(&dy32, &[0.25, -0.25, 0.0, 1.5], 1e-7);
    }

    #[test]
    fn empty_batch_is_zero() {
        let mut dy: [f64; 0] = [];
        assert_eq!(Loss::<V2>::loss_grad(&Mse, &[], &[], &mut dy), 0.0);
        assert_eq!(Loss::<V2>::loss(&Mse, &[], &[]), 0.0);
    }

    #[test]
    fn gradient_check() {
        let y = values(3 * 5, 41, -2.0, 2.0);
        let t: Vec<SVector<f64, 3>> =
            values(3 * 5, 42, -2.0, 2.0).chunks(3).map(SVector::from_column_slice).collect();
        assert_grads("Mse", &check_loss::<SVector<f64, 3>, _>(&Mse, &y, &t));
    }

    #[test]
    fn large_values_stay_finite() {
        let y = [1e4f32, -1e4];
        let t = [SVector::<f32, 2>::new(-1e4, 1e4)];
        let mut dy = [0.0f32; 2];
        // (2·10⁴)² = 4·10⁸ each; ∂L/∂y = ±2·2·10⁴/2.
        assert_close(Loss::<SVector<f32, 2>>::loss_grad(&Mse, &y, &t, &mut dy), 4e8, 1e-7);
        assert_all_close(&dy, &[2e4, -2e4], 1e-7);
    }

    #[test]
    fn targets_must_be_finite() {
        assert_eq!(Loss::<V2>::check_target(&Mse, &V2::new(5.0, -7.0)), Ok(()));
        assert!(matches!(
            Loss::<V2>::check_target(&Mse, &V2::new(0.0, f64::NAN)),
            Err(TargetError::NotFinite { value }) if value.is_nan()
        ));
        assert_eq!(
            Loss::<V2>::check_target(&Mse, &V2::new(f64::INFINITY, 0.0)),
            Err(TargetError::NotFinite { value: f64::INFINITY })
        );
        // Regression: no accuracy.
        assert_eq!(Loss::<V2>::is_correct(&Mse, &[1.0, 2.0], &V2::new(1.0, 2.0)), None);
    }

    #[test]
    #[should_panic(expected = "loss: 3 outputs for 2 targets")]
    fn mismatched_batch_panics() {
        let t = [V2::zeros(); 2];
        let _ = Loss::<V2>::loss(&Mse, &[0.0; 3], &t);
    }

    #[test]
    #[should_panic(expected = "gradient buffer")]
    fn mismatched_gradient_buffer_panics() {
        let t = [V2::zeros(); 2];
        let _ = Loss::<V2>::loss_grad(&Mse, &[0.0; 4], &t, &mut [0.0; 3]);
    }
}
