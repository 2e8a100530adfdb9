//! AVX-512 kernels for the two layouts every product of a training step
//! takes, without allocating:
//!
//! - **outer**: `C = α A B + β C` with the columns of `A` and of `C`
//!   contiguous (`B` read one scalar at a time): the weight gradients, the
//!   input gradients and convolutions. A tile of 32 rows × `NR` columns of
//!   `C` lives in 2·`NR` registers; each step loads two vectors of a column of
//!   `A` and multiplies them by `NR` broadcast scalars of `B`, read from a
//!   panel of `B` copied into a buffer on the stack.
//! - **dot**: `C = α A B + β C` with the rows of `A` and the columns of `B`
//!   contiguous (`C` written one scalar at a time): the forward pass of a
//!   dense layer, whose row-major weights meet column-major samples. A tile
//!   of 4 × 4 dot products runs in 16 registers over the shared dimension;
//!   each sum is stored with `β C` added, or with the layer's bias
//!   ([`dot_bias`]), so the output is written once and not read.
//!
//! Every element of `C` is summed in the same order whatever tile or thread
//! computes it, so results do not depend on how the work is split.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use super::{Mat, MatMut};

/// Rows of an outer-product tile: two vectors of 16.
const MR: usize = 32;
/// Columns of an outer-product tile.
const NR: usize = 12;

/// `0b1…1` with the low `n` bits set (`n ≤ 16`).
#[inline(always)]
fn mask(n: usize) -> __mmask16 {
    if n >= 16 { 0xffff } else { ((1u32 << n) - 1) as __mmask16 }
}

/// Whether the CPU runs AVX-512F and AVX-512VL code, asked once.
pub(super) fn available() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static LEVEL: AtomicU8 = AtomicU8::new(0);
    match LEVEL.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // VL as well, so that the 128- and 256-bit instructions of the
            // reductions can reach all 32 registers: with AVX-512F alone,
            // values that end in them must live in the first 16, and tiles
            // of more than 16 accumulators spill.
            let yes = std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vl");
            LEVEL.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

/// Runs `f` compiled for AVX-512F: its loops, inlined here, take 16 lanes.
///
/// # Safety
/// The CPU must have AVX-512F ([`available`]).
#[target_feature(enable = "avx512f,avx512vl")]
pub(super) unsafe fn wide<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Where a kernel writes: element `(i, j)` of a `rows × cols` matrix at
/// `ptr + i·rs + j·cs`, within `len` scalars from `ptr`.
///
/// Unlike a [`MatMut`], whose slice holds every scalar between its first and
/// last elements, blocks of one matrix cut for different threads may
/// interleave in memory (row blocks of a column-major matrix, so that each
/// core computes the rows of its own share of a layer's weights); their
/// elements are still distinct, so no scalar is written by two threads.
#[derive(Debug)]
pub(super) struct Out<'a> {
    ptr: *mut f32,
    len: usize,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: usize,
    pub(super) cs: usize,
    life: PhantomData<&'a mut [f32]>,
}

// SAFETY: an `Out` is a unique borrow of its elements, like a `&mut [f32]`.
unsafe impl Send for Out<'_> {}

impl<'a> From<MatMut<'a, f32>> for Out<'a> {
    fn from(c: MatMut<'a, f32>) -> Self {
        Out {
            ptr: c.data.as_mut_ptr(),
            len: c.data.len(),
            rows: c.rows,
            cols: c.cols,
            rs: c.rs,
            cs: c.cs,
            life: PhantomData,
        }
    }
}

impl Out<'_> {
    /// Whether every element lies within the borrowed scalars.
    pub(super) fn fits(&self) -> bool {
        super::fits(self.len, self.rows, self.cols, self.rs, self.cs)
    }

    /// The first `at` rows (`at ≤ rows`), and the others.
    pub(super) fn split_rows(self, at: usize) -> (Self, Self) {
        let at = at.min(self.rows);
        let skip = (at * self.rs).min(self.len);
        let rest = Out {
            ptr: self.ptr.wrapping_add(skip),
            len: self.len - skip,
            rows: self.rows - at,
            ..self
        };
        (Out { rows: at, ..self }, rest)
    }

    /// The transpose, over the same scalars.
    pub(super) fn t(self) -> Self {
        Out { rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs, ..self }
    }
}

