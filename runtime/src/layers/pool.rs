use nalgebra::SVector;

use crate::gemm::{Rows, for_each_piece};
use crate::{Float, Layer, Mode, Saved};

/// Samples per share when the cores share a batch's pooling (each sample is
/// pooled on its own, so any cut gives the same result).
const SHARE: usize = 8;

/// 2-D max pooling over `K × K` windows with stride `S`, each channel on its
/// own, like PyTorch's `nn.MaxPool2d(K, stride=S)` (no padding, dilation 1,
/// rounding the output size down).
///
/// The const parameters, in order: `IN = C·H·W` and `OUT = C·HO·WO` (the flat
/// widths [`Layer`] is implemented for), the input's channels `C`, height `H`
/// and width `W`, the window size `K` and the stride `S` (PyTorch's default
/// stride is the window size: `S = K`). Windows that would cross the bottom or
/// right edge are dropped:
///
/// `HO = (H − K) / S + 1`, `WO = (W − K) / S + 1`
///
/// (available as [`MaxPool2d::HO`] and [`MaxPool2d::WO`]). Using the layer with
/// sizes that disagree (`IN ≠ C·H·W`, `OUT ≠ C·HO·WO`, `K = 0`, `S = 0`, or a
/// window larger than the input) is a compile-time error.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[C, H, W]` |
/// | output `y` | `[C, HO, WO]` |
///
/// No parameters. Samples are laid out as in PyTorch: channel after channel,
/// each row after row.
///
/// Forward: `y[c, i, j] = max_{0 ≤ u, v < K} x[c, S·i + u, S·j + v]`.
///
/// Backward: each `∂L/∂y[c, i, j]` goes to the position of its window's
/// maximum (and nowhere else); when windows overlap (`S < K`), a position
/// that is the maximum of several windows receives the sum. The maximum is
/// found again from the saved input, as PyTorch's CPU kernel finds it: the
/// window is scanned row by row, and an element replaces the current maximum
/// when it is greater, or when it is NaN. So among equal maxima the first
/// wins, a window holding NaN outputs NaN and routes its gradient to its last
/// NaN, and a window of `−∞` routes it to its first element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool2d<
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
>;

/// 2-D average pooling over `K × K` windows with stride `S`, each channel on
/// its own, like PyTorch's `nn.AvgPool2d(K, stride=S)` (no padding, rounding
/// the output size down).
///
/// The const parameters and output sizes are those of [`MaxPool2d`]:
/// `IN = C·H·W`, `OUT = C·HO·WO`, `HO = (H − K) / S + 1`,
/// `WO = (W − K) / S + 1`, checked at compile time.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[C, H, W]` |
/// | output `y` | `[C, HO, WO]` |
///
/// No parameters. Forward: `y[c, i, j] = (Σ_{0 ≤ u, v < K} x[c, S·i + u, S·j + v]) / K²`
/// (without padding, PyTorch's `count_include_pad` makes no difference).
///
/// Backward: `∂L/∂x[c, S·i + u, S·j + v] += ∂L/∂y[c, i, j] / K²` for every
/// window, overlapping windows adding up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvgPool2d<
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
>;

/// `(len − k) / stride + 1`, or 0 when the window does not fit or the stride
/// is 0 (reported by the layers' own checks).
const fn out_len(len: usize, k: usize, stride: usize) -> usize {
    if stride == 0 || k > len { 0 } else { (len - k) / stride + 1 }
}

/// `if c { a } else { b }`, as a conditional move rather than a branch.
#[inline(always)]
fn select<V: Copy>(c: bool, a: V, b: V) -> V {
    core::hint::select_unpredictable(c, a, b)
}

/// PyTorch's scan over a 2 × 2 window's values, row by row: a value
/// replaces the maximum when greater, or NaN. The position (0 to 3) of the
/// maximum, and the maximum.
#[inline(always)]
#[allow(clippy::eq_op)] // `value != value` tests for NaN.
fn scan_2x2<T: Float>(values: [T; 4]) -> (u8, T) {
    let (mut best, mut max) = (0u8, T::of_f64(f64::NEG_INFINITY));
    for (k, v) in (0u8..).zip(values) {
        let better = (v > max) | (v != v);
        best = select(better, k, best);
        max = select(better, v, max);
    }
    (best, max)
}

