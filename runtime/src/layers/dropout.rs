use nalgebra::SVector;

use crate::{Float, Layer, Mode, Saved};

/// Dropout, like `nn.Dropout(p)`: in training, each element is zeroed with
/// probability `p` and the others are scaled by `1 / (1 − p)` ("inverted"
/// dropout, so inference needs no rescaling); in inference it is the identity.
///
/// The mask is a pure function of the pass's seed (see [`Mode`]) and of the
/// element's position in the batch, so the backward pass redraws it instead of
/// storing it, and a seed gives the same masks however the batch is split.
/// Backward: `∂L/∂x = mask · ∂L/∂y / (1 − p)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// The probability of zeroing an element, in `[0, 1)`.
    pub p: f64,
}

impl Dropout {
    /// The factor of element `i` of the batch under `seed`: 0 or `1 / (1 − p)`.
    #[inline(always)]
    fn factor<T: Float>(&self, seed: u64, i: usize, scale: T) -> T {
        if crate::rng::uniform(seed, i as u64) < self.p { T::zero() } else { scale }
    }

    /// Writes `out[i] = a[i] · factor(i)`; a copy outside training or at `p = 0`.
    fn apply<T: Float>(&self, a: &[T], out: &mut [T], mode: Mode) {
        match mode {
            Mode::Train { seed } if self.p > 0.0 => {
                let scale = T::of_f64(1.0 / (1.0 - self.p));
                for (i, (out, &a)) in out.iter_mut().zip(a).enumerate() {
                    *out = a * self.factor(seed, i, scale);
                }
            }
            _ => out.copy_from_slice(&a[..out.len()]),
        }
    }
}

impl<T: Float, const N: usize> Layer<T, N, N> for Dropout {
    const PARAMS: usize = 0;

    #[inline]
    fn forward(&self, _params: &[T], x: &SVector<T, N>) -> SVector<T, N> {
        *x
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], mode: Mode) {
        self.apply(x, y, mode);
    }

    fn backward_batch(
        &self,
        _params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        _grads: &mut [T],
    ) {
        if let Some(dx) = dx {
            self.apply(dy, dx, saved.mode);
        }
    }
}