/// Which layout a product has, if one of ours.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Layout {
    /// `C` as is.
    Outer,
    /// `Cᵀ = Bᵀ Aᵀ`, which is an outer-product layout.
    OuterTransposed,
    Dot,
}

/// `c_rs` and `c_cs` are the strides of `C`.
pub(super) fn layout(
    a: &Mat<'_, f32>,
    b: &Mat<'_, f32>,
    c_rs: usize,
    c_cs: usize,
) -> Option<Layout> {
    if c_rs == 1 && a.rs == 1 {
        Some(Layout::Outer)
    } else if c_cs == 1 && b.cs == 1 {
        Some(Layout::OuterTransposed)
    } else if a.cs == 1 && b.rs == 1 {
        Some(Layout::Dot)
    } else {
        None
    }
}

/// Runs the product in `layout`. The caller checked the shapes, that every
/// element lies in its slice, and that AVX-512F is available.
pub(super) fn run(
    layout: Layout,
    alpha: f32,
    a: Mat<'_, f32>,
    b: Mat<'_, f32>,
    beta: f32,
    c: Out<'_>,
) {
    // SAFETY: `available()` was checked by the caller; the kernels read and
    // write only elements `gemm` checked to be inside the slices.
    unsafe {
        match layout {
            Layout::Outer => outer(alpha, a, b, beta, c),
            Layout::OuterTransposed => {
                outer(alpha, b.t(), a.t(), beta, c.t());
            }
            Layout::Dot => dot(alpha, a, b, Store::Beta(beta), c),
        }
    }
}

/// `C = A B + bias·1ᵀ` in the [`Layout::Dot`] layout, `bias` holding one
/// scalar per row of `c`. The caller checked the shapes, that every element
/// lies in its slice, and that AVX-512F is available.
pub(super) fn dot_bias(a: Mat<'_, f32>, b: Mat<'_, f32>, bias: &[f32], c: Out<'_>) {
    assert!(
        layout(&a, &b, c.rs, c.cs) == Some(Layout::Dot) && bias.len() == c.rows,
        "gemm_bias: not a dot-product layout, or one bias per row missing"
    );
    // SAFETY: as in `run`; `bias` has a scalar for every row of `c`.
    unsafe { dot(1.0, a, b, Store::Bias(bias), c) }
}

/// How the dot-product kernel stores a sum `s` into an element of `c`.
#[derive(Clone, Copy)]
enum Store<'a> {
    /// `c ← s + β c` (`c` not read when `β` is zero).
    Beta(f32),
    /// `c ← s + bias[i]` for an element of row `i` (`c` not read).
    Bias(&'a [f32]),
}

/// Rows of `B` per packed panel of [`outer`]: a batch of up to this many
/// samples is one panel (12 KB, which stays in L1 while the tiles pass it).
const KB: usize = 256;

