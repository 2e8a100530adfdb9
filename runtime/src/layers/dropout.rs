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

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], mode: Mode) {
        self.apply(x, y, mode);
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
        if let Some(dx) = dx {
            self.apply(dy, dx, saved.mode);
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_grads, values};

    fn run(p: f64, x: &[f64], mode: Mode) -> Vec<f64> {
        let mut y = vec![f64::NAN; x.len()];
        Layer::<f64, 4, 4>::forward_batch(&Dropout { p }, &[], x, &mut y, &mut [], mode);
        y
    }

    fn ones(n: usize) -> Vec<f64> {
        vec![1.0; n]
    }

    #[test]
    fn eval_and_forward_are_the_identity() {
        let x = values(4 * 10, 31, -2.0, 2.0);
        assert_eq!(run(0.5, &x, Mode::Eval), x);
        let v = SVector::<f64, 4>::from_column_slice(&x[..4]);
        assert_eq!(Layer::<f64, 4, 4>::forward(&Dropout { p: 0.5 }, &[], &v), v);
        assert_eq!(Layer::<f64, 4, 4>::forward(&Dropout { p: 0.9 }, &[], &v), v);
    }

    #[test]
    fn zero_probability_is_the_identity_in_training() {
        let x = values(4 * 10, 32, -2.0, 2.0);
        assert_eq!(run(0.0, &x, Mode::Train { seed: 1 }), x);
    }

    #[test]
    fn drops_a_fraction_p_and_scales_the_rest() {
        const N: usize = 100_000;
        for p in [0.1, 0.3, 0.5, 0.8] {
            let y = run(p, &ones(N), Mode::Train { seed: 42 });
            let dropped = y.iter().filter(|&&v| v == 0.0).count();
            let fraction = dropped as f64 / N as f64;
            // The standard deviation of the fraction is √(p(1−p)/N) ≤ 0.0016.
            assert!((fraction - p).abs() < 0.01, "p = {p}: dropped {fraction}");
            let scale = 1.0 / (1.0 - p);
            assert!(y.iter().all(|&v| v == 0.0 || v == scale), "p = {p}: kept values not 1/(1−p)");
        }
        // Kept values are x / (1 − p) for any x.
        let x = values(4 * 100, 33, -2.0, 2.0);
        let y = run(0.25, &x, Mode::Train { seed: 3 });
        for (&x, &y) in x.iter().zip(&y) {
            assert!(y == 0.0 || (y - x / 0.75).abs() <= 1e-15 * y.abs(), "x = {x}, y = {y}");
        }
    }

    #[test]
    fn the_mask_depends_on_the_seed_only() {
        let x = ones(4 * 1000);
        let a = run(0.5, &x, Mode::Train { seed: 7 });
        assert_eq!(a, run(0.5, &x, Mode::Train { seed: 7 }), "same seed, different mask");
        let b = run(0.5, &x, Mode::Train { seed: 8 });
        assert_ne!(a, b, "different seeds, same mask");
        // Masks of different seeds are independent: they agree on about half the elements.
        let same = a.iter().zip(&b).filter(|(a, b)| a == b).count();
        assert!((1700..2300).contains(&same), "{same} of 4000 agree");
    }

    #[test]
    fn backward_uses_the_forward_mask() {
        let x = values(4 * 50, 34, 0.5, 2.0); // never 0, so a 0 in y is a dropped element
        let mode = Mode::Train { seed: 9 };
        let y = run(0.4, &x, mode);
        let dy = values(4 * 50, 35, 0.5, 2.0);
        let mut dx = vec![f64::NAN; dy.len()];
        let saved = Saved { x: &x, y: &y, mode };
        Layer::<f64, 4, 4>::backward_batch(
            &Dropout { p: 0.4 },
            &[],
            saved,
            &dy,
            Some(&mut dx),
            &mut [],
            &mut [],
        );
        for i in 0..dx.len() {
            let expected = if y[i] == 0.0 { 0.0 } else { dy[i] / 0.6 };
            assert!(
                (dx[i] - expected).abs() <= 1e-15 * expected.abs(),
                "{i}: {} vs {expected}",
                dx[i]
            );
        }
        // In Eval, backward is the identity too.
        let saved = Saved { x: &x, y: &x, mode: Mode::Eval };
        Layer::<f64, 4, 4>::backward_batch(
            &Dropout { p: 0.4 },
            &[],
            saved,
            &dy,
            Some(&mut dx),
            &mut [],
            &mut [],
        );
        assert_eq!(dx, dy);
    }

    #[test]
    fn gradient_check_in_training() {
        let x = values(4 * 8, 36, -2.0, 2.0);
        let layer = Dropout { p: 0.3 };
        let comparisons = check_layer::<_, 4, 4>(&layer, &[], &x, Mode::Train { seed: 0xd0 });
        // Some elements are dropped and some kept, so both kinds are checked.
        let zero = comparisons.iter().filter(|c| c.analytic == 0.0).count();
        assert!(zero > 0 && zero < comparisons.len(), "{zero} of {} dropped", comparisons.len());
        assert_grads("Dropout(0.3)", &comparisons);
    }
}