/// The geometry of the windows over one sample, with run-time sizes.
#[derive(Clone, Copy, Debug)]
struct Grid {
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    ho: usize,
    wo: usize,
}

impl Grid {
    /// Calls `f(at, out)` for every window of one sample, in output order:
    /// `at` is the index in the sample of the window's top-left element,
    /// `out` the index of its output.
    #[inline(always)]
    fn for_each_window(&self, mut f: impl FnMut(usize, usize)) {
        let mut out = 0;
        for c in 0..self.c {
            for i in 0..self.ho {
                for j in 0..self.wo {
                    f((c * self.h + i * self.s) * self.w + j * self.s, out);
                    out += 1;
                }
            }
        }
    }

    /// The index in `x` of the maximum of the window at `at`, by PyTorch's
    /// rule: scanning row by row, an element replaces the current maximum
    /// (starting from −∞ at the first element) when it is greater, or NaN.
    ///
    /// Written without branches (a select per element): on real images the
    /// comparisons go either way at random, and mispredicted branches made
    /// this the slowest part of a CNN's training step.
    #[inline(always)]
    #[allow(clippy::eq_op)] // `value != value` tests for NaN.
    fn argmax<T: Float>(&self, x: &[T], at: usize) -> usize {
        let (mut best, mut max) = (at, T::of_f64(f64::NEG_INFINITY));
        for u in 0..self.k {
            let row = at + u * self.w;
            for (v, &value) in x[row..row + self.k].iter().enumerate() {
                let better = (value > max) | (value != value);
                best = select(better, row + v, best);
                max = select(better, value, max);
            }
        }
        best
    }

    /// The sum of the window at `at`.
    #[inline]
    fn sum<T: Float>(&self, x: &[T], at: usize) -> T {
        (0..self.k)
            .flat_map(|u| &x[at + u * self.w..at + u * self.w + self.k])
            .fold(T::zero(), |sum, &v| sum + v)
    }

    /// One sample of max pooling.
    #[inline(always)]
    fn max_forward<T: Float>(&self, x: &[T], y: &mut [T]) {
        if self.k == 2 && self.s == 2 {
            self.max_forward_2x2(x, y);
        } else {
            self.for_each_window(|at, out| y[out] = self.max(x, at));
        }
    }

    /// [`Grid::max_forward`] for 2 × 2 windows with stride 2, a row of
    /// windows at a time, in a loop that vectorises.
    #[inline(always)]
    fn max_forward_2x2<T: Float>(&self, x: &[T], y: &mut [T]) {
        let (h, w, ho, wo) = (self.h, self.w, self.ho, self.wo);
        for c in 0..self.c {
            for i in 0..ho {
                let top = (c * h + 2 * i) * w;
                let (r0, r1) = (&x[top..top + 2 * wo], &x[top + w..top + w + 2 * wo]);
                let y = &mut y[(c * ho + i) * wo..][..wo];
                crate::gemm::wide(|| {
                    for ((t, b), y) in r0.chunks_exact(2).zip(r1.chunks_exact(2)).zip(y) {
                        *y = scan_2x2([t[0], t[1], b[0], b[1]]).1;
                    }
                });
            }
        }
    }

    /// The maximum of the window at `at`: `x[self.argmax(x, at)]`, without
    /// tracking where it is.
    #[inline(always)]
    #[allow(clippy::eq_op)] // `value != value` tests for NaN.
    fn max<T: Float>(&self, x: &[T], at: usize) -> T {
        let mut max = T::of_f64(f64::NEG_INFINITY);
        for u in 0..self.k {
            let row = at + u * self.w;
            for &value in &x[row..row + self.k] {
                max = select((value > max) | (value != value), value, max);
            }
        }
        max
    }

    /// One sample of max pooling's backward pass, overwriting `dx`.
    #[inline(always)]
    fn max_backward<T: Float>(&self, x: &[T], dy: &[T], dx: &mut [T]) {
        if self.k == 2 && self.s == 2 {
            self.max_backward_2x2(x, dy, dx);
        } else {
            self.max_backward_any(x, dy, dx);
        }
    }

    /// [`Grid::max_backward`] for any windows.
    #[inline(always)]
    fn max_backward_any<T: Float>(&self, x: &[T], dy: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        self.for_each_window(|at, out| dx[self.argmax(x, at)] += dy[out]);
    }