/// `C = α A B + β C` with `a.rs == 1` and `c.rs == 1`.
///
/// `B` is read by panels of [`NR`] columns × [`KB`] rows, first copied into a
/// contiguous buffer: read in place, each step of a tile touches `NR`
/// scalars of a row of `B` that may lie a whole column apart (the input
/// gradient's `∂L/∂Y`), or rows a multiple of 512 bytes apart that share a
/// few sets of L1 (a weight gradient's `∂L/∂Y` over 128 outputs), so that the
/// panel kept falling out of L1 as the tiles went down `A`. A product over
/// more than `KB` rows of `B` goes through them in blocks of `KB`, each
/// adding its sums into `C` (so that the block's columns of `A` stay in L2
/// while every panel passes them); the blocks are fixed by `KB`, not by how
/// the product is split between cores.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn outer(alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, beta: f32, c: Out<'_>) {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    // Not initialised: `pack` writes every scalar a tile then reads (zeroing
    // 12 KB cost more than a convolution's small per-sample products).
    let mut panel = [const { MaybeUninit::<f32>::uninit() }; KB * NR];
    let mut p0 = 0;
    // At least one pass, so that a product with `k = 0` still scales `C` by `β`.
    loop {
        let kb = KB.min(k - p0);
        // The first panels scale `C` by `β`; the next ones add to it.
        let beta = if p0 == 0 { beta } else { 1.0 };
        let a = Mat { data: &a.data[(p0 * a.cs).min(a.data.len())..], cols: kb, ..a };
        let mut j = 0;
        while j < n {
            let nr = NR.min(n - j);
            pack(&b, p0, kb, j, nr, &mut panel);
            let mut i = 0;
            while i < m {
                let mr = MR.min(m - i);
                let t = (alpha, &a, &panel, beta, &c, i, j, mr);
                // SAFETY: the tile's rows `i..i+mr` and columns `j..j+nr` are
                // in range, and `pack` wrote the panel's `kb` rows of `nr`
                // scalars, which the tile (`a.cols = kb`, `NC = nr`) reads.
                unsafe {
                    match nr {
                        12 => outer_tile::<12>(t),
                        11 => outer_tile::<11>(t),
                        10 => outer_tile::<10>(t),
                        9 => outer_tile::<9>(t),
                        8 => outer_tile::<8>(t),
                        7 => outer_tile::<7>(t),
                        6 => outer_tile::<6>(t),
                        5 => outer_tile::<5>(t),
                        4 => outer_tile::<4>(t),
                        3 => outer_tile::<3>(t),
                        2 => outer_tile::<2>(t),
                        _ => outer_tile::<1>(t),
                    }
                }
                i += MR;
            }
            j += NR;
        }
        p0 += kb;
        if p0 >= k {
            break;
        }
    }
}

/// Copies rows `p0..p0+kb` and columns `j..j+nr` of `b` into `panel`, row
/// `p` at `panel[p·NR..p·NR+nr]`.
#[inline(always)]
fn pack(b: &Mat<'_, f32>, p0: usize, kb: usize, j: usize, nr: usize, panel: &mut Panel) {
    if b.cs == 1 {
        // Each row's `nr` scalars are contiguous.
        for (p, row) in panel.chunks_exact_mut(NR).take(kb).enumerate() {
            let at = (p0 + p) * b.rs + j;
            for (v, &x) in row[..nr].iter_mut().zip(&b.data[at..at + nr]) {
                v.write(x);
            }
        }
    } else if b.rs == 1 {
        // Each column's `kb` scalars are contiguous: read them in order.
        for jj in 0..nr {
            let at = p0 + (j + jj) * b.cs;
            for (row, &v) in panel.chunks_exact_mut(NR).zip(&b.data[at..at + kb]) {
                row[jj].write(v);
            }
        }
    } else {
        for (p, row) in panel.chunks_exact_mut(NR).take(kb).enumerate() {
            for (jj, v) in row[..nr].iter_mut().enumerate() {
                v.write(b.data[(p0 + p) * b.rs + (j + jj) * b.cs]);
            }
        }
    }
}

