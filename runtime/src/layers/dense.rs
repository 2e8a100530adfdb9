use nalgebra::SVector;
use rand::{Rng, RngExt};

use crate::gemm::{Mat, MatMut, gemm, gemm_bias};
use crate::kernels::matvec_bias;
use crate::{Float, Layer, Mode, Saved};

/// A fully connected layer: `y = W x + b`, like PyTorch's `nn.Linear`.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[IN]` |
/// | weight `W` | `[OUT, IN]`, row-major |
/// | bias `b` | `[OUT]` |
/// | output `y` | `[OUT]` |
///
/// Parameters are `IN·OUT + OUT` scalars: the weight row by row, then the bias
/// (PyTorch's `weight` then `bias`). Row-major `[OUT, IN]` is column-major
/// `[IN, OUT]`, so the kernels read `Wᵀ` with no copy.
///
/// Backward, for a batch `X` (`[IN, n]`) and `∂L/∂Y` (`[OUT, n]`):
/// `∂L/∂W = ∂L/∂Y · Xᵀ`, `∂L/∂b = Σ_columns ∂L/∂Y`, `∂L/∂X = Wᵀ · ∂L/∂Y`.
///
/// Initialisation is PyTorch's default for `nn.Linear`: weight and bias
/// uniform in `±1/√IN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dense;

impl<T: Float, const IN: usize, const OUT: usize> Layer<T, IN, OUT> for Dense {
    const PARAMS: usize = IN * OUT + OUT;

    fn init<R: Rng + ?Sized>(&self, params: &mut [T], rng: &mut R) {
        let bound = 1.0 / nalgebra::ComplexField::sqrt(IN as f64);
        for p in &mut params[..IN * OUT + OUT] {
            *p = T::of_f64((rng.random::<f64>() * 2.0 - 1.0) * bound);
        }
    }

