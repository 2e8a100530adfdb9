use core::ops::Range;

use nalgebra::SVector;
use rand::{Rng, RngExt};

use crate::gemm::{Mat, MatMut, Pieces, for_each_piece, gemm};
use crate::{Float, Layer, Mode, Saved};

/// The batched passes cut a batch of `n` samples into `min(n, GROUPS)`
/// groups of consecutive samples, each with its own slot of scratch; the
/// cores share the groups. The groups depend on `n` alone, so results do not
/// depend on the number of threads.
pub(crate) const GROUPS: usize = 4;

/// Consecutive groups of a batch, as one core's share: the samples they
/// read (two inputs, each `width` scalars per sample), the samples they
/// write, and their scratch slots.
struct Groups<'a, T> {
    /// The batch's samples and groups, and this share's first group and count.
    n: usize,
    total: usize,
    first: usize,
    count: usize,
    inputs: [&'a [T]; 2],
    widths: [usize; 2],
    out: (&'a mut [T], usize),
    slots: &'a mut [T],
    slot: usize,
}

impl<'a, T> Groups<'a, T> {
    fn new(
        n: usize,
        inputs: [(&'a [T], usize); 2],
        out: (&'a mut [T], usize),
        slots: &'a mut [T],
        slot: usize,
    ) -> Self {
        let total = n.min(GROUPS);
        Groups {
            n,
            total,
            first: 0,
            count: total,
            inputs: inputs.map(|(x, _)| x),
            widths: inputs.map(|(_, w)| w),
            out,
            slots,
            slot,
        }
    }

    /// The first sample of group `g` of the batch.
    fn start(&self, g: usize) -> usize {
        group_start(self.n, self.total, g)
    }

    /// The samples of each of this share's groups, counted from its first
    /// sample, and the rest of the share.
    #[allow(clippy::type_complexity)]
    fn parts(
        self,
    ) -> (impl Iterator<Item = Range<usize>>, [&'a [T]; 2], (&'a mut [T], usize), &'a mut [T]) {
        let (n, total, first) = (self.n, self.total, self.first);
        let base = group_start(n, total, first);
        let ranges = (first..first + self.count)
            .map(move |g| group_start(n, total, g) - base..group_start(n, total, g + 1) - base);
        (ranges, self.inputs, self.out, self.slots)
    }
}

/// The first sample of group `g` when `n` samples make `total` groups.
fn group_start(n: usize, total: usize, g: usize) -> usize {
    (g * n).checked_div(total).unwrap_or(0)
}

impl<T: Send + Sync> Pieces for Groups<'_, T> {
    fn items(&self) -> usize {
        self.count
    }

    fn cut(self, at: usize) -> (Self, Self) {
        let at = at.min(self.count);
        let samples = self.start(self.first + at) - self.start(self.first);
        let [a, b] = self.inputs;
        let [wa, wb] = self.widths;
        let (a0, a1) = a.split_at((samples * wa).min(a.len()));
        let (b0, b1) = b.split_at((samples * wb).min(b.len()));
        let (out, wo) = self.out;
        let (o0, o1) = out.split_at_mut((samples * wo).min(out.len()));
        let (s0, s1) = self.slots.split_at_mut((at * self.slot).min(self.slots.len()));
        let front = Groups { count: at, inputs: [a0, b0], out: (o0, wo), slots: s0, ..self };
        let back = Groups {
            first: self.first + at,
            count: self.count - at,
            inputs: [a1, b1],
            out: (o1, wo),
            slots: s1,
            ..self
        };
        (front, back)
    }
}

/// A 2-D convolution over `C` input channels with `O` square `K × K`
/// filters, stride `S` and `P` zeros of padding on every side, like
/// PyTorch's `nn.Conv2d(C, O, kernel_size=K, stride=S, padding=P)`.
///
/// The const parameters, in order: `IN = C·H·W` and `OUT = O·HO·WO` (the flat
/// widths [`Layer`] is implemented for), the input's channels `C`, height `H`
/// and width `W`, the output channels `O`, the kernel size `K`, the stride
/// `S` and the padding `P`. The output's height and width follow PyTorch
/// (rounding down):
///
/// `HO = (H + 2P − K) / S + 1`, `WO = (W + 2P − K) / S + 1`
///
/// (available as [`Conv2d::HO`] and [`Conv2d::WO`]). Using the layer with
/// sizes that disagree (`IN ≠ C·H·W`, `OUT ≠ O·HO·WO`, `K = 0`, `S = 0`, or a
/// kernel larger than the padded input) is a compile-time error.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[C, H, W]` |
/// | weight `w` | `[O, C, K, K]`, row-major |
/// | bias `b` | `[O]` |
/// | output `y` | `[O, HO, WO]` |
///
/// Samples are laid out as in PyTorch: channel after channel, each channel row
/// after row (element `(c, i, j)` of `x` is `x[c·H·W + i·W + j]`). Parameters
/// are `O·C·K·K + O` scalars: the weight, row-major, then the bias (PyTorch's
/// `weight` then `bias`).
///
/// Forward, with `x` read as zero outside `0 ≤ i < H`, `0 ≤ j < W` (the
/// padding):
///
/// `y[o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[c, S·i + u − P, S·j + v − P]`
///
/// Backward, for one sample, with `X̂` the im2col matrix of `x`
/// (`[C·K·K, HO·WO]`: row `(c, u, v)`, column `(i, j)` holds
/// `x[c, S·i + u − P, S·j + v − P]`), `W` the weight as a `[O, C·K·K]` matrix
/// and `∂L/∂Y` the output gradient as `[O, HO·WO]`:
/// `∂L/∂W = ∂L/∂Y · X̂ᵀ` (summed over the batch), `∂L/∂b[o] = Σ_{i, j} ∂L/∂y[o, i, j]`
/// (summed over the batch), `∂L/∂x = col2im(Wᵀ · ∂L/∂Y)`, where `col2im`
/// adds each entry of the column gradient back into the input position it was
/// read from (overlapping windows add up; padding positions are dropped).
/// Parameter gradients are added into `grads`; `dx` is overwritten.
///
/// The batched passes run one im2col and one matrix product per sample, in
/// a buffer of `C·K·K·HO·WO` scalars (none for a 1 × 1 kernel with stride 1
/// and no padding, whose im2col matrix is the input itself). They cut the
/// batch into at most four groups of consecutive samples, which the cores
/// share, each group with its own buffer and its own partial parameter
/// gradients, added to `grads` in the groups' order ([`Layer::SCRATCH`] holds
/// the four), so the result is the same on any number of threads. The
/// single-sample [`Layer::forward`] loops directly over the kernel and
/// allocates nothing beyond its result.
///
/// Initialisation is PyTorch's default for `nn.Conv2d`: weight and bias
/// uniform in `±1/√(C·K·K)`.
///
/// ```
/// use perceptra_runtime::nalgebra::SVector;
/// use perceptra_runtime::{Conv2d, Layer};
///
/// // nn.Conv2d(1, 2, kernel_size=2) over one 3 × 3 channel: 2 × 2 outputs.
/// type Conv = Conv2d<9, 8, 1, 3, 3, 2, 2, 1, 0>;
/// assert_eq!((Conv::HO, Conv::WO), (2, 2));
/// // Filter 0 sums its window, filter 1 takes its top-left corner; biases 0 and 10.
/// let params = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 10.0];
/// assert_eq!(<Conv as Layer<f64, 9, 8>>::PARAMS, params.len());
/// let x = SVector::<f64, 9>::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
/// let y = Conv::default().forward(&params, &x);
/// assert_eq!(y.as_slice(), [12.0, 16.0, 24.0, 28.0, 11.0, 12.0, 14.0, 15.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conv2d<
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
>;

impl<
    const IN: usize,
    const OUT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Conv2d<IN, OUT, C, H, W, O, K, S, P>
{
    /// The output's height, `(H + 2P − K) / S + 1` (0 when the sizes are invalid).
    pub const HO: usize = out_len(H, K, S, P);
    /// The output's width, `(W + 2P − K) / S + 1` (0 when the sizes are invalid).
    pub const WO: usize = out_len(W, K, S, P);
    /// Scalars in one filter: `C·K·K`, the fan-in.
    const CKK: usize = C * K * K;
    /// Whether the im2col matrix is the input itself (a 1 × 1 kernel, stride 1, no padding).
    const POINTWISE: bool = K == 1 && S == 1 && P == 0;
    /// Scalars of one im2col matrix (none for a pointwise kernel).
    const COLS: usize = if Self::POINTWISE { 0 } else { Self::CKK * Self::HO * Self::WO };
    /// Scalars of one group's scratch: its im2col matrix, then its partial
    /// weight and bias gradients.
    const SLOT: usize = Self::COLS + O * Self::CKK + O;

    /// The compile-time checks of the sizes, evaluated by every use of the layer.
    const CHECK: () = {
        assert!(K >= 1, "Conv2d: the kernel size K must be at least 1");
        assert!(S >= 1, "Conv2d: the stride S must be at least 1");
        assert!(K <= H + 2 * P, "Conv2d: the kernel is taller than the padded input (K > H + 2P)");
        assert!(K <= W + 2 * P, "Conv2d: the kernel is wider than the padded input (K > W + 2P)");
        assert!(IN == C * H * W, "Conv2d: IN must equal C·H·W (channels × height × width)");
        assert!(
            OUT == O * Self::HO * Self::WO,
            "Conv2d: OUT must equal O·HO·WO, with HO = (H + 2P − K) / S + 1 and \
             WO = (W + 2P − K) / S + 1"
        );
    };

    /// The geometry of the windows, with run-time sizes.
    const WINDOW: Window =
        Window { c: C, h: H, w: W, k: K, s: S, p: P, ho: Self::HO, wo: Self::WO };
}

/// `(len + 2·pad − k) / stride + 1`, or 0 when the kernel does not fit or the
/// stride is 0 (reported by the layers' own checks).
const fn out_len(len: usize, k: usize, stride: usize, pad: usize) -> usize {
    if stride == 0 || k > len + 2 * pad { 0 } else { (len + 2 * pad - k) / stride + 1 }
}

/// The geometry of a convolution over one sample, with run-time sizes so that
/// the loops are compiled once per scalar type.
#[derive(Clone, Copy, Debug)]
struct Window {
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    p: usize,
    ho: usize,
    wo: usize,
}

/// The outputs `o` in `0..outs` whose window, at kernel offset `offset`,
/// reads inside the input: `0 ≤ o·stride + offset − pad < len`.
#[inline]
fn inside(offset: usize, stride: usize, pad: usize, len: usize, outs: usize) -> Range<usize> {
    let lo = if offset >= pad { 0 } else { (pad - offset).div_ceil(stride) };
    let hi =
        if len + pad <= offset { 0 } else { ((len + pad - offset - 1) / stride + 1).min(outs) };
    lo..hi.max(lo)
}

impl Window {
    /// Output rows whose window row `u` is inside the input.
    #[inline(always)]
    fn rows(&self, u: usize) -> Range<usize> {
        inside(u, self.s, self.p, self.h, self.ho)
    }

    /// Output columns whose window column `v` is inside the input.
    #[inline(always)]
    fn cols(&self, v: usize) -> Range<usize> {
        inside(v, self.s, self.p, self.w, self.wo)
    }

    /// The input row read by output row `i` at window row `u` (inside the input).
    #[inline(always)]
    fn in_row(&self, i: usize, u: usize) -> usize {
        i * self.s + u - self.p
    }

    /// The input column read by output column `j` at window column `v`.
    #[inline(always)]
    fn in_col(&self, j: usize, v: usize) -> usize {
        j * self.s + v - self.p
    }

    /// Calls `f(c, u, v, r)` for every row `(c, u, v)` of the im2col matrix,
    /// `r = (c·K + u)·K + v` being its index (and the filter tap it multiplies).
    #[inline(always)]
    fn for_each_row(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        for c in 0..self.c {
            for u in 0..self.k {
                for v in 0..self.k {
                    f(c, u, v, (c * self.k + u) * self.k + v);
                }
            }
        }
    }

    /// Writes the im2col matrix of one sample `x` (`[C, H, W]`) into `cols`,
    /// row-major `[C·K·K, HO·WO]`: row `(c, u, v)`, column `(i, j)` holds
    /// `x[c, S·i + u − P, S·j + v − P]`, or 0 in the padding.
    ///
    /// Inlined, so that the sizes of the layer's constant `Window` reach
    /// the loops (short copies of known length instead of `memcpy` calls).
    #[inline(always)]
    fn im2col<T: Float>(&self, x: &[T], cols: &mut [T]) {
        let (l, plane) = (self.ho * self.wo, self.h * self.w);
        // Plain loops rather than `for_each_row`'s closure, which LLVM kept
        // out of line, losing the constant sizes.
        for c in 0..self.c {
            let x = &x[c * plane..(c + 1) * plane];
            for u in 0..self.k {
                let rows = self.rows(u);
                for v in 0..self.k {
                    let r = (c * self.k + u) * self.k + v;
                    let js = self.cols(v);
                    let out = &mut cols[r * l..(r + 1) * l];
                    if rows.len() < self.ho || js.len() < self.wo {
                        out.fill(T::zero());
                    }
                    if js.is_empty() {
                        continue;
                    }
                    for i in rows.clone() {
                        let src = &x[self.in_row(i, u) * self.w..][..self.w];
                        let dst = &mut out[i * self.wo..(i + 1) * self.wo][js.clone()];
                        let src = &src[self.in_col(js.start, v)..];
                        if self.s == 1 {
                            dst.copy_from_slice(&src[..dst.len()]);
                        } else {
                            for (d, &s) in dst.iter_mut().zip(src.iter().step_by(self.s)) {
                                *d = s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Overwrites `dx` (`[C, H, W]`) with the column gradient `cols`
    /// (`[C·K·K, HO·WO]`, as [`Window::im2col`] lays it out) added back into
    /// the positions it was read from; padding entries are dropped.
    #[inline(always)]
    fn col2im<T: Float>(&self, cols: &[T], dx: &mut [T]) {
        let (l, plane) = (self.ho * self.wo, self.h * self.w);
        dx[..self.c * plane].fill(T::zero());
        for c in 0..self.c {
            let dx = &mut dx[c * plane..(c + 1) * plane];
            for u in 0..self.k {
                let rows = self.rows(u);
                for v in 0..self.k {
                    let r = (c * self.k + u) * self.k + v;
                    let js = self.cols(v);
                    if js.is_empty() {
                        continue;
                    }
                    let col = &cols[r * l..(r + 1) * l];
                    for i in rows.clone() {
                        let dst = &mut dx[self.in_row(i, u) * self.w..][..self.w];
                        let dst = &mut dst[self.in_col(js.start, v)..];
                        let src = &col[i * self.wo..(i + 1) * self.wo][js.clone()];
                        if self.s == 1 {
                            for (d, &g) in dst.iter_mut().zip(src) {
                                *d += g;
                            }
                        } else {
                            for (d, &g) in dst.iter_mut().step_by(self.s).zip(src) {
                                *d += g;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The convolution of one sample by direct loops: `y` (`[O, HO, WO]`,
    /// `O = bias.len()`) from `x` (`[C, H, W]`).
    fn direct<T: Float>(&self, weight: &[T], bias: &[T], x: &[T], y: &mut [T]) {
        let (l, plane, ckk) = (self.ho * self.wo, self.h * self.w, self.c * self.k * self.k);
        for (o, (y, &b)) in y.chunks_exact_mut(l).zip(bias).enumerate() {
            y.fill(b);
            let weight = &weight[o * ckk..(o + 1) * ckk];
            self.for_each_row(|c, u, v, r| {
                let w = weight[r];
                let x = &x[c * plane..(c + 1) * plane];
                let js = self.cols(v);
                if js.is_empty() {
                    return;
                }
                for i in self.rows(u) {
                    let src = &x[self.in_row(i, u) * self.w..][..self.w];
                    let src = &src[self.in_col(js.start, v)..];
                    let dst = &mut y[i * self.wo..(i + 1) * self.wo][js.clone()];
                    if self.s == 1 {
                        for (d, &s) in dst.iter_mut().zip(src) {
                            *d += w * s;
                        }
                    } else {
                        for (d, &s) in dst.iter_mut().zip(src.iter().step_by(self.s)) {
                            *d += w * s;
                        }
                    }
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
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Layer<T, IN, OUT> for Conv2d<IN, OUT, C, H, W, O, K, S, P>
{
    const PARAMS: usize = {
        let () = Self::CHECK;
        O * C * K * K + O
    };

    /// For each of the (at most four) groups of samples: one sample's im2col
    /// matrix, `C·K·K·HO·WO` (0 for a pointwise kernel), which the forward
    /// pass builds and the backward pass builds again, then overwrites with
    /// the column gradient `Wᵀ · ∂L/∂Y`; and the group's partial weight and
    /// bias gradients, `O·C·K·K + O`.
    const SCRATCH: usize = {
        let () = Self::CHECK;
        GROUPS * Self::SLOT
    };

    fn init<R: Rng + ?Sized>(&self, params: &mut [T], rng: &mut R) {
        const { Self::CHECK };
        let bound = 1.0 / nalgebra::ComplexField::sqrt(Self::CKK as f64);
        for p in &mut params[..O * Self::CKK + O] {
            *p = T::of_f64((rng.random::<f64>() * 2.0 - 1.0) * bound);
        }
    }

    fn forward(&self, params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT> {
        const { Self::CHECK };
        let (weight, bias) = params[..O * Self::CKK + O].split_at(O * Self::CKK);
        let mut y = SVector::<T, OUT>::zeros();
        Self::WINDOW.direct(weight, bias, x.as_slice(), y.as_mut_slice());
        y
    }

    fn forward_batch(&self, params: &[T], x: &[T], y: &mut [T], scratch: &mut [T], _mode: Mode) {
        const { Self::CHECK };
        let (ckk, l) = (Self::CKK, Self::HO * Self::WO);
        let (weight, bias) = params[..O * ckk + O].split_at(O * ckk);
        let weight = Mat::row_major(weight, O, ckk);
        let n = x.len() / IN;
        let batch =
            Groups::new(n, [(x, IN), (&[], 0)], (&mut y[..n * OUT], OUT), scratch, Self::SLOT);
        // Samples are independent: the groups run on every core at once.
        for_each_piece(1, batch, &|g: Groups<'_, T>| {
            let (ranges, [x, _], (y, _), slots) = g.parts();
            for (k, samples) in ranges.enumerate() {
                let cols = &mut slots[k * Self::SLOT..][..Self::COLS];
                for s in samples {
                    let (x, y) = (&x[s * IN..][..IN], &mut y[s * OUT..][..OUT]);
                    for (y, &b) in y.chunks_exact_mut(l).zip(bias) {
                        y.fill(b);
                    }
                    let x = if Self::POINTWISE {
                        x
                    } else {
                        Self::WINDOW.im2col(x, cols);
                        &*cols
                    };
                    // Y = W · X̂ + b, all row-major: [O, C·K·K] · [C·K·K, HO·WO].
                    let y = MatMut::row_major(y, O, l);
                    gemm(T::one(), weight, Mat::row_major(x, ckk, l), T::one(), y);
                }
            }
        });
    }

    fn backward_batch(
        &self,
        params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        grads: &mut [T],
        scratch: &mut [T],
    ) {
        const { Self::CHECK };
        let (ckk, l) = (Self::CKK, Self::HO * Self::WO);
        let n = dy.len() / OUT;
        let weight_t = Mat::row_major(&params[..O * ckk], O, ckk).t();
        let dx = match dx {
            Some(dx) => (&mut dx[..IN * n], IN),
            None => (&mut [][..], 0),
        };
        let inputs = [(&saved.x[..IN * n], IN), (&dy[..OUT * n], OUT)];
        let batch = Groups::new(n, inputs, dx, &mut scratch[..], Self::SLOT);
        let groups = batch.count;
        // Each group sums its samples' parameter gradients in its own slot,
        // on whichever core runs it; the slots are then added in order, so
        // the sums do not depend on the number of threads.
        for_each_piece(1, batch, &|g: Groups<'_, T>| {
            let (ranges, [x, dy], (dx, dx_width), slots) = g.parts();
            for (k, samples) in ranges.enumerate() {
                let slot = &mut slots[k * Self::SLOT..][..Self::SLOT];
                let (cols, partial) = slot.split_at_mut(Self::COLS);
                let (dw, db) = partial.split_at_mut(O * ckk);
                dw.fill(T::zero());
                db.fill(T::zero());
                for s in samples {
                    let (x, dy) = (&x[s * IN..][..IN], &dy[s * OUT..][..OUT]);
                    // ∂L/∂b[o] += Σ_{i, j} ∂L/∂y[o, i, j].
                    for (db, dy) in db.iter_mut().zip(dy.chunks_exact(l)) {
                        *db += dy.iter().fold(T::zero(), |sum, &d| sum + d);
                    }
                    let dy = Mat::row_major(dy, O, l);
                    let dx = (dx_width > 0).then(|| &mut dx[s * IN..][..IN]);
                    if Self::POINTWISE {
                        // ∂L/∂W += ∂L/∂Y · Xᵀ; ∂L/∂X = Wᵀ · ∂L/∂Y.
                        let xt = Mat::row_major(x, ckk, l).t();
                        gemm(T::one(), dy, xt, T::one(), MatMut::row_major(dw, O, ckk));
                        if let Some(dx) = dx {
                            gemm(T::one(), weight_t, dy, T::zero(), MatMut::row_major(dx, ckk, l));
                        }
                    } else {
                        // ∂L/∂W += ∂L/∂Y · X̂ᵀ.
                        Self::WINDOW.im2col(x, cols);
                        let xt = Mat::row_major(&*cols, ckk, l).t();
                        gemm(T::one(), dy, xt, T::one(), MatMut::row_major(dw, O, ckk));
                        // ∂L/∂X = col2im(Wᵀ · ∂L/∂Y), the column gradient replacing X̂.
                        if let Some(dx) = dx {
                            let cols_mut = MatMut::row_major(&mut *cols, ckk, l);
                            gemm(T::one(), weight_t, dy, T::zero(), cols_mut);
                            Self::WINDOW.col2im(cols, dx);
                        }
                    }
                }
            }
        });
        let (dw, db) = grads[..O * ckk + O].split_at_mut(O * ckk);
        for slot in scratch.chunks_exact(Self::SLOT).take(groups) {
            let (pdw, pdb) = slot[Self::COLS..].split_at(O * ckk);
            for (g, &p) in dw.iter_mut().zip(pdw).chain(db.iter_mut().zip(pdb)) {
                *g += p;
            }
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::format;
    use alloc::vec;
    use alloc::vec::Vec;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_grads, values};

    /// Asserts `|a − e| ≤ tol · max(1, |e|)` element by element.
    #[track_caller]
    fn assert_near(what: &str, actual: &[f64], expected: &[f64], tol: f64) {
        assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() <= tol * e.abs().max(1.0),
                "{what}[{i}]: expected {e:e}, got {a:e}"
            );
        }
    }

    fn forward_batch<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        params: &[f64],
        x: &[f64],
    ) -> Vec<f64> {
        let mut y = vec![f64::NAN; OUT * (x.len() / IN)];
        let mut scratch = vec![f64::NAN; L::SCRATCH];
        layer.forward_batch(params, x, &mut y, &mut scratch, Mode::Eval);
        y
    }

    /// Each sample through [`Layer::forward`], one after the other.
    fn forward_each<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        params: &[f64],
        x: &[f64],
    ) -> Vec<f64> {
        x.chunks(IN)
            .flat_map(|x| layer.forward(params, &SVector::from_column_slice(x)).as_slice().to_vec())
            .collect()
    }

    /// The backward pass of `dy`, adding into `grads`; returns ∂L/∂x (its
    /// buffer filled with NaN first: it must be overwritten).
    fn backward<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(
        layer: &L,
        params: &[f64],
        x: &[f64],
        dy: &[f64],
        grads: &mut [f64],
    ) -> Vec<f64> {
        let y = forward_batch(layer, params, x);
        let mut dx = vec![f64::NAN; x.len()];
        let mut scratch = vec![f64::NAN; L::SCRATCH];
        let saved = Saved { x, y: &y, mode: Mode::Eval };
        layer.backward_batch(params, saved, dy, Some(&mut dx), grads, &mut scratch);
        dx
    }

    /// The convolution by its definition, written independently of the layer.
    fn reference(
        (c_in, h, w, o_out, k, s, p): (usize, usize, usize, usize, usize, usize, usize),
        params: &[f64],
        x: &[f64],
    ) -> Vec<f64> {
        let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let mut y = Vec::new();
        for x in x.chunks(c_in * h * w) {
            for o in 0..o_out {
                for i in 0..ho {
                    for j in 0..wo {
                        let mut sum = params[o_out * c_in * k * k + o];
                        for c in 0..c_in {
                            for u in 0..k {
                                for v in 0..k {
                                    let (r, q) = (
                                        (i * s + u) as isize - p as isize,
                                        (j * s + v) as isize - p as isize,
                                    );
                                    if r < 0 || q < 0 || r >= h as isize || q >= w as isize {
                                        continue;
                                    }
                                    let (r, q) = (r as usize, q as usize);
                                    sum += params[((o * c_in + c) * k + u) * k + v]
                                        * x[(c * h + r) * w + q];
                                }
                            }
                        }
                        y.push(sum);
                    }
                }
            }
        }
        y
    }

    #[test]
    fn sizes_follow_pytorch() {
        assert_eq!(
            (Conv2d::<98, 75, 2, 7, 7, 3, 3, 1, 0>::HO, Conv2d::<98, 75, 2, 7, 7, 3, 3, 1, 0>::WO),
            (5, 5)
        );
        type Strided = Conv2d<98, 48, 2, 7, 7, 3, 3, 2, 1>;
        assert_eq!((Strided::HO, Strided::WO), (4, 4));
        // Rounding down: (6 + 2 − 3) / 2 + 1 = 3, (5 + 2 − 3) / 2 + 1 = 3.
        type Uneven = Conv2d<30, 18, 1, 6, 5, 2, 3, 2, 1>;
        assert_eq!((Uneven::HO, Uneven::WO), (3, 3));
        assert_eq!(<Uneven as Layer<f64, 30, 18>>::PARAMS, 2 * 9 + 2);
        // Per group: the im2col matrix, then the partial weight and bias gradients.
        assert_eq!(<Uneven as Layer<f64, 30, 18>>::SCRATCH, GROUPS * (9 * 9 + 2 * 9 + 2));
        // A 1 × 1 kernel with stride 1 and no padding reads the input as it is.
        type Pointwise = Conv2d<12, 8, 3, 2, 2, 2, 1, 1, 0>;
        assert_eq!(<Pointwise as Layer<f32, 12, 8>>::SCRATCH, GROUPS * (2 * 3 + 2));
        // LeNet's first layer: 6 filters 5 × 5, padding 2, over 28 × 28.
        type LeNet1 = Conv2d<784, 4704, 1, 28, 28, 6, 5, 1, 2>;
        assert_eq!(<LeNet1 as Layer<f32, 784, 4704>>::PARAMS, 156);
        assert_eq!(<LeNet1 as Layer<f32, 784, 4704>>::SCRATCH, GROUPS * (25 * 784 + 156));
    }

    #[test]
    fn forward_matches_hand_computation() {
        // One 3 × 3 channel, one 2 × 2 filter [[1, 2], [3, 4]], bias 0.5, stride 1:
        // y[i, j] = x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1] + 0.5.
        let layer = Conv2d::<9, 4, 1, 3, 3, 1, 2, 1, 0>;
        let params = [1.0, 2.0, 3.0, 4.0, 0.5];
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let expected = [37.5, 47.5, 67.5, 77.5];
        assert_near("batch", &forward_batch(&layer, &params, &x), &expected, 1e-15);
        assert_near("single", &forward_each(&layer, &params, &x), &expected, 1e-15);
        // Padding 1, stride 2: a 2 × 2 output of 2 × 2 windows over the padded 5 × 5,
        // e.g. the corner (0, 0) sees only x[0, 0] (under the filter's 4).
        let layer = Conv2d::<9, 4, 1, 3, 3, 1, 2, 2, 1>;
        let expected = [
            4.0 * 1.0 + 0.5,
            3.0 * 2.0 + 4.0 * 3.0 + 0.5,
            2.0 * 4.0 + 4.0 * 7.0 + 0.5,
            1.0 * 5.0 + 2.0 * 6.0 + 3.0 * 8.0 + 4.0 * 9.0 + 0.5,
        ];
        assert_near("padded", &forward_batch(&layer, &params, &x), &expected, 1e-15);
        assert_near("padded single", &forward_each(&layer, &params, &x), &expected, 1e-15);
    }

    /// Forward against the definition, and the batched pass against the
    /// single-sample one, for random parameters and inputs.
    fn agrees_with_definition<
        const IN: usize,
        const OUT: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
    >(
        n: usize,
    ) {
        let layer = Conv2d::<IN, OUT, C, H, W, O, K, S, P>;
        let params = values(O * C * K * K + O, 11, -1.0, 1.0);
        let x = values(IN * n, 12, -2.0, 2.0);
        let what = format!("C={C} H={H} W={W} O={O} K={K} S={S} P={P}");
        let expected = reference((C, H, W, O, K, S, P), &params, &x);
        assert_near(
            &format!("{what}: forward_batch"),
            &forward_batch(&layer, &params, &x),
            &expected,
            1e-12,
        );
        assert_near(
            &format!("{what}: forward"),
            &forward_each(&layer, &params, &x),
            &expected,
            1e-12,
        );
    }

    #[test]
    fn forward_agrees_with_the_definition() {
        agrees_with_definition::<30, 18, 1, 6, 5, 2, 3, 2, 1>(3);
        agrees_with_definition::<40, 18, 2, 5, 4, 3, 3, 1, 0>(2);
        agrees_with_definition::<40, 60, 2, 5, 4, 3, 3, 1, 1>(2);
        agrees_with_definition::<42, 18, 1, 7, 6, 2, 4, 3, 2>(2);
        agrees_with_definition::<18, 18, 2, 3, 3, 2, 1, 2, 1>(2);
        agrees_with_definition::<12, 8, 3, 2, 2, 2, 1, 1, 0>(3);
        agrees_with_definition::<16, 1, 1, 4, 4, 1, 4, 1, 0>(2);
        // Padding wider than the kernel: whole output rows read only zeros.
        agrees_with_definition::<9, 49, 1, 3, 3, 1, 1, 1, 2>(2);
        agrees_with_definition::<8, 9, 2, 2, 2, 1, 2, 3, 3>(2);
    }

    /// LeNet-sized layers: a batch of 9 through the batched path (im2col +
    /// matrix product) agrees with each sample through the direct loops.
    #[test]
    fn forward_batch_equals_forward_at_lenet_sizes() {
        fn check<L: Layer<f64, IN, OUT>, const IN: usize, const OUT: usize>(layer: L) {
            let params = values(L::PARAMS, 13, -0.3, 0.3);
            let x = values(IN * 9, 14, -1.0, 1.0);
            let batch = forward_batch(&layer, &params, &x);
            let each = forward_each(&layer, &params, &x);
            assert_near("LeNet", &batch, &each, 1e-12);
        }
        check(Conv2d::<784, 4704, 1, 28, 28, 6, 5, 1, 2>);
        check(Conv2d::<1176, 1600, 6, 14, 14, 16, 5, 1, 0>);
    }

    /// Backward of a batch of 9 equals the sum of the per-sample backward passes.
    #[test]
    fn backward_batch_equals_sum_over_samples() {
        type L = Conv2d<1176, 1600, 6, 14, 14, 16, 5, 1, 0>;
        let params = values(16 * 150 + 16, 15, -0.3, 0.3);
        let x = values(1176 * 9, 16, -1.0, 1.0);
        let dy = values(1600 * 9, 17, -1.0, 1.0);
        let mut grads = vec![0.0; params.len()];
        let dx = backward(&L::default(), &params, &x, &dy, &mut grads);
        let mut sum = vec![0.0; params.len()];
        for (s, (x, dy)) in x.chunks(1176).zip(dy.chunks(1600)).enumerate() {
            let dx1 = backward(&L::default(), &params, x, dy, &mut sum);
            assert_near("dx", &dx[s * 1176..(s + 1) * 1176], &dx1, 1e-12);
        }
        assert_near("grads", &grads, &sum, 1e-12);
    }

    fn gradcheck<
        const IN: usize,
        const OUT: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
    >(
        n: usize,
    ) {
        let layer = Conv2d::<IN, OUT, C, H, W, O, K, S, P>;
        let params = values(O * C * K * K + O, 3, -1.0, 1.0);
        let x = values(IN * n, 4, -2.0, 2.0);
        let comparisons = check_layer(&layer, &params, &x, Mode::Eval);
        assert_eq!(comparisons.len(), params.len() + x.len());
        assert_grads(&format!("Conv2d C={C} H={H} W={W} O={O} K={K} S={S} P={P}"), &comparisons);
    }

    #[test]
    fn gradient_check() {
        gradcheck::<40, 18, 2, 5, 4, 3, 3, 1, 0>(2);
        gradcheck::<40, 60, 2, 5, 4, 3, 3, 1, 1>(2);
        gradcheck::<60, 18, 2, 5, 6, 2, 3, 2, 1>(3);
        gradcheck::<42, 18, 1, 7, 6, 2, 4, 3, 2>(2);
        gradcheck::<16, 8, 1, 4, 4, 2, 2, 2, 0>(2);
        gradcheck::<36, 72, 1, 6, 6, 2, 5, 1, 2>(1);
        // 1 × 1 kernels: the pointwise path, and one with stride and padding.
        gradcheck::<27, 18, 3, 3, 3, 2, 1, 1, 0>(2);
        gradcheck::<18, 18, 2, 3, 3, 2, 1, 2, 1>(2);
    }

    /// The parameter gradients after `times` backward passes, with or without `dx`.
    fn grads(want_dx: bool, times: usize) -> Vec<f64> {
        type L = Conv2d<60, 18, 2, 5, 6, 2, 3, 2, 1>;
        let params = values(2 * 18 + 2, 5, -1.0, 1.0);
        let x = values(60 * 3, 6, -2.0, 2.0);
        let dy = values(18 * 3, 7, -1.0, 1.0);
        let y = forward_batch(&L::default(), &params, &x);
        let mut grads = vec![0.0; params.len()];
        let mut dx = vec![0.0; x.len()];
        let mut scratch = vec![0.0; <L as Layer<f64, 60, 18>>::SCRATCH];
        for _ in 0..times {
            let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
            let dx = if want_dx { Some(&mut dx[..]) } else { None };
            Layer::<f64, 60, 18>::backward_batch(
                &L::default(),
                &params,
                saved,
                &dy,
                dx,
                &mut grads,
                &mut scratch,
            );
        }
        grads
    }

    #[test]
    fn gradients_accumulate_with_or_without_dx() {
        let once = grads(true, 1);
        assert_eq!(once, grads(false, 1));
        let doubled: Vec<f64> = once.iter().map(|g| 2.0 * g).collect();
        assert_near("twice", &grads(true, 2), &doubled, 1e-15);
    }

    #[test]
    fn init_is_uniform_within_pytorch_bound() {
        // LeNet's second layer: fan-in C·K·K = 6·5·5 = 150.
        type L = Conv2d<1176, 1600, 6, 14, 14, 16, 5, 1, 0>;
        const PARAMS: usize = 16 * 150 + 16;
        let bound = 1.0 / 150f64.sqrt();
        let mut params = vec![f64::NAN; PARAMS + 3];
        Layer::<f64, 1176, 1600>::init(
            &L::default(),
            &mut params,
            &mut ChaCha8Rng::seed_from_u64(7),
        );
        assert!(params[PARAMS..].iter().all(|p| p.is_nan()), "init wrote past its parameters");
        let params = &params[..PARAMS];
        for (i, &p) in params.iter().enumerate() {
            assert!(p.abs() <= bound, "parameter {i} is {p}, outside ±{bound}");
        }
        // U(−b, b): mean 0 (standard error b/√(3·2416) ≈ 9.6·10⁻⁴), variance b²/3.
        let mean = params.iter().sum::<f64>() / PARAMS as f64;
        assert!(mean.abs() < 4e-3, "mean {mean}");
        let var = params.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / PARAMS as f64;
        assert!((var - bound * bound / 3.0).abs() < 0.1 * bound * bound / 3.0, "variance {var}");
        let max = params.iter().copied().fold(f64::MIN, f64::max);
        let min = params.iter().copied().fold(f64::MAX, f64::min);
        assert!(max > 0.99 * bound && min < -0.99 * bound, "range [{min}, {max}]");
        // The bias too, with the same bound.
        let bias = &params[16 * 150..];
        assert!(bias.iter().all(|b| b.abs() <= bound) && bias.iter().any(|&b| b != 0.0));

        // f32, fan-in 1·3·3: bound 1/3.
        let mut small = [0.0f32; 4 * 9 + 4];
        Layer::<f32, 64, 256>::init(
            &Conv2d::<64, 256, 1, 8, 8, 4, 3, 1, 1>,
            &mut small,
            &mut ChaCha8Rng::seed_from_u64(8),
        );
        assert!(small.iter().all(|p| p.abs() <= 1.0 / 3.0 && *p != 0.0), "{small:?}");
    }

    #[test]
    fn f32_agrees_with_f64() {
        type L = Conv2d<60, 18, 2, 5, 6, 2, 3, 2, 1>;
        let layer = L::default();
        let params = values(2 * 18 + 2, 8, -1.0, 1.0);
        let x = values(60 * 4, 9, -2.0, 2.0);
        let dy = values(18 * 4, 10, -1.0, 1.0);
        let y = forward_batch(&layer, &params, &x);
        let mut grads = vec![0.0; params.len()];
        let dx = backward(&layer, &params, &x, &dy, &mut grads);

        let to32 = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let (params32, x32, dy32) = (to32(&params), to32(&x), to32(&dy));
        let mut y32 = vec![0.0f32; y.len()];
        let mut scratch = vec![0.0f32; <L as Layer<f32, 60, 18>>::SCRATCH];
        layer.forward_batch(&params32, &x32, &mut y32, &mut scratch, Mode::Eval);
        let mut grads32 = vec![0.0f32; params.len()];
        let mut dx32 = vec![0.0f32; x.len()];
        let saved = Saved { x: &x32, y: &y32, mode: Mode::Eval };
        layer.backward_batch(&params32, saved, &dy32, Some(&mut dx32), &mut grads32, &mut scratch);
        let single: Vec<f32> = x32
            .chunks(60)
            .flat_map(|x| {
                Layer::<f32, 60, 18>::forward(&layer, &params32, &SVector::from_column_slice(x))
                    .as_slice()
                    .to_vec()
            })
            .collect();

        let to64 = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
        assert_near("y", &to64(&y32), &y, 1e-5);
        assert_near("forward", &to64(&single), &y, 1e-5);
        assert_near("grads", &to64(&grads32), &grads, 1e-5);
        assert_near("dx", &to64(&dx32), &dx, 1e-5);
    }

    #[cfg(feature = "std")]
    fn fixture() -> Option<serde_json::Value> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/conv.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            std::eprintln!("skipping: {path} is absent");
            return None;
        };
        Some(serde_json::from_str(&text).expect("valid JSON"))
    }

    /// A nested list of numbers, flattened row-major.
    #[cfg(feature = "std")]
    fn flat(v: &serde_json::Value) -> Vec<f64> {
        match v {
            serde_json::Value::Array(items) => items.iter().flat_map(flat).collect(),
            v => vec![v.as_f64().expect("a number")],
        }
    }

    /// One Conv2d case of the fixture: forward, and backward of `upstream`.
    #[cfg(feature = "std")]
    fn fixture_case<
        const IN: usize,
        const OUT: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
    >(
        cases: &serde_json::Value,
        name: &str,
    ) {
        let case = &cases[name];
        let layer = Conv2d::<IN, OUT, C, H, W, O, K, S, P>;
        let declared = format!("nn.Conv2d({C}, {O}, kernel_size={K}, stride={S}, padding={P})");
        assert_eq!(case["layer"], declared.as_str(), "{name}");
        let mut params = flat(&case["weight"]);
        params.extend(flat(&case["bias"]));
        let x = flat(&case["x"]);
        assert_eq!(x.len(), 2 * IN, "{name}: a batch of 2");
        let y = flat(&case["y"]);
        assert_near(&format!("{name}: y"), &forward_batch(&layer, &params, &x), &y, 1e-12);
        assert_near(&format!("{name}: forward"), &forward_each(&layer, &params, &x), &y, 1e-12);
        let mut grads = vec![0.0; params.len()];
        let dx = backward(&layer, &params, &x, &flat(&case["upstream"]), &mut grads);
        assert_near(&format!("{name}: grad_x"), &dx, &flat(&case["grad_x"]), 1e-12);
        let (dw, db) = grads.split_at(O * C * K * K);
        assert_near(&format!("{name}: grad_weight"), dw, &flat(&case["grad_weight"]), 1e-12);
        assert_near(&format!("{name}: grad_bias"), db, &flat(&case["grad_bias"]), 1e-12);
    }

    #[cfg(feature = "std")]
    #[test]
    fn matches_pytorch() {
        let Some(fixture) = fixture() else { return };
        let cases = &fixture["cases"];
        fixture_case::<98, 75, 2, 7, 7, 3, 3, 1, 0>(cases, "conv_k3_s1_p0");
        fixture_case::<98, 147, 2, 7, 7, 3, 3, 1, 1>(cases, "conv_k3_s1_p1");
        fixture_case::<98, 48, 2, 7, 7, 3, 3, 2, 1>(cases, "conv_k3_s2_p1");
        fixture_case::<36, 144, 1, 6, 6, 4, 5, 1, 2>(cases, "conv_k5_s1_p2");
    }

    /// The fixture's small CNN, `Conv2d(1, 4, 3, padding=1)`, ReLU,
    /// `MaxPool2d(2)`, `Flatten()`, `Linear(64, 3)` with cross-entropy, chained
    /// by hand: logits, loss and every parameter gradient.
    #[cfg(feature = "std")]
    #[test]
    fn small_cnn_matches_pytorch() {
        use crate::{CrossEntropy, Dense, Flatten, Loss, MaxPool2d};

        let Some(fixture) = fixture() else { return };
        let case = &fixture["cases"]["cnn_end_to_end"];
        let state = &case["state_dict"];
        let (conv, pool, dense) =
            (Conv2d::<64, 256, 1, 8, 8, 4, 3, 1, 1>, MaxPool2d::<256, 64, 4, 8, 8, 2, 2>, Dense);
        let mut conv_params = flat(&state["0.weight"]);
        conv_params.extend(flat(&state["0.bias"]));
        let mut dense_params = flat(&state["4.weight"]);
        dense_params.extend(flat(&state["4.bias"]));
        let x = flat(&case["x"]);
        let targets: Vec<usize> = case["targets_class"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_u64().unwrap() as usize)
            .collect();
        let n = targets.len();

        let a1 = forward_batch(&conv, &conv_params, &x);
        let r1: Vec<f64> = a1.iter().map(|&v| v.max(0.0)).collect();
        let p1 = forward_batch(&pool, &[], &r1);
        let f1 = forward_batch::<_, 64, 64>(&Flatten, &[], &p1);
        let logits = forward_batch::<_, 64, 3>(&dense, &dense_params, &f1);
        assert_near("logits", &logits, &flat(&case["logits"]), 1e-12);

        let mut dlogits = vec![0.0; 3 * n];
        let loss =
            Loss::<SVector<f64, 3>>::loss_grad(&CrossEntropy, &logits, &targets, &mut dlogits);
        assert_near("loss", &[loss], &[case["loss"].as_f64().unwrap()], 1e-12);
        let grads = &case["grads"];
        let mut dense_grads = vec![0.0; dense_params.len()];
        let df1 = backward::<_, 64, 3>(&dense, &dense_params, &f1, &dlogits, &mut dense_grads);
        let mut expected = flat(&grads["4.weight"]);
        expected.extend(flat(&grads["4.bias"]));
        assert_near("Linear grads", &dense_grads, &expected, 1e-12);
        let dp1 = backward::<_, 64, 64>(&Flatten, &[], &p1, &df1, &mut []);
        let dr1 = backward(&pool, &[], &r1, &dp1, &mut []);
        let da1: Vec<f64> =
            dr1.iter().zip(&a1).map(|(&d, &a)| if a > 0.0 { d } else { 0.0 }).collect();
        let mut conv_grads = vec![0.0; conv_params.len()];
        backward(&conv, &conv_params, &x, &da1, &mut conv_grads);
        let mut expected = flat(&grads["0.weight"]);
        expected.extend(flat(&grads["0.bias"]));
        assert_near("Conv2d grads", &conv_grads, &expected, 1e-12);
    }
}