/// What a tile of [`outer`] needs: `α`, `A` from the panel's first row,
/// the panel, `β`, `C`, and the tile's first row, first column and height.
type OuterTile<'t, 'a> = (f32, &'t Mat<'a, f32>, &'t Panel, f32, &'t Out<'a>, usize, usize, usize);

/// A panel of [`outer`]: `KB` rows of `NR` scalars, of which `pack` writes
/// the ones the tiles read.
type Panel = [MaybeUninit<f32>; KB * NR];

/// One tile of [`outer`]: rows `i..i+mr` (`mr ≤ 32`), columns `j..j+NC`, over
/// the `a.cols` rows of the panel, whose first `NC` scalars of each of those
/// rows must have been written.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn outer_tile<const NC: usize>((alpha, a, panel, beta, c, i, j, mr): OuterTile<'_, '_>) {
    let (m0, m1) = (mask(mr), mask(mr.saturating_sub(16)));
    let mut acc0 = [_mm512_setzero_ps(); NC];
    let mut acc1 = [_mm512_setzero_ps(); NC];
    let ap = a.data.as_ptr();
    for (p, row) in panel.chunks_exact(NR).take(a.cols).enumerate() {
        // SAFETY: column `p` of `a`, rows `i..i+mr`, masked to the rows that exist.
        let (x0, x1) = unsafe {
            let col = ap.add(i + p * a.cs);
            (_mm512_maskz_loadu_ps(m0, col), _mm512_maskz_loadu_ps(m1, col.add(16)))
        };
        for ((r0, r1), v) in acc0.iter_mut().zip(&mut acc1).zip(&row[..NC]) {
            // SAFETY: written by `pack` (this function's precondition).
            let s = _mm512_set1_ps(unsafe { v.assume_init() });
            *r0 = _mm512_fmadd_ps(x0, s, *r0);
            *r1 = _mm512_fmadd_ps(x1, s, *r1);
        }
    }
    let (va, vb) = (_mm512_set1_ps(alpha), _mm512_set1_ps(beta));
    let cp = c.ptr;
    for jj in 0..NC {
        // SAFETY: column `j + jj` of `c`, rows `i..i+mr`, masked; `c` is
        // borrowed mutably by the caller, so nothing else reads it.
        unsafe {
            let col = cp.add(i + (j + jj) * c.cs);
            let (mut r0, mut r1) = (_mm512_mul_ps(acc0[jj], va), _mm512_mul_ps(acc1[jj], va));
            if beta != 0.0 {
                r0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, col), vb, r0);
                r1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, col.add(16)), vb, r1);
            }
            _mm512_mask_storeu_ps(col, m0, r0);
            if mr > 16 {
                _mm512_mask_storeu_ps(col.add(16), m1, r1);
            }
        }
    }
}

/// Rows of `A` and columns of `B` per dot-product tile: 16 sums in registers.
const MI: usize = 4;
const NJ: usize = 4;

/// Columns of `B` per block of [`dot`]: 64 columns of an MNIST-size input
/// (200 KB) stay in L2 while every row of `A` passes over them.
const JB: usize = 64;

/// `C = α A B + β C` with `a.cs == 1` and `b.rs == 1`: tiles of 4 rows of
/// `A` × 4 columns of `B` (8 × 2 where `B` is off cache lines). Columns go in
/// blocks of [`JB`], and within a block rows go outside, so that the tile's
/// rows of `A` (the weights) stay in L1 while the block's columns of `B`
/// pass them from L2.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn dot(alpha: f32, a: Mat<'_, f32>, b: Mat<'_, f32>, store: Store<'_>, c: Out<'_>) {
    let (m, n) = (c.rows, c.cols);
    // Where the columns of `b` are not on cache lines (a caller's `Vec` of
    // samples), every load of `b` straddles two lines: 8 × 2 tiles load `b`
    // half as often per multiply-add (a batch of 1,000 through 784-128-10
    // took 0.82–0.86 ms against 0.93–0.98). Their sums are those of 4 × 4
    // tiles, bit for bit.
    let misaligned = n >= 2 && b.data.as_ptr().align_offset(64) != 0;
    let mut j0 = 0;
    while j0 < n {
        let j1 = (j0 + JB).min(n);
        let mut i = 0;
        while i < m {
            // A single sample takes the same tiles: measured with the
            // weights on a cache line, one sample through 784-128-10 took
            // 2.66 µs (median of 12 alternating runs) with these 4-row
            // tiles, 2.71 µs with 8 rows, and 2.81 µs with 8 rows and every
            // load masked, the earlier kernel.
            let eight = misaligned && m - i >= 8 && j1 - j0 >= 2;
            let mi = if eight { 8 } else { MI.min(m - i) };
            let mut j = j0;
            let t = |j| (alpha, &a, &b, store, &c, i, j);
            while eight && j < j1 {
                // SAFETY: rows `i..i+8` of `a` and columns `j..j+2` of `b` exist.
                unsafe {
                    if j1 - j >= 2 {
                        dot_tile::<8, 2>(t(j));
                    } else {
                        dot_tile::<8, 1>(t(j));
                    }
                }
                j += 2;
            }
            while mi == 4 && c.rs == 1 && j1 - j >= 6 {
                // SAFETY: rows `i..i+4` of `a` and columns `j..j+6` of `b` exist.
                unsafe { dot_tile_4x6(t(j)) };
                j += 6;
            }
            while j < j1 {
                let nj = NJ.min(j1 - j);
                macro_rules! tile {
                    ($mi:literal) => {
                        match nj {
                            4 => dot_tile::<$mi, 4>(t(j)),
                            3 => dot_tile::<$mi, 3>(t(j)),
                            2 => dot_tile::<$mi, 2>(t(j)),
                            _ => dot_tile::<$mi, 1>(t(j)),
                        }
                    };
                }
                // SAFETY: rows `i..i+mi` of `a` and columns `j..j+nj` of `b` exist.
                unsafe {
                    match mi {
                        4 => tile!(4),
                        3 => tile!(3),
                        2 => tile!(2),
                        _ => tile!(1),
                    }
                }
                j += NJ;
            }
            i += mi;
        }
        j0 = j1;
    }
}