    #[inline]
    fn forward(&self, params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT> {
        // Row `j` of the row-major weight is contiguous: `yⱼ = bⱼ + W[j, :]·x`.
        let (w, b) = params[..IN * OUT + OUT].split_at(IN * OUT);
        let mut y = SVector::<T, OUT>::zeros();
        matvec_bias(w, x.as_slice(), b, y.as_mut_slice());
        y
    }

    fn forward_batch(&self, params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
        let n = x.len() / IN;
        let (w, b) = params[..IN * OUT + OUT].split_at(IN * OUT);
        // Y = W·X + b 1ᵀ, with W row-major [OUT, IN] and X column-major [IN, n].
        gemm_bias(
            Mat::row_major(w, OUT, IN),
            Mat::col_major(x, IN, n),
            b,
            MatMut::col_major(y, OUT, n),
        );
    }

    fn backward_batch(
        &self,
        params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        grads: &mut [T],
        _scratch: &mut [T],
    ) {
        let n = dy.len() / OUT;
        let (dw, db) = grads[..IN * OUT + OUT].split_at_mut(IN * OUT);
        let dy_mat = Mat::col_major(dy, OUT, n);
        // ∂L/∂W += ∂L/∂Y · Xᵀ, written row-major like the weight.
        let xt = Mat::col_major(saved.x, IN, n).t();
        gemm(T::one(), dy_mat, xt, T::one(), MatMut::row_major(dw, OUT, IN));
        // ∂L/∂b += Σ over the batch of ∂L/∂Y.
        for column in dy.chunks_exact(OUT) {
            for (db, &d) in db.iter_mut().zip(column) {
                *db += d;
            }
        }
        // ∂L/∂X = Wᵀ · ∂L/∂Y.
        if let Some(dx) = dx {
            let wt = Mat::row_major(&params[..IN * OUT], OUT, IN).t();
            gemm(T::one(), wt, dy_mat, T::zero(), MatMut::col_major(dx, IN, n));
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_all_close, assert_close, assert_grads, values};

    /// `W = [[1, 2], [3, −4], [0.5, −0.25]]` (row-major `[3, 2]`), `b = [0.1, −0.2, 0.3]`.
    const TINY: [f64; 9] = [1.0, 2.0, 3.0, -4.0, 0.5, -0.25, 0.1, -0.2, 0.3];

    fn forward<const IN: usize, const OUT: usize>(params: &[f64], x: &[f64]) -> Vec<f64> {
        Layer::<f64, IN, OUT>::forward(&Dense, params, &SVector::from_column_slice(x))
            .as_slice()
            .to_vec()
    }

    fn forward_batch<const IN: usize, const OUT: usize>(params: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = vec![f64::NAN; OUT * x.len() / IN];
        Layer::<f64, IN, OUT>::forward_batch(&Dense, params, x, &mut y, &mut [], Mode::Eval);
        y
    }

    #[test]
    fn forward_matches_hand_computation() {
        // y = W x + b with x = [2, −1]:
        // [1·2 + 2·(−1) + 0.1, 3·2 + (−4)(−1) − 0.2, 0.5·2 + (−0.25)(−1) + 0.3].
        let expected = [0.1, 9.8, 1.55];
        assert_all_close(&forward::<2, 3>(&TINY, &[2.0, -1.0]), &expected, 1e-15);
        assert_all_close(&forward_batch::<2, 3>(&TINY, &[2.0, -1.0]), &expected, 1e-15);
        // A batch of two: the second sample x = [0, 1] gives column 1 of W plus b.
        assert_all_close(
            &forward_batch::<2, 3>(&TINY, &[2.0, -1.0, 0.0, 1.0]),
            &[0.1, 9.8, 1.55, 2.1, -4.2, 0.05],
            1e-15,
        );
    }

    #[test]
    fn backward_matches_hand_computation() {
        // Two samples x = [2, −1] and [0, 1], dy = [1, 2, 3] and [−1, 0, 1]:
        // ∂W = Σ dy xᵀ, ∂b = Σ dy, ∂x = Wᵀ dy.
        let x = [2.0, -1.0, 0.0, 1.0];
        let dy = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let y = forward_batch::<2, 3>(&TINY, &x);
        let mut dx = vec![f64::NAN; 4]; // overwritten, never read
        let mut grads = vec![0.0; 9];
        let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
        Layer::<f64, 2, 3>::backward_batch(
            &Dense,
            &TINY,
            saved,
            &dy,
            Some(&mut dx),
            &mut grads,
            &mut [],
        );
        #[rustfmt::skip]
        let expected_grads = [
            2.0, -1.0 - 1.0,   // row 0: 1·[2, −1] + (−1)·[0, 1]
            4.0, -2.0,         // row 1: 2·[2, −1] + 0·[0, 1]
            6.0, -3.0 + 1.0,   // row 2: 3·[2, −1] + 1·[0, 1]
            0.0, 2.0, 4.0,     // bias: [1 − 1, 2 + 0, 3 + 1]
        ];
        assert_all_close(&grads, &expected_grads, 1e-15);
        // Wᵀ [1, 2, 3] = [1 + 6 + 1.5, 2 − 8 − 0.75]; Wᵀ [−1, 0, 1] = [−1 + 0.5, −2 − 0.25].
        assert_all_close(&dx, &[8.5, -6.75, -0.5, -2.25], 1e-15);
    }

    fn batch_matches_single<const IN: usize, const OUT: usize>(n: usize) {
        let params = values(IN * OUT + OUT, 1, -1.0, 1.0);
        let x = values(IN * n, 2, -2.0, 2.0);
        let batch = forward_batch::<IN, OUT>(&params, &x);
        for (s, (x, y)) in x.chunks(IN).zip(batch.chunks(OUT)).enumerate() {
            let single = forward::<IN, OUT>(&params, x);
            for (o, (&b, &s1)) in y.iter().zip(&single).enumerate() {
                // The two paths may sum in different orders.
                assert!(
                    (b - s1).abs() <= 1e-12 * (1.0 + s1.abs()),
                    "sample {s}, output {o}: forward_batch {b:e}, forward {s1:e}"
                );
            }
        }
    }

    #[test]
    fn forward_batch_equals_forward() {
        batch_matches_single::<2, 3>(1);
        batch_matches_single::<2, 3>(4);
        batch_matches_single::<3, 1>(5);
        // Every dimension above 5: nalgebra hands the product to matrixmultiply.
        batch_matches_single::<7, 6>(9);
        batch_matches_single::<16, 12>(33);
    }

    fn gradcheck<const IN: usize, const OUT: usize>(n: usize) {
        let params = values(IN * OUT + OUT, 3, -1.0, 1.0);
        let x = values(IN * n, 4, -2.0, 2.0);
        let comparisons = check_layer::<_, IN, OUT>(&Dense, &params, &x, Mode::Eval);
        assert_eq!(comparisons.len(), IN * OUT + OUT + IN * n);
        assert_grads("Dense", &comparisons);
    }

    #[test]
    fn gradient_check() {
        gradcheck::<2, 3>(1);
        gradcheck::<2, 3>(4);
        gradcheck::<7, 6>(9);
    }

    /// The parameter gradients of one backward pass, with or without `dx`.
    fn grads<const IN: usize, const OUT: usize>(n: usize, want_dx: bool, times: usize) -> Vec<f64> {
        let params = values(IN * OUT + OUT, 5, -1.0, 1.0);
        let x = values(IN * n, 6, -2.0, 2.0);
        let dy = values(OUT * n, 7, -1.0, 1.0);
        let y = forward_batch::<IN, OUT>(&params, &x);
        let mut grads = vec![0.0; IN * OUT + OUT];
        let mut dx = vec![0.0; IN * n];
        for _ in 0..times {
            let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
            let dx = if want_dx { Some(&mut dx[..]) } else { None };
            Layer::<f64, IN, OUT>::backward_batch(
                &Dense,
                &params,
                saved,
                &dy,
                dx,
                &mut grads,
                &mut [],
            );
        }
        grads
    }

    #[test]
    fn no_dx_gives_the_same_parameter_gradients() {
        assert_eq!(grads::<2, 3>(3, true, 1), grads::<2, 3>(3, false, 1));
        assert_eq!(grads::<7, 6>(9, true, 1), grads::<7, 6>(9, false, 1));
    }

    #[test]
    fn gradients_accumulate() {
        for (once, twice) in [
            (grads::<2, 3>(3, true, 1), grads::<2, 3>(3, true, 2)),
            (grads::<7, 6>(9, true, 1), grads::<7, 6>(9, true, 2)),
        ] {
            let doubled: Vec<f64> = once.iter().map(|g| 2.0 * g).collect();
            assert_all_close(&twice, &doubled, 1e-15);
        }
    }

    #[test]
    fn init_is_uniform_within_pytorch_bound() {
        const IN: usize = 100;
        const OUT: usize = 50;
        const PARAMS: usize = IN * OUT + OUT;
        let bound = 0.1; // 1/√100
        let mut params = vec![f64::NAN; PARAMS + 3];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        Layer::<f64, IN, OUT>::init(&Dense, &mut params, &mut rng);
        assert!(params[PARAMS..].iter().all(|p| p.is_nan()), "init wrote past its parameters");
        let params = &params[..PARAMS];
        for (i, &p) in params.iter().enumerate() {
            assert!(p.abs() <= bound, "parameter {i} is {p}, outside ±{bound}");
        }
        // U(−0.1, 0.1): mean 0 with a standard error of 0.0577/√5050 ≈ 8·10⁻⁴,
        // variance 0.1²/3 ≈ 3.33·10⁻³.
        let mean = params.iter().sum::<f64>() / PARAMS as f64;
        assert!(mean.abs() < 4e-3, "mean {mean}");
        let var = params.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / PARAMS as f64;
        assert!((var - bound * bound / 3.0).abs() < 0.1 * bound * bound / 3.0, "variance {var}");
        let max = params.iter().copied().fold(f64::MIN, f64::max);
        let min = params.iter().copied().fold(f64::MAX, f64::min);
        assert!(max > 0.99 * bound && min < -0.99 * bound, "range [{min}, {max}]");
        // The bias is initialised too.
        assert!(params[IN * OUT..].iter().any(|&b| b != 0.0));

        // The same seed gives the same values; another seed different ones.
        let mut again = vec![0.0; PARAMS];
        Layer::<f64, IN, OUT>::init(&Dense, &mut again, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(params, &again[..]);
        Layer::<f64, IN, OUT>::init(&Dense, &mut again, &mut ChaCha8Rng::seed_from_u64(8));
        assert_ne!(params, &again[..]);

        // In f32 too, with the bound of IN = 3 (1/√3).
        let mut small = [0.0f32; 3 * 4 + 4];
        Layer::<f32, 3, 4>::init(&Dense, &mut small, &mut rng);
        let bound = 1.0 / 3f32.sqrt();
        assert!(small.iter().all(|p| p.abs() <= bound && *p != 0.0), "{small:?}");
    }

    #[test]
    fn f32_agrees_with_f64() {
        let params = values(7 * 6 + 6, 8, -1.0, 1.0);
        let x = values(7 * 9, 9, -2.0, 2.0);
        let expected = forward_batch::<7, 6>(&params, &x);
        let params32: Vec<f32> = params.iter().map(|&v| v as f32).collect();
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut y32 = vec![0.0f32; 6 * 9];
        Layer::<f32, 7, 6>::forward_batch(&Dense, &params32, &x32, &mut y32, &mut [], Mode::Eval);
        for (i, (&a, &e)) in y32.iter().zip(&expected).enumerate() {
            assert!((f64::from(a) - e).abs() <= 1e-5 * (1.0 + e.abs()), "{i}: f32 {a}, f64 {e}");
        }
        for (x32, e) in x32.chunks(7).zip(expected.chunks(6)) {
            let y =
                Layer::<f32, 7, 6>::forward(&Dense, &params32, &SVector::from_column_slice(x32));
            for (&a, &e) in y.iter().zip(e) {
                assert!((f64::from(a) - e).abs() <= 1e-5 * (1.0 + e.abs()), "f32 {a}, f64 {e}");
            }
        }
        let tiny32 = TINY.map(|v| v as f32);
        let y = Layer::<f32, 2, 3>::forward(&Dense, &tiny32, &SVector::from([2.0, -1.0]));
        for (&a, e) in y.iter().zip([0.1, 9.8, 1.55]) {
            assert_close(a, e, 1e-6);
        }
    }
}