    /// [`Grid::max_backward`] for 2 × 2 windows with stride 2, the common
    /// case: the windows do not overlap, so each window writes its four
    /// elements of `dx` at once (the gradient where [`Grid::argmax`] would
    /// point, `0 + ∂L/∂y` as the general loop adds it, and zeros elsewhere),
    /// in a loop over a row of windows that vectorises.
    #[inline(always)]
    fn max_backward_2x2<T: Float>(&self, x: &[T], dy: &[T], dx: &mut [T]) {
        let (h, w, ho, wo) = (self.h, self.w, self.ho, self.wo);
        if h != 2 * ho || w != 2 * wo {
            // A last row or column no window covers.
            dx.fill(T::zero());
        }
        for c in 0..self.c {
            for i in 0..ho {
                let top = (c * h + 2 * i) * w;
                let (r0, r1) = (&x[top..top + 2 * wo], &x[top + w..top + w + 2 * wo]);
                let (d0, rest) = dx[top..top + w + 2 * wo].split_at_mut(w);
                let (d0, d1) = (&mut d0[..2 * wo], &mut rest[..2 * wo]);
                let g = &dy[(c * ho + i) * wo..][..wo];
                crate::gemm::wide(|| {
                    let rows = r0.chunks_exact(2).zip(r1.chunks_exact(2));
                    let outs = d0.chunks_exact_mut(2).zip(d1.chunks_exact_mut(2));
                    for (((t, b), (dt, db)), &g) in rows.zip(outs).zip(g) {
                        let (best, _) = scan_2x2([t[0], t[1], b[0], b[1]]);
                        let (zero, g) = (T::zero(), T::zero() + g);
                        dt[0] = select(best == 0, g, zero);
                        dt[1] = select(best == 1, g, zero);
                        db[0] = select(best == 2, g, zero);
                        db[1] = select(best == 3, g, zero);
                    }
                });
            }
        }
    }

    /// One sample of average pooling.
    #[inline(always)]
    fn avg_forward<T: Float>(&self, x: &[T], y: &mut [T]) {
        let count = T::of_usize(self.k * self.k);
        self.for_each_window(|at, out| y[out] = self.sum(x, at) / count);
    }

    /// One sample of average pooling's backward pass, overwriting `dx`.
    #[inline(always)]
    fn avg_backward<T: Float>(&self, dy: &[T], dx: &mut [T]) {
        let count = T::of_usize(self.k * self.k);
        dx.fill(T::zero());
        self.for_each_window(|at, out| {
            let g = dy[out] / count;
            for u in 0..self.k {
                for d in &mut dx[at + u * self.w..at + u * self.w + self.k] {
                    *d += g;
                }
            }
        });
    }
}

/// The sizes, checks and geometry of a pooling layer.
macro_rules! pool_consts {
    ($pool:ident) => {
        impl<
            const IN: usize,
            const OUT: usize,
            const C: usize,
            const H: usize,
            const W: usize,
            const K: usize,
            const S: usize,
        > $pool<IN, OUT, C, H, W, K, S>
        {
            /// The output's height, `(H − K) / S + 1` (0 when the sizes are invalid).
            pub const HO: usize = out_len(H, K, S);
            /// The output's width, `(W − K) / S + 1` (0 when the sizes are invalid).
            pub const WO: usize = out_len(W, K, S);

            /// The compile-time checks of the sizes, evaluated by every use of the layer.
            const CHECK: () = {
                assert!(K >= 1, concat!(stringify!($pool), ": the window size K must be positive"));
                assert!(S >= 1, concat!(stringify!($pool), ": the stride S must be at least 1"));
                assert!(
                    K <= H,
                    concat!(stringify!($pool), ": the window is taller than the input (K > H)")
                );
                assert!(
                    K <= W,
                    concat!(stringify!($pool), ": the window is wider than the input (K > W)")
                );
                assert!(
                    IN == C * H * W,
                    concat!(stringify!($pool), ": IN must equal C·H·W (channels × height × width)")
                );
                assert!(
                    OUT == C * Self::HO * Self::WO,
                    concat!(
                        stringify!($pool),
                        ": OUT must equal C·HO·WO, with HO = (H − K) / S + 1 \
                         and WO = (W − K) / S + 1"
                    )
                );
            };

            /// The geometry of the windows, with run-time sizes.
            const GRID: Grid = Grid { c: C, h: H, w: W, k: K, s: S, ho: Self::HO, wo: Self::WO };
        }
    };
}