/// The `MI × NC` accumulators of a dot tile over rows `i..` of `a` and
/// columns `j..` of `b`: 16 lanes of the shared dimension at a time, then
/// the masked tail (the same additions either way). Each tile function
/// expands it, so that its accumulators stay in registers. Unsafe: the rows
/// and columns must exist.
macro_rules! dot_sums {
    ($mi:expr, $nc:expr, $a:expr, $b:expr, $i:expr, $j:expr) => {{
        let (a, b, i, j): (&Mat<'_, f32>, &Mat<'_, f32>, usize, usize) = ($a, $b, $i, $j);
        let k = a.cols;
        let mut acc = [[_mm512_setzero_ps(); $nc]; $mi];
        let (ap, bp) = (a.data.as_ptr(), b.data.as_ptr());
        macro_rules! step {
            ($p:expr, $mk:expr) => {{
                let (p, mk) = ($p, $mk);
                let mut xs = [_mm512_setzero_ps(); $mi];
                for (ii, x) in xs.iter_mut().enumerate() {
                    // Row `i + ii` of `a`, elements `p..min(p+16, k)`.
                    *x = _mm512_maskz_loadu_ps(mk, ap.add((i + ii) * a.rs + p));
                }
                for jj in 0..$nc {
                    // Column `j + jj` of `b`, elements `p..min(p+16, k)`.
                    let y = _mm512_maskz_loadu_ps(mk, bp.add((j + jj) * b.cs + p));
                    for (row, &x) in acc.iter_mut().zip(&xs) {
                        row[jj] = _mm512_fmadd_ps(x, y, row[jj]);
                    }
                }
            }};
        }
        let mut p = 0;
        while p + 16 <= k {
            step!(p, 0xffff);
            p += 16;
        }
        if p < k {
            step!(p, mask(k - p));
        }
        acc
    }};
}

