use nalgebra::SVector;

use crate::{Float, Layer, Mode, Saved};

/// Flattens a sample's `[C, H, W]` shape into `[C·H·W]`, like PyTorch's
/// `nn.Flatten()`.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[C, H, W]` (any shape of `N` scalars) |
/// | output `y` | `[N]` |
///
/// Samples are already stored flat, channel after channel and row after row
/// (PyTorch's order), so on the data this is the identity: `y = x`, and
/// backward `∂L/∂x = ∂L/∂y`. Only the declared shape changes, which is
/// `network!`'s business. No parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl<T: Float, const N: usize> Layer<T, N, N> for Flatten {
    const PARAMS: usize = 0;

    #[inline]
    fn forward(&self, _params: &[T], x: &SVector<T, N>) -> SVector<T, N> {
        *x
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
        y.copy_from_slice(&x[..y.len()]);
    }

    fn backward_batch(
        &self,
        _params: &[T],
        _saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        _grads: &mut [T],
        _scratch: &mut [T],
    ) {
        if let Some(dx) = dx {
            dx.copy_from_slice(&dy[..dx.len()]);
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_grads, values};

    #[test]
    fn is_the_identity() {
        let x = values(12 * 3, 1, -2.0, 2.0);
        let mut y = vec![f64::NAN; x.len()];
        Layer::<f64, 12, 12>::forward_batch(&Flatten, &[], &x, &mut y, &mut [], Mode::Eval);
        assert_eq!(x, y);
        let single = SVector::<f32, 5>::from([1.0, -2.0, 3.0, 4.5, 0.0]);
        assert_eq!(Layer::<f32, 5, 5>::forward(&Flatten, &[], &single), single);

        let dy = values(12 * 3, 2, -1.0, 1.0);
        let mut dx = vec![f64::NAN; x.len()];
        let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
        Layer::<f64, 12, 12>::backward_batch(
            &Flatten,
            &[],
            saved,
            &dy,
            Some(&mut dx),
            &mut [],
            &mut [],
        );
        assert_eq!(dx, dy);
        assert_eq!(<Flatten as Layer<f64, 12, 12>>::PARAMS, 0);
    }

    #[test]
    fn gradient_check() {
        let x = values(12 * 2, 3, -2.0, 2.0);
        assert_grads("Flatten", &check_layer::<_, 12, 12>(&Flatten, &[], &x, Mode::Eval));
    }
}