pool_consts!(MaxPool2d);
pool_consts!(AvgPool2d);

impl<
    T: Float,
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
> Layer<T, IN, OUT> for MaxPool2d<IN, OUT, C, H, W, K, S>
{
    const PARAMS: usize = {
        let () = Self::CHECK;
        0
    };

    fn forward(&self, _params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT> {
        const { Self::CHECK };
        let mut y = SVector::<T, OUT>::zeros();
        Self::GRID.max_forward(x.as_slice(), y.as_mut_slice());
        y
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
        const { Self::CHECK };
        let batch = (Rows { data: x, width: IN }, Rows { data: y, width: OUT });
        for_each_piece(SHARE, batch, &|(x, y)| {
            for (x, y) in x.data.chunks_exact(IN).zip(y.data.chunks_exact_mut(OUT)) {
                Self::GRID.max_forward(x, y);
            }
        });
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
        const { Self::CHECK };
        if let Some(dx) = dx {
            let (x, dy) = (Rows { data: saved.x, width: IN }, Rows { data: dy, width: OUT });
            for_each_piece(SHARE, (x, dy, Rows { data: dx, width: IN }), &|(x, dy, dx)| {
                let samples = x.data.chunks_exact(IN).zip(dy.data.chunks_exact(OUT));
                for ((x, dy), dx) in samples.zip(dx.data.chunks_exact_mut(IN)) {
                    Self::GRID.max_backward(x, dy, dx);
                }
            });
        }
    }
}

impl<
    T: Float,
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
> Layer<T, IN, OUT> for AvgPool2d<IN, OUT, C, H, W, K, S>
{
    const PARAMS: usize = {
        let () = Self::CHECK;
        0
    };

    fn forward(&self, _params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT> {
        const { Self::CHECK };
        let mut y = SVector::<T, OUT>::zeros();
        Self::GRID.avg_forward(x.as_slice(), y.as_mut_slice());
        y
    }

    fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
        const { Self::CHECK };
        let batch = (Rows { data: x, width: IN }, Rows { data: y, width: OUT });
        for_each_piece(SHARE, batch, &|(x, y)| {
            for (x, y) in x.data.chunks_exact(IN).zip(y.data.chunks_exact_mut(OUT)) {
                Self::GRID.avg_forward(x, y);
            }
        });
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
        const { Self::CHECK };
        if let Some(dx) = dx {
            let batch = (Rows { data: dy, width: OUT }, Rows { data: dx, width: IN });
            for_each_piece(SHARE, batch, &|(dy, dx)| {
                for (dy, dx) in dy.data.chunks_exact(OUT).zip(dx.data.chunks_exact_mut(IN)) {
                    Self::GRID.avg_backward(dy, dx);
                }
            });
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::format;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_grads, values};

    /// The 2 × 2 passes write what the general window-by-window scans write,
    /// bit for bit: ties (the first wins), NaN (the last wins), −∞ windows,
    /// −0 gradients, and odd sizes with an uncovered last row and column.
    #[test]
    fn max_pooling_2x2_equals_the_general_passes() {
        for (c, h, w) in [(2usize, 5usize, 7usize), (3, 4, 6), (1, 2, 2), (2, 3, 34)] {
            let (ho, wo) = (h / 2, w / 2);
            let grid = Grid { c, h, w, k: 2, s: 2, ho, wo };
            let mut x: Vec<f32> =
                values(c * h * w, 7, -2.0, 2.0).iter().map(|v| (v * 4.0).round() as f32).collect();
            for (k, v) in x.iter_mut().enumerate() {
                match k % 11 {
                    3 => *v = f32::NAN,
                    5 => *v = f32::NEG_INFINITY,
                    _ => {}
                }
            }
            if c * h * w >= 8 {
                x[..4].fill(f32::NEG_INFINITY);
            }
            let mut dy: Vec<f32> =
                values(c * ho * wo, 8, -1.0, 1.0).iter().map(|&v| v as f32).collect();
            dy[0] = -0.0;
            let (mut fast, mut slow) = (vec![f32::NAN; c * h * w], vec![f32::NAN; c * h * w]);
            grid.max_backward_2x2(&x, &dy, &mut fast);
            grid.max_backward_any(&x, &dy, &mut slow);
            for (k, (a, b)) in fast.iter().zip(&slow).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{c}×{h}×{w}, element {k}: {a} against {b}");
            }
            // The forward pass likewise, against the window-by-window maximum.
            let mut y = vec![0.0f32; c * ho * wo];
            grid.max_forward_2x2(&x, &mut y);
            let mut want = vec![0.0f32; c * ho * wo];
            grid.for_each_window(|at, out| want[out] = grid.max(&x, at));
            for (k, (a, b)) in y.iter().zip(&want).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{c}×{h}×{w}, output {k}: {a} against {b}");
            }
        }
    }

    /// Asserts `|a − e| ≤ tol · max(1, |e|)` element by element.
    #[track_caller]
    fn assert_near(what: &str, actual: &[f64], expected: &[f64], tol: f64) {
        assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            let ok = (a - e).abs() <= tol * e.abs().max(1.0);
            assert!(ok, "{what}[{i}]: expected {e:e}, got {a:e}");
        }
    }

    fn forward_batch<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        x: &[f64],
    ) -> Vec<f64> {
        let mut y = vec![f64::NAN; OUT * (x.len() / IN)];
        layer.forward_batch(&[], x, &mut y, &mut [], Mode::Eval);
        y
    }

    fn forward_each<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        x: &[f64],
    ) -> Vec<f64> {
        x.chunks(IN)
            .flat_map(|x| layer.forward(&[], &SVector::from_column_slice(x)).as_slice().to_vec())
            .collect()
    }

    /// ∂L/∂x for `dy`, into a buffer filled with NaN first (it must be overwritten).
    fn backward<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        x: &[f64],
        dy: &[f64],
    ) -> Vec<f64> {
        let y = forward_batch(layer, x);
        let mut dx = vec![f64::NAN; x.len()];
        let saved = Saved { x, y: &y, mode: Mode::Eval };
        layer.backward_batch(&[], saved, dy, Some(&mut dx), &mut [], &mut []);
        dx
    }

    #[test]
    fn sizes_follow_pytorch() {
        // Rounding down: (7 − 2) / 2 + 1 = 3, (7 − 3) / 2 + 1 = 3, (6 − 3) / 2 + 1 = 2.
        assert_eq!(
            (MaxPool2d::<147, 27, 3, 7, 7, 2, 2>::HO, MaxPool2d::<147, 27, 3, 7, 7, 2, 2>::WO),
            (3, 3)
        );
        assert_eq!(
            (AvgPool2d::<42, 6, 1, 7, 6, 3, 2>::HO, AvgPool2d::<42, 6, 1, 7, 6, 3, 2>::WO),
            (3, 2)
        );
        assert_eq!(<MaxPool2d<147, 27, 3, 7, 7, 2, 2> as Layer<f32, 147, 27>>::PARAMS, 0);
        assert_eq!(<AvgPool2d<42, 6, 1, 7, 6, 3, 2> as Layer<f64, 42, 6>>::SCRATCH, 0);
    }

    #[test]
    fn forward_and_backward_by_hand() {
        // One 4 × 5 channel, 2 × 2 windows, stride 2: a 2 × 2 output (the last column is dropped).
        #[rustfmt::skip]
        let x = [
            1.0, 5.0, 2.0, 0.0, 9.0,
            3.0, 4.0, 8.0, 8.0, 9.0,
            -1.0, -2.0, 7.0, 6.0, 9.0,
            -4.0, -3.0, 6.0, 7.0, 9.0,
        ];
        let max = MaxPool2d::<20, 4, 1, 4, 5, 2, 2>;
        assert_near("max", &forward_batch(&max, &x), &[5.0, 8.0, -1.0, 7.0], 0.0);
        assert_near("max single", &forward_each(&max, &x), &[5.0, 8.0, -1.0, 7.0], 0.0);
        // The window [2, 0; 8, 8] has two maxima: the first, row-major, takes the
        // gradient; so does the first 7 of [7, 6; 6, 7].
        #[rustfmt::skip]
        let dx = [
            0.0, 1.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 2.0, 0.0, 0.0,
            3.0, 0.0, 4.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0,
        ];
        assert_near("max backward", &backward(&max, &x, &[1.0, 2.0, 3.0, 4.0]), &dx, 0.0);
        let avg = AvgPool2d::<20, 4, 1, 4, 5, 2, 2>;
        let expected = [13.0 / 4.0, 18.0 / 4.0, -10.0 / 4.0, 26.0 / 4.0];
        assert_near("avg", &forward_batch(&avg, &x), &expected, 1e-15);
        assert_near("avg single", &forward_each(&avg, &x), &expected, 1e-15);
        #[rustfmt::skip]
        let dx = [
            0.25, 0.25, 0.5, 0.5, 0.0,
            0.25, 0.25, 0.5, 0.5, 0.0,
            0.75, 0.75, 1.0, 1.0, 0.0,
            0.75, 0.75, 1.0, 1.0, 0.0,
        ];
        assert_near("avg backward", &backward(&avg, &x, &[1.0, 2.0, 3.0, 4.0]), &dx, 1e-15);
    }

    #[test]
    fn overlapping_windows_add_up() {
        // A 3 × 3 channel with 2 × 2 windows at stride 1: the centre is the
        // maximum of all four windows and collects all four gradients.
        let x = [0.0, 1.0, 0.0, 2.0, 9.0, 3.0, 0.0, 4.0, 0.0];
        let max = MaxPool2d::<9, 4, 1, 3, 3, 2, 1>;
        assert_near("max", &forward_batch(&max, &x), &[9.0; 4], 0.0);
        let dx = backward(&max, &x, &[1.0, 2.0, 3.0, 4.0]);
        assert_near("max backward", &dx, &[0.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0], 0.0);
        // Average: the centre is in four windows, the edges' middles in two, the corners in one.
        let avg = AvgPool2d::<9, 4, 1, 3, 3, 2, 1>;
        let dx = backward(&avg, &x, &[4.0; 4]);
        assert_near("avg backward", &dx, &[1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0], 1e-15);
    }

    #[test]
    fn max_pool_follows_pytorch_on_nan_and_infinities() {
        let max = MaxPool2d::<4, 1, 1, 2, 2, 2, 2>;
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        // NaN wins, and the last NaN takes the gradient (PyTorch's CPU kernel).
        for (x, at) in [
            ([1.0, nan, 3.0, 2.0], 1),
            ([nan, 5.0, 3.0, 2.0], 0),
            ([nan, 5.0, nan, 2.0], 2),
            ([inf, nan, inf, 2.0], 1),
        ] {
            let y = forward_batch(&max, &x);
            assert!(y[0].is_nan() && forward_each(&max, &x)[0].is_nan(), "{x:?} gives {y:?}");
            let mut dx = [0.0; 4];
            dx[at] = 1.0;
            assert_eq!(backward(&max, &x, &[1.0]), dx, "{x:?}");
        }
        // A window of −∞ outputs −∞ and routes the gradient to its first element;
        // +∞ is an ordinary maximum.
        let x = [-inf; 4];
        assert_eq!(forward_batch(&max, &x), [-inf]);
        assert_eq!(backward(&max, &x, &[1.0]), [1.0, 0.0, 0.0, 0.0]);
        let x = [-inf, 1.0, inf, inf];
        assert_eq!(forward_batch(&max, &x), [inf]);
        assert_eq!(backward(&max, &x, &[1.0]), [0.0, 0.0, 1.0, 0.0]);
        // f32 too.
        let x32 = [1.0f32, f32::NAN, 3.0, 2.0];
        let y = Layer::<f32, 4, 1>::forward(&max, &[], &SVector::from(x32));
        assert!(y[0].is_nan());
    }

    /// Batched, single-sample and definition agree; gradients pass the check.
    fn check<
        const IN: usize,
        const OUT: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const K: usize,
        const S: usize,
    >(
        n: usize,
    ) {
        let (ho, wo) = ((H - K) / S + 1, (W - K) / S + 1);
        let what = format!("C={C} H={H} W={W} K={K} S={S}");
        // Distinct values, far apart compared with the finite differences' step.
        let x: Vec<f64> = values(IN * n, 21, 0.0, 1.0)
            .iter()
            .enumerate()
            .map(|(i, u)| ((i * 7919) % (IN * n)) as f64 * 0.01 + 1e-4 * u - 1.0)
            .collect();
        let (mut max_ref, mut avg_ref) = (Vec::new(), Vec::new());
        for x in x.chunks(IN) {
            for c in 0..C {
                for i in 0..ho {
                    for j in 0..wo {
                        let window =
                            (0..K * K).map(|t| x[(c * H + i * S + t / K) * W + j * S + t % K]);
                        max_ref.push(window.clone().fold(f64::NEG_INFINITY, f64::max));
                        avg_ref.push(window.sum::<f64>() / (K * K) as f64);
                    }
                }
            }
        }
        let max = MaxPool2d::<IN, OUT, C, H, W, K, S>;
        assert_near(&format!("max {what}"), &forward_batch(&max, &x), &max_ref, 0.0);
        assert_near(&format!("max {what} single"), &forward_each(&max, &x), &max_ref, 0.0);
        assert_grads(&format!("MaxPool2d {what}"), &check_layer(&max, &[], &x, Mode::Eval));
        let avg = AvgPool2d::<IN, OUT, C, H, W, K, S>;
        assert_near(&format!("avg {what}"), &forward_batch(&avg, &x), &avg_ref, 1e-15);
        assert_near(&format!("avg {what} single"), &forward_each(&avg, &x), &avg_ref, 1e-15);
        assert_grads(&format!("AvgPool2d {what}"), &check_layer(&avg, &[], &x, Mode::Eval));
    }

    #[test]
    fn agree_with_definition_and_gradient_check() {
        check::<60, 12, 3, 4, 5, 2, 2>(2);
        check::<42, 6, 1, 7, 6, 3, 2>(3);
        check::<50, 32, 2, 5, 5, 2, 1>(2);
        check::<18, 2, 2, 3, 3, 3, 3>(2);
        check::<24, 24, 2, 3, 4, 1, 1>(1);
        check::<36, 4, 1, 6, 6, 3, 3>(2);
    }

    #[cfg(feature = "std")]
    fn flat(v: &serde_json::Value) -> Vec<f64> {
        match v {
            serde_json::Value::Array(items) => items.iter().flat_map(flat).collect(),
            v => vec![v.as_f64().expect("a number")],
        }
    }

    /// The pooling cases of the shared fixture: forward, and backward of `upstream`.
    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/conv.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            std::eprintln!("skipping: {path} is absent");
            return;
        };
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let cases = &fixture["cases"];
        fn run<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
            layer: &L,
            case: &serde_json::Value,
            name: &str,
        ) {
            let x = flat(&case["x"]);
            assert_eq!(x.len(), 2 * IN, "{name}: a batch of 2");
            let y = flat(&case["y"]);
            assert_near(&format!("{name}: y"), &forward_batch(layer, &x), &y, 1e-12);
            assert_near(&format!("{name}: forward"), &forward_each(layer, &x), &y, 1e-12);
            let dx = backward(layer, &x, &flat(&case["upstream"]));
            assert_near(&format!("{name}: grad_x"), &dx, &flat(&case["grad_x"]), 1e-12);
        }
        let max_layer = |k, s| {
            format!(
                "nn.MaxPool2d(kernel_size={k}, stride={s}, padding=0, dilation=1, ceil_mode=False)"
            )
        };
        let avg_layer = |k, s| format!("nn.AvgPool2d(kernel_size={k}, stride={s}, padding=0)");
        assert_eq!(cases["maxpool_k2"]["layer"], max_layer(2, 2).as_str());
        run(&MaxPool2d::<147, 27, 3, 7, 7, 2, 2>, &cases["maxpool_k2"], "maxpool_k2");
        assert_eq!(cases["maxpool_k3_s2"]["layer"], max_layer(3, 2).as_str());
        run(&MaxPool2d::<147, 27, 3, 7, 7, 3, 2>, &cases["maxpool_k3_s2"], "maxpool_k3_s2");
        assert_eq!(cases["avgpool_k2"]["layer"], avg_layer(2, 2).as_str());
        run(&AvgPool2d::<147, 27, 3, 7, 7, 2, 2>, &cases["avgpool_k2"], "avgpool_k2");
        assert_eq!(cases["avgpool_k3_s2"]["layer"], avg_layer(3, 2).as_str());
        run(&AvgPool2d::<147, 27, 3, 7, 7, 3, 2>, &cases["avgpool_k3_s2"], "avgpool_k3_s2");
    }
}