/// What a tile of [`dot`] needs: `α`, `A`, `B`, how to store, `C`, and the
/// tile's first row and first column.
type DotTile<'t, 'a> =
    (f32, &'t Mat<'a, f32>, &'t Mat<'a, f32>, Store<'a>, &'t Out<'a>, usize, usize);

/// One tile of [`dot`]: `MI` rows of `a` against `NC` columns of `b`.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn dot_tile<const MI: usize, const NC: usize>(
    (alpha, a, b, store, c, i, j): DotTile<'_, '_>,
) {
    // SAFETY: as the caller promises (the tile's rows and columns exist).
    let acc: [[__m512; NC]; MI] = unsafe { dot_sums!(MI, NC, a, b, i, j) };
    if MI == 4 && NC == 4 && c.rs == 1 {
        // The common tile, over a column-major `c`: its 16 sums in one
        // vector, each column's 4 rows stored at once. (The indices are
        // those of a 4 × 4 tile here; `min` only keeps other sizes, which
        // never take this branch, compiling.)
        let tile: [[__m512; 4]; 4] = core::array::from_fn(|ii| {
            core::array::from_fn(|jj| acc[ii.min(MI - 1)][jj.min(NC - 1)])
        });
        // SAFETY: rows `i..i+4` and columns `j..j+4` of `c` exist, its rows
        // are contiguous, and `bias` has a scalar for each row.
        let places = [(i, j), (i, j + 1), (i, j + 2), (i, j + 3)];
        unsafe { store_tile(alpha, reduce_tile(&tile), store, c, &places) };
        return;
    }
    if MI == 8 && NC == 2 && c.rs == 1 {
        // An 8 × 2 tile seen as a 4 × 4 one: quarter `q` is column `q % 2`,
        // rows `4 (q / 2)..+4`.
        let tile: [[__m512; 4]; 4] = core::array::from_fn(|ii| {
            core::array::from_fn(|q| acc[(4 * (q / 2) + ii).min(MI - 1)][(q % 2).min(NC - 1)])
        });
        let places = [(i, j), (i, j + 1), (i + 4, j), (i + 4, j + 1)];
        // SAFETY: rows `i..i+8` and columns `j..j+2` of `c` exist, its rows
        // are contiguous, and `bias` has a scalar for each row.
        unsafe { store_tile(alpha, reduce_tile(&tile), store, c, &places) };
        return;
    }
    let cp = c.ptr;
    for (ii, row) in acc.iter().enumerate() {
        for (jj, &v) in row.iter().enumerate() {
            let s = alpha * _mm512_reduce_add_ps(v);
            // SAFETY: element `(i + ii, j + jj)` of `c`, borrowed mutably by
            // the caller; `bias` has a scalar for each of its rows.
            unsafe {
                let e = cp.add((i + ii) * c.rs + (j + jj) * c.cs);
                *e = match store {
                    Store::Beta(0.0) => s,
                    Store::Beta(beta) => s + beta * *e,
                    Store::Bias(bias) => s + *bias.get_unchecked(i + ii),
                };
            }
        }
    }
}

/// A tile of 4 rows of `a` × 6 columns of `b` over a column-major `c`: 24
/// accumulators, 10 loads per 24 multiply-adds where a 4 × 4 tile makes 8
/// per 16. Each sum is accumulated and reduced as in [`dot_tile`], so the
/// bits are the same. (The sums are picked out with constant indices:
/// indexing the accumulators with computed ones, as `dot_tile` can for 16
/// of them, made the compiler copy all 24 to memory at every step.)
///
/// # Safety
/// Rows `i..i+4` of `a`, columns `j..j+6` of `b` and the matching elements
/// of `c` must exist, `c.rs` be 1, and a bias have scalars for those rows.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn dot_tile_4x6((alpha, a, b, store, c, i, j): DotTile<'_, '_>) {
    // SAFETY: as the caller promises.
    let acc: [[__m512; 6]; 4] = unsafe { dot_sums!(4, 6, a, b, i, j) };
    let [r0, r1, r2, r3] = acc;
    let first = [
        [r0[0], r0[1], r0[2], r0[3]],
        [r1[0], r1[1], r1[2], r1[3]],
        [r2[0], r2[1], r2[2], r2[3]],
        [r3[0], r3[1], r3[2], r3[3]],
    ];
    // Columns 4 and 5 in the first two quarters (the last two repeat them
    // and are not stored).
    let last = [
        [r0[4], r0[5], r0[4], r0[5]],
        [r1[4], r1[5], r1[4], r1[5]],
        [r2[4], r2[5], r2[4], r2[5]],
        [r3[4], r3[5], r3[4], r3[5]],
    ];
    // SAFETY: as the caller promises.
    unsafe {
        let places = [(i, j), (i, j + 1), (i, j + 2), (i, j + 3)];
        store_tile(alpha, reduce_tile(&first), store, c, &places);
        store_tile(alpha, reduce_tile(&last), store, c, &[(i, j + 4), (i, j + 5)]);
    }
}

/// The 16 sums of a 4 × 4 tile of accumulators (`acc[row][column]`) in one
/// vector: 128-bit lane `jj` holds column `jj`, and its element `ii` row
/// `ii`. Four rounds of shuffles and additions (45 instructions) replace 16
/// horizontal sums (about 128). Each sum adds its 16 lanes in the order of
/// `_mm512_reduce_add_ps` (lane `l` and `l + 8`, then `l + 4`, `l + 2`,
/// `l + 1`), so every element has the bits it has when reduced alone, as
/// in the tiles of other sizes (`split_tests::tile_sums_are_the_lanes_sums`
/// in `gemm`).
#[target_feature(enable = "avx512f,avx512vl")]
pub(super) fn reduce_tile(acc: &[[__m512; 4]; 4]) -> __m512 {
    // `[a.q0 + a.q2, a.q1 + a.q3, b.q0 + b.q2, b.q1 + b.q3]` (quarters of 4 lanes).
    let halves = |a, b| {
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b),
            _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b),
        )
    };
    // From two results of `halves`: the four sums' quarters added in pairs.
    let quarters = |a, b| {
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(a, b),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(a, b),
        )
    };
    // Within each quarter: elements `l` and `l + 2`, then `l` and `l + 1`.
    let pairs = |a, b| {
        _mm512_add_ps(
            _mm512_shuffle_ps::<0b01_00_01_00>(a, b),
            _mm512_shuffle_ps::<0b11_10_11_10>(a, b),
        )
    };
    let singles = |a, b| {
        _mm512_add_ps(
            _mm512_shuffle_ps::<0b10_00_10_00>(a, b),
            _mm512_shuffle_ps::<0b11_01_11_01>(a, b),
        )
    };
    // Row `ii`'s four sums, 4 partial sums each, one column per quarter.
    let rows: [__m512; 4] = core::array::from_fn(|ii| {
        let row = &acc[ii];
        quarters(halves(row[0], row[1]), halves(row[2], row[3]))
    });
    singles(pairs(rows[0], rows[1]), pairs(rows[2], rows[3]))
}

/// Stores up to 16 sums (`sums` as [`reduce_tile`] orders them) into a `c`
/// whose rows are contiguous, as `dot_tile` stores each element: 128-bit
/// quarter `q` at rows `places[q].0..+4` of column `places[q].1`, for each
/// of the (at most 4) places given.
///
/// # Safety
/// Those elements of `c` must exist and `c.rs` be 1; with a bias, `bias`
/// must have scalars for those rows.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn store_tile(
    alpha: f32,
    sums: __m512,
    store: Store<'_>,
    c: &Out<'_>,
    places: &[(usize, usize)],
) {
    let s = _mm512_mul_ps(_mm512_set1_ps(alpha), sums);
    let quarters = places.len().min(4);
    // SAFETY (every use): rows `r..r+4` of column `col` of `c`, given.
    let at = |q: usize| c.ptr.wrapping_add(places[q].0 + places[q].1 * c.cs);
    // Four 128-bit quarters in one vector: those of the places given, zeros
    // for the others.
    let join = |v: [__m128; 4]| {
        let w = _mm512_castps128_ps512(v[0]);
        let w = _mm512_insertf32x4::<1>(w, v[1]);
        let w = _mm512_insertf32x4::<2>(w, v[2]);
        _mm512_insertf32x4::<3>(w, v[3])
    };
    let v = match store {
        Store::Beta(0.0) => s,
        Store::Beta(beta) => {
            let old = join(core::array::from_fn(|q| {
                if q < quarters { unsafe { _mm_loadu_ps(at(q)) } } else { _mm_setzero_ps() }
            }));
            _mm512_add_ps(s, _mm512_mul_ps(_mm512_set1_ps(beta), old))
        }
        // SAFETY: `bias` has scalars for every row stored.
        Store::Bias(bias) => {
            let rows = join(core::array::from_fn(|q| {
                if q < quarters {
                    unsafe { _mm_loadu_ps(bias.as_ptr().add(places[q].0)) }
                } else {
                    _mm_setzero_ps()
                }
            }));
            _mm512_add_ps(s, rows)
        }
    };
    let parts = [
        _mm512_castps512_ps128(v),
        _mm512_extractf32x4_ps::<1>(v),
        _mm512_extractf32x4_ps::<2>(v),
        _mm512_extractf32x4_ps::<3>(v),
    ];
    for (q, &part) in parts.iter().enumerate().take(quarters) {
        unsafe { _mm_storeu_ps(at(q), part) };
    }
}
