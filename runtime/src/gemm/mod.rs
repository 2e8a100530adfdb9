//! General matrix multiplication over strided slices: the one hot loop of
//! batched training and inference.
//!
//! `C ← α·A·B + β·C` for matrices given as slices with a row stride and a
//! column stride, so that row-major weights, column-major batches and their
//! transposes are all read in place.
//!
//! - `f32` on x86-64 with AVX-512F and VL (detected at run time): our own kernels for
//!   the layouts of a training step (`x86.rs`), which do not allocate (the
//!   outer-product kernel copies panels of `B` into a buffer on the stack),
//!   split over the cores when the product is large enough.
//! - otherwise, with `alloc`: [`matrixmultiply`], whose packed kernels pick
//!   AVX2, FMA or AVX-512 at run time;
//! - without `alloc`: a plain loop doing the same arithmetic.

#![allow(unsafe_code)]

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod pool;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

use crate::Float;

/// A matrix over a slice: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a, T> {
    /// The scalars the matrix reads.
    pub data: &'a [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in scalars between consecutive rows.
    pub rs: usize,
    /// Distance in scalars between consecutive columns.
    pub cs: usize,
}

/// A mutable matrix over a slice, laid out as [`Mat`].
#[derive(Debug)]
pub struct MatMut<'a, T> {
    /// The scalars the matrix writes.
    pub data: &'a mut [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in scalars between consecutive rows.
    pub rs: usize,
    /// Distance in scalars between consecutive columns.
    pub cs: usize,
}

#[cfg(feature = "alloc")]
impl<'a, T: bytemuck::Pod> Mat<'a, T> {
    /// The same matrix over the same scalars seen as `U` (`T` is `U`).
    fn cast<U: bytemuck::Pod>(self) -> Mat<'a, U> {
        Mat {
            data: bytemuck::cast_slice(self.data),
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }
}

#[cfg(feature = "alloc")]
impl<'a, T: bytemuck::Pod> MatMut<'a, T> {
    /// The same matrix over the same scalars seen as `U` (`T` is `U`).
    fn cast<U: bytemuck::Pod>(self) -> MatMut<'a, U> {
        MatMut {
            data: bytemuck::cast_slice_mut(self.data),
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }
}

impl<'a, T> Mat<'a, T> {
    /// `rows × cols`, column after column (a batch `[width, n]`).
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Mat { data, rows, cols, rs: 1, cs: rows }
    }

    /// `rows × cols`, row after row (a PyTorch weight `[out, in]`).
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Mat { data, rows, cols, rs: cols, cs: 1 }
    }

    /// The transpose, reading the same scalars.
    pub fn t(self) -> Self {
        Mat { data: self.data, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }
}

impl<'a, T> MatMut<'a, T> {
    /// `rows × cols`, column after column.
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        MatMut { data, rows, cols, rs: 1, cs: rows }
    }

    /// `rows × cols`, row after row.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        MatMut { data, rows, cols, rs: cols, cs: 1 }
    }
}

/// Whether every element of a `rows × cols` matrix with these strides lies
/// within `len` scalars.
fn fits(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let last = (rows - 1).checked_mul(rs).zip((cols - 1).checked_mul(cs));
    last.and_then(|(r, c)| r.checked_add(c)).is_some_and(|i| i < len)
}

/// `c ← α·a·b + β·c`. When `β` is zero, `c` is not read (it may hold NaN).
///
/// # Panics
/// If the shapes do not agree, a matrix reaches past its slice, or `c`'s
/// strides would make two elements share a scalar.
pub fn gemm<T: Float>(alpha: T, a: Mat<'_, T>, b: Mat<'_, T>, beta: T, c: MatMut<'_, T>) {
    gemm_checks(&a, &b, &c);
    if c.rows == 0 || c.cols == 0 {
        return;
    }
    kernel(alpha, a, b, beta, c);
}

/// The checks [`gemm`] makes before it reads or writes anything.
fn gemm_checks<T>(a: &Mat<'_, T>, b: &Mat<'_, T>, c: &MatMut<'_, T>) {
    assert!(a.cols == b.rows && c.rows == a.rows && c.cols == b.cols, "gemm: shapes disagree");
    assert!(fits(a.data.len(), a.rows, a.cols, a.rs, a.cs), "gemm: `a` reaches past its slice");
    assert!(fits(b.data.len(), b.rows, b.cols, b.rs, b.cs), "gemm: `b` reaches past its slice");
    assert!(fits(c.data.len(), c.rows, c.cols, c.rs, c.cs), "gemm: `c` reaches past its slice");
    // Distinct elements of `c` must be distinct scalars: one stride must
    // step over a whole run of the other.
    let distinct = c.rows <= 1
        || c.cols <= 1
        || (c.rs >= 1 && c.cs >= c.rs.saturating_mul(c.rows))
        || (c.cs >= 1 && c.rs >= c.cs.saturating_mul(c.cols));
    assert!(distinct, "gemm: `c` has overlapping elements");
}

/// `c ← a·b + bias·1ᵀ`: the product plus `bias[i]` on every element of row
/// `i`, as a dense layer's forward pass needs. The bias is added after the
/// sum, so the result is that of writing `bias` into every column of `c`
/// and calling [`gemm`] with `α = β = 1`, bit for bit; the AVX-512 kernel
/// adds it as it stores each element, without a pass over `c` before.
///
/// # Panics
/// As [`gemm`]; also if `bias` does not have one scalar per row of `c`.
pub fn gemm_bias<T: Float>(a: Mat<'_, T>, b: Mat<'_, T>, bias: &[T], c: MatMut<'_, T>) {
    gemm_checks(&a, &b, &c);
    assert_eq!(bias.len(), c.rows, "gemm_bias: one bias per row of `c`");
    if c.rows == 0 || c.cols == 0 {
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if fast_f32::<T>() && x86::layout(&a.cast(), &b.cast(), c.rs, c.cs) == Some(x86::Layout::Dot) {
        let bias: &[f32] = bytemuck::cast_slice(bias);
        split(
            &|a, b, c, row| x86::dot_bias(a, b, &bias[row..row + c.rows], c),
            a.cast(),
            b.cast(),
            c.cast().into(),
        );
        return;
    }
    for j in 0..c.cols {
        for (i, &v) in bias.iter().enumerate() {
            c.data[i * c.rs + j * c.cs] = v;
        }
    }
    kernel(T::one(), a, b, T::one(), c);
}

#[cfg(feature = "alloc")]
fn kernel<T: Float>(alpha: T, a: Mat<'_, T>, b: Mat<'_, T>, beta: T, c: MatMut<'_, T>) {
    use core::any::TypeId;

    if TypeId::of::<T>() == TypeId::of::<f32>() {
        let a = a.cast::<f32>();
        let b = b.cast::<f32>();
        let c = c.cast::<f32>();
        let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32);
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x86::available()
            && let Some(layout) = x86::layout(&a, &b, c.rs, c.cs)
        {
            split(&|a, b, c, _| x86::run(layout, alpha, a, b, beta, c), a, b, c.into());
            return;
        }
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let s = |x: usize| x as isize;
        // SAFETY: `gemm` checked that every element of `a`, `b` and `c`
        // (given their shapes and strides) lies inside its slice, that `c`'s
        // elements are distinct, and `c` is borrowed mutably, so it aliases
        // neither `a` nor `b`. Strides fit `isize` since slices cannot exceed
        // `isize::MAX` bytes.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                a.data.as_ptr(),
                s(a.rs),
                s(a.cs),
                b.data.as_ptr(),
                s(b.rs),
                s(b.cs),
                beta,
                c.data.as_mut_ptr(),
                s(c.rs),
                s(c.cs),
            );
        }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        let a = a.cast::<f64>();
        let b = b.cast::<f64>();
        let c = c.cast::<f64>();
        let (alpha, beta) = (alpha.as_f64(), beta.as_f64());
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let s = |x: usize| x as isize;
        // SAFETY: as for `sgemm` above.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                alpha,
                a.data.as_ptr(),
                s(a.rs),
                s(a.cs),
                b.data.as_ptr(),
                s(b.rs),
                s(b.cs),
                beta,
                c.data.as_mut_ptr(),
                s(c.rs),
                s(c.cs),
            );
        }
    } else {
        portable(alpha, a, b, beta, c);
    }
}

/// The number of threads that share large products (this one and its
/// helpers), starting the helpers if they have not started.
///
/// The helpers start on the first product worth sharing, which allocates
/// once per process (the threads and their mailboxes); a program that must
/// not allocate after its set-up, even in its first inference, calls this
/// during set-up. Set `PERCEPTRA_THREADS=n` to choose the number.
#[cfg(feature = "std")]
pub fn threads() -> usize {
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        return pool::threads();
    }
    1
}

/// Slices, or tuples of slices of one length, that can be cut in two.
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub(crate) trait Pieces: Sized + Send {
    /// The number of items (of each slice).
    fn items(&self) -> usize;
    /// The first `at` items, and the rest.
    fn cut(self, at: usize) -> (Self, Self);
}

impl<T: Send + Sync> Pieces for &[T] {
    fn items(&self) -> usize {
        self.len()
    }
    fn cut(self, at: usize) -> (Self, Self) {
        self.split_at(at)
    }
}

impl<T: Send> Pieces for &mut [T] {
    fn items(&self) -> usize {
        self.len()
    }
    fn cut(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

/// A slice (`&[T]` or `&mut [T]`) seen as rows of `width` scalars, a batch
/// of samples, cut between rows.
#[derive(Clone, Copy)]
pub(crate) struct Rows<S> {
    pub(crate) data: S,
    pub(crate) width: usize,
}

impl<S: Pieces> Pieces for Rows<S> {
    fn items(&self) -> usize {
        self.data.items().checked_div(self.width).unwrap_or(0)
    }
    fn cut(self, at: usize) -> (Self, Self) {
        let (front, back) = self.data.cut(at * self.width);
        (Rows { data: front, width: self.width }, Rows { data: back, width: self.width })
    }
}

macro_rules! tuple_pieces {
    ($($p:ident $i:tt),+) => {
        impl<$($p: Pieces),+> Pieces for ($($p,)+) {
            fn items(&self) -> usize {
                let lens = [$(self.$i.items()),+];
                lens.into_iter().min().unwrap_or(0)
            }
            fn cut(self, at: usize) -> (Self, Self) {
                let cuts = ($(self.$i.cut(at),)+);
                (($(cuts.$i.0,)+), ($(cuts.$i.1,)+))
            }
        }
    };
}
tuple_pieces!(A 0, B 1);
tuple_pieces!(A 0, B 1, C 2);
tuple_pieces!(A 0, B 1, C 2, D 3);

/// A shared piece of elementwise work is handed to `f` in blocks ending at
/// multiples of this many items of the whole. Measured on a 2-core Zen 4,
/// Adam on 784-256-128-10 at batch 64: 0.44–0.45 s per epoch against
/// 0.49–0.51 s with each core's half in one call (three alternating pairs),
/// with the same bits; SGD unchanged. Timing each block showed the second
/// core's half running at about half speed when unblocked; blocks of 4096
/// or 16384 items, or one cut near the start of that half, all restored it,
/// but blocks of the same size counted from the start of each half did not.
/// Why was not found.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const BLOCK: usize = 4096;

/// Elementwise work (an optimizer step, a fill, a batch's gather) shared
/// between the threads like a product: `whole` is cut into one piece per
/// thread of at least `least` items each, and `f` runs on every piece, one
/// block of it at a time: the blocks end at multiples of [`BLOCK`] items of
/// `whole`. Each item is handled by `f` whatever the cut, so work that
/// treats items independently gives the same bits on any number of threads.
/// Runs `f` on `whole` here where products are not shared (without AVX-512
/// or `std`). A tuple's slices should have one length: the cuts follow the
/// shortest.
pub(crate) fn for_each_piece<P: Pieces>(least: usize, whole: P, f: &(dyn Fn(P) + Sync)) {
    let len = whole.items();
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() && len >= 2 * least.max(1) {
        let parts = pool::threads().min(len / least.max(1)).min(pool::MAX_PARTS);
        if parts > 1 {
            // Each piece with the index of its first item in `whole`.
            let mut pieces: [Option<(usize, P)>; pool::MAX_PARTS] = core::array::from_fn(|_| None);
            let (mut rest, mut done) = (whole, 0);
            for (k, piece) in pieces[..parts - 1].iter_mut().enumerate() {
                let size = (len - done) / (parts - k);
                let (front, back) = rest.cut(size);
                *piece = Some((done, front));
                (rest, done) = (back, done + size);
            }
            pieces[parts - 1] = Some((done, rest));
            pool::run_each(pieces, parts, true, &|(start, piece)| {
                let (mut rest, mut at) = (piece, start);
                while rest.items() > 0 {
                    let size = ((at / BLOCK + 1) * BLOCK - at).min(rest.items());
                    let (front, back) = rest.cut(size);
                    f(front);
                    rest = back;
                    at += size;
                }
            });
            return;
        }
    }
    let _ = (len, least);
    f(whole);
}

/// Asks the CPU to bring `value`'s cache lines into L1, without waiting:
/// a hint, with no effect on results, that lets a copy of rows scattered
/// over memory overlap the misses of the next rows with the current one.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = (value as *const T).cast::<i8>();
        for offset in (0..core::mem::size_of::<T>()).step_by(64) {
            // SAFETY: a prefetch neither reads into the program nor faults;
            // the address is within `value`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Runs `f`, compiled for AVX-512 where the CPU has it (x86-64 with `std`):
/// an elementwise loop inlined in `f` then works on 16 `f32` at a time.
/// Each lane does the same operations as a scalar loop (Rust does not fuse
/// a multiplication and an addition unless asked), so the bits are the same.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
#[inline(always)]
pub(crate) fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::available() {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { x86::wide(f) };
    }
    f()
}

/// Whether [`gemm`] over `T` runs the AVX-512 kernels on this CPU.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn fast_f32<T: 'static>() -> bool {
    core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() && x86::available()
}

/// A product `c ← f(a, b)` on part of the matrices; the last argument is
/// the row of the whole `c` where this part starts.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
type Product<'f> = dyn Fn(Mat<'_, f32>, Mat<'_, f32>, x86::Out<'_>, usize) + Sync + 'f;

/// Products of at least twice this many multiply-adds are split between
/// threads, each piece keeping at least this many.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const SPLIT: usize = 1 << 18;

/// The same for a matrix-vector product (one sample through a dense layer),
/// which is bound by reading the matrix: split, each core reads its own rows
/// from its own cache.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const SPLIT_VECTOR: usize = 1 << 15;

/// Products of fewer multiply-adds than this (about 25–50 µs on one core)
/// leave a sleeping helper asleep and run alone: waking it costs the caller
/// a system call, up to 10 µs (see `pool::run`). One sample through a
/// 784 × 128 layer (10⁵) runs alone after a pause; a training step's
/// products, and batches of inference, wake the helper.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const WAKE: usize = 1 << 22;

/// A dense layer's forward product over fewer samples than this is cut by
/// rows (each core computes the outputs of its own rows of weights, which
/// then stay in its cache from step to step, through the weight gradient
/// and the optimizer step cut the same way); over more, by samples.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const ROWS_BELOW: usize = 256;

/// One piece of a product: the matrices `f` reads, the block of `c` it
/// writes, and the row of the whole `c` where that block starts.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
type Piece<'a> = (Mat<'a, f32>, Mat<'a, f32>, x86::Out<'a>, usize);

/// Runs `f` on one piece of the product per idle core, as long as each
/// piece keeps at least [`SPLIT`] multiply-adds, cutting `c` into blocks of
/// rows or of columns. Every element is computed by one call of `f` in the
/// same way whatever the cut, so the result does not depend on the number
/// of threads.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn split(f: &Product<'_>, a: Mat<'_, f32>, b: Mat<'_, f32>, c: x86::Out<'_>) {
    let work = c.rows.saturating_mul(c.cols).saturating_mul(a.cols);
    let least = if c.cols == 1 { SPLIT_VECTOR } else { SPLIT };
    if work < 2 * least {
        return f(a, b, c, 0);
    }
    let parts = pool::threads().min(work / least).min(pool::MAX_PARTS);
    let mut pieces: [Option<Piece<'_>>; pool::MAX_PARTS] = core::array::from_fn(|_| None);
    let count = cut(parts, a, b, c, &mut pieces);
    for (a, b, c, _) in pieces[..count].iter().flatten() {
        // The kernels trust these bounds: check them as `gemm` did the whole.
        assert!(
            fits(a.data.len(), a.rows, a.cols, a.rs, a.cs)
                && fits(b.data.len(), b.rows, b.cols, b.rs, b.cs)
                && c.fits(),
            "gemm: a piece of a shared product reaches past its slice"
        );
    }
    pool::run_each(pieces, count, work >= WAKE, &|(a, b, c, row)| f(a, b, c, row));
}

/// Cuts the product into `parts` pieces of nearly equal size: by rows of
/// `c` if it is row-major, a single column, or a dense layer's forward
/// product over fewer than [`ROWS_BELOW`] samples (row-major `a`); by
/// columns otherwise; a single column gives the caller a larger piece
/// ([`caller_rows`]). Returns the number of pieces.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn cut<'a>(
    parts: usize,
    a: Mat<'a, f32>,
    b: Mat<'a, f32>,
    c: x86::Out<'a>,
    pieces: &mut [Option<Piece<'a>>],
) -> usize {
    let parts = parts.min(pieces.len());
    let by_rows = c.cs == 1 || c.cols == 1 || (a.cs == 1 && c.cols < ROWS_BELOW);
    if by_rows && c.rows >= parts && parts > 1 {
        let first = if c.cols == 1 { caller_rows(c.rows, parts) } else { c.rows / parts };
        cut_rows(parts, first, a, b, c, |k, row, a, b, c| pieces[k] = Some((a, b, c, row)));
        parts
    } else if c.cols >= parts && parts > 1 {
        // The columns of `c` are the rows of `cᵀ = bᵀ aᵀ`.
        cut_rows(parts, c.cols / parts, b.t(), a.t(), c.t(), |k, _, bt, at, ct| {
            pieces[k] = Some((at.t(), bt.t(), ct.t(), 0));
        });
        parts
    } else {
        pieces[0] = Some((a, b, c, 0));
        1
    }
}

/// The rows of a matrix-vector product of `rows` rows shared by `parts`
/// threads that the caller computes (piece 0): more than an even share,
/// as a helper starts later (it learns of its piece through a cache line
/// that must cross between cores, then reads the piece from the caller's
/// stack) and its result crosses back; on the Xeon measured its rows also
/// took 12–17 % longer, alone or not, for no reason found. A multiple of 4,
/// the kernel's tile, and at most all but one row per helper. One sample
/// through 784-128-10 (`bench infer`, 5 alternating runs): 3.01–3.18 µs
/// with even shares, 2.79–2.90 with 72 rows of 128 here, 2.86–2.90 with
/// 76, 2.91–3.01 with 80.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn caller_rows(rows: usize, parts: usize) -> usize {
    let weighted = rows * CALLER_WEIGHT / (CALLER_WEIGHT + HELPER_WEIGHT * (parts - 1));
    (weighted / 4 * 4).clamp(rows / parts, rows - (parts - 1))
}

/// The caller's and each helper's weights in [`caller_rows`]: 72 and 56 of
/// 128 rows on two threads.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const CALLER_WEIGHT: usize = 9;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const HELPER_WEIGHT: usize = 7;

/// Cuts `c = a·b` into `parts` blocks of rows, the first `first` rows long
/// and the others of nearly equal size, each with its rows of `a`, and
/// hands piece `k`, starting at row `row`, to `put(k, row, …)`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn cut_rows<'a>(
    parts: usize,
    first: usize,
    mut a: Mat<'a, f32>,
    b: Mat<'a, f32>,
    mut c: x86::Out<'a>,
    mut put: impl FnMut(usize, usize, Mat<'a, f32>, Mat<'a, f32>, x86::Out<'a>),
) {
    let mut row = 0;
    for k in 0..parts {
        let rows = if k == 0 { first } else { c.rows / (parts - k) };
        let (front, back) = c.split_rows(rows);
        let cut = (rows * a.rs).min(a.data.len());
        put(k, row, Mat { rows, ..a }, b, front);
        row += rows;
        a = Mat { data: &a.data[cut..], rows: a.rows - rows, ..a };
        c = back;
    }
}

#[cfg(not(feature = "alloc"))]
fn kernel<T: Float>(alpha: T, a: Mat<'_, T>, b: Mat<'_, T>, beta: T, c: MatMut<'_, T>) {
    portable(alpha, a, b, beta, c);
}

/// The same product with plain loops: `c[i, j] ← α Σₚ a[i, p] b[p, j] + β c[i, j]`.
#[cfg_attr(feature = "alloc", allow(dead_code))]
fn portable<T: Float>(alpha: T, a: Mat<'_, T>, b: Mat<'_, T>, beta: T, c: MatMut<'_, T>) {
    for j in 0..c.cols {
        for i in 0..c.rows {
            let mut sum = T::zero();
            for p in 0..a.cols {
                sum += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
            }
            let out = &mut c.data[i * c.rs + j * c.cs];
            *out = if beta == T::zero() { alpha * sum } else { alpha * sum + beta * *out };
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    /// `a·b` by the definition, for column-major inputs.
    fn reference(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> alloc::vec::Vec<f64> {
        let mut c = alloc::vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                c[i + j * m] = (0..k).map(|p| a[i + p * m] * b[p + j * k]).sum();
            }
        }
        c
    }

    fn values(len: usize, seed: u64) -> alloc::vec::Vec<f64> {
        (0..len).map(|i| crate::rng::uniform(seed, i as u64) * 2.0 - 1.0).collect()
    }

    #[test]
    fn all_layouts_agree_with_the_definition() {
        for &(m, k, n) in &[(1, 1, 1), (3, 2, 4), (7, 9, 6), (33, 65, 17)] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let want = reference(&a, &b, m, k, n);
            // Transposed copies, to read row-major.
            let at: alloc::vec::Vec<f64> = (0..m * k).map(|x| a[(x % k) * m + x / k]).collect();
            let bt: alloc::vec::Vec<f64> = (0..k * n).map(|x| b[(x % n) * k + x / n]).collect();
            for (a_view, b_view) in [
                (Mat::col_major(&a, m, k), Mat::col_major(&b, k, n)),
                (Mat::row_major(&at, m, k), Mat::row_major(&bt, k, n)),
                (Mat::col_major(&at, k, m).t(), Mat::col_major(&bt, n, k).t()),
            ] {
                let mut c = alloc::vec![f64::NAN; m * n];
                gemm(1.0, a_view, b_view, 0.0, MatMut::col_major(&mut c, m, n));
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "{m}×{k}×{n}: {x} vs {y}");
                }
                let mut r = alloc::vec![1.0; m * n];
                gemm(2.0, a_view, b_view, 1.0, MatMut::row_major(&mut r, m, n));
                for i in 0..m {
                    for j in 0..n {
                        let (x, y) = (r[i * n + j], 2.0 * want[i + j * m] + 1.0);
                        assert!((x - y).abs() < 1e-12, "{m}×{k}×{n} row-major: {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn portable_matches_the_fast_path() {
        let (m, k, n) = (9, 13, 11);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let mut fast = alloc::vec![0.5; m * n];
        let mut slow = fast.clone();
        gemm(
            0.5,
            Mat::col_major(&a, m, k),
            Mat::col_major(&b, k, n),
            2.0,
            MatMut::col_major(&mut fast, m, n),
        );
        portable(
            0.5,
            Mat::col_major(&a, m, k),
            Mat::col_major(&b, k, n),
            2.0,
            MatMut::col_major(&mut slow, m, n),
        );
        for (x, y) in fast.iter().zip(&slow) {
            assert!((x - y).abs() < 1e-12);
        }
        let a32: alloc::vec::Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let b32: alloc::vec::Vec<f32> = b.iter().map(|&v| v as f32).collect();
        let mut c32 = alloc::vec![0.0f32; m * n];
        gemm(
            1.0,
            Mat::col_major(&a32, m, k),
            Mat::col_major(&b32, k, n),
            0.0,
            MatMut::col_major(&mut c32, m, n),
        );
        let want = reference(&a, &b, m, k, n);
        for (x, y) in c32.iter().zip(&want) {
            assert!((f64::from(*x) - y).abs() < 1e-5);
        }
    }

    /// The bias added by the kernel gives the bits of writing it into `c`
    /// and adding the product: in the dot-product layout of a dense layer
    /// (shared between the cores when large, with odd row counts so that
    /// the cores' rows start anywhere), in other layouts, and in `f64`.
    #[test]
    fn gemm_bias_equals_bias_then_product() {
        fn check<T: Float>(m: usize, k: usize, n: usize, seed: u64) {
            let w: alloc::vec::Vec<T> = values(m * k, seed).iter().map(|&v| T::of_f64(v)).collect();
            let x: alloc::vec::Vec<T> =
                values(k * n, seed + 1).iter().map(|&v| T::of_f64(v)).collect();
            let bias: alloc::vec::Vec<T> =
                values(m, seed + 2).iter().map(|&v| T::of_f64(v)).collect();
            let views = [
                (Mat::row_major(&w, m, k), Mat::col_major(&x, k, n)), // dot
                (Mat::col_major(&w, m, k), Mat::col_major(&x, k, n)), // outer
            ];
            for (a, b) in views {
                let mut want: alloc::vec::Vec<T> = (0..m * n).map(|e| bias[e % m]).collect();
                gemm(T::one(), a, b, T::one(), MatMut::col_major(&mut want, m, n));
                let mut got = alloc::vec![T::of_f64(f64::NAN); m * n];
                gemm_bias(a, b, &bias, MatMut::col_major(&mut got, m, n));
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g.as_f64().to_bits() == w.as_f64().to_bits());
                assert!(same, "{m}×{k}×{n}: gemm_bias differs from bias then gemm");
            }
        }
        for &(m, k, n) in &[(1, 1, 1), (3, 2, 4), (33, 65, 17), (257, 784, 64), (129, 256, 300)] {
            check::<f32>(m, k, n, 7);
        }
        check::<f64>(33, 65, 17, 9);
    }

    /// Samples whose columns are off the cache lines take other tiles (8 × 2
    /// rather than 4 × 6 and 4 × 4, on AVX-512): the same sums, bit for bit.
    #[test]
    fn misaligned_samples_give_the_aligned_bits() {
        for &(m, k, n) in &[(8, 16, 2), (13, 33, 5), (24, 784, 9), (130, 784, 67), (16, 7, 300)] {
            let w: alloc::vec::Vec<f32> = values(m * k, 3).iter().map(|&v| v as f32).collect();
            let x: alloc::vec::Vec<f32> = values(k * n, 4).iter().map(|&v| v as f32).collect();
            let bias: alloc::vec::Vec<f32> = values(m, 5).iter().map(|&v| v as f32).collect();
            let mut room = alloc::vec![0.0f32; k * n + 32];
            let aligned = room.as_ptr().align_offset(64);
            let product = |room: &mut [f32], at: usize, beta: f32, with_bias: bool| {
                room[at..at + k * n].copy_from_slice(&x);
                let (a, b) =
                    (Mat::row_major(&w, m, k), Mat::col_major(&room[at..at + k * n], k, n));
                let mut c: alloc::vec::Vec<f32> = (0..m * n).map(|e| e as f32 * 0.25).collect();
                if with_bias {
                    gemm_bias(a, b, &bias, MatMut::col_major(&mut c, m, n));
                } else {
                    gemm(0.5, a, b, beta, MatMut::col_major(&mut c, m, n));
                }
                c.iter().map(|v| v.to_bits()).collect::<alloc::vec::Vec<_>>()
            };
            for (beta, with_bias) in [(0.0, false), (-1.5, false), (0.0, true)] {
                let want = product(&mut room, aligned, beta, with_bias);
                for shift in [1, 5, 15] {
                    let got = product(&mut room, aligned + shift, beta, with_bias);
                    assert!(
                        got == want,
                        "{m}×{k}×{n}, β {beta}, bias {with_bias}: samples {shift} scalars off a line differ"
                    );
                }
            }
        }
    }

    /// The dot-product layout with its output in any order: every element
    /// has the bits it has in a column-major output (where the kernel stores
    /// whole tiles at once).
    #[test]
    fn dot_products_store_every_layout_alike() {
        for &(m, k, n) in &[(4, 16, 6), (13, 33, 17), (24, 784, 70)] {
            let w: alloc::vec::Vec<f32> = values(m * k, 6).iter().map(|&v| v as f32).collect();
            let x: alloc::vec::Vec<f32> = values(k * n, 7).iter().map(|&v| v as f32).collect();
            let (a, b) = (Mat::row_major(&w, m, k), Mat::col_major(&x, k, n));
            let start: alloc::vec::Vec<f32> = (0..m * n).map(|e| e as f32 * 0.5).collect();
            let mut by_columns = start.clone();
            gemm(1.5, a, b, -0.5, MatMut::col_major(&mut by_columns, m, n));
            // The same starting values, laid out by rows.
            let mut by_rows: alloc::vec::Vec<f32> =
                (0..m * n).map(|e| start[(e % n) * m + e / n]).collect();
            gemm(1.5, a, b, -0.5, MatMut::row_major(&mut by_rows, m, n));
            for i in 0..m {
                for j in 0..n {
                    assert_eq!(
                        by_rows[i * n + j].to_bits(),
                        by_columns[j * m + i].to_bits(),
                        "{m}×{k}×{n}: element ({i}, {j})"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "one bias per row")]
    fn gemm_bias_needs_a_bias_per_row() {
        let a = [1.0f32; 6];
        let mut c = [0.0f32; 4];
        gemm_bias(
            Mat::row_major(&a, 2, 3),
            Mat::col_major(&a, 3, 2),
            &[1.0],
            MatMut::col_major(&mut c, 2, 2),
        );
    }

    #[test]
    #[should_panic(expected = "reaches past its slice")]
    fn out_of_bounds_views_are_refused() {
        let a = [1.0f64; 5];
        let mut c = [0.0f64; 4];
        gemm(
            1.0,
            Mat::col_major(&a, 2, 3),
            Mat::col_major(&a, 3, 2),
            0.0,
            MatMut::col_major(&mut c, 2, 2),
        );
    }

    #[test]
    #[should_panic(expected = "overlapping")]
    fn overlapping_outputs_are_refused() {
        let a = [1.0f64; 4];
        let mut c = [0.0f64; 4];
        let c = MatMut { data: &mut c, rows: 2, cols: 2, rs: 1, cs: 1 };
        gemm(1.0, Mat::col_major(&a, 2, 2), Mat::col_major(&a, 2, 2), 0.0, c);
    }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod split_tests {
    use super::*;
    use alloc::vec::Vec;

    fn values(len: usize, seed: u64) -> Vec<f32> {
        (0..len).map(|i| (crate::rng::uniform(seed, i as u64) * 2.0 - 1.0) as f32).collect()
    }

    /// The 4 × 4 tile's sums, reduced together, have the bits of each
    /// accumulator reduced alone, as in the tiles of other sizes: values
    /// spread over many orders of magnitude make any other order show.
    #[test]
    fn tile_sums_are_the_lanes_sums() {
        use core::arch::x86_64::*;
        if !x86::available() {
            return;
        }
        for seed in 0..200 {
            let v = values(256, seed);
            let lane = |t: usize| v[t] * 2f32.powi(((t * 7919 + seed as usize) % 41) as i32 - 20);
            let acc: [[[f32; 16]; 4]; 4] = core::array::from_fn(|ii| {
                core::array::from_fn(|jj| core::array::from_fn(|l| lane((ii * 4 + jj) * 16 + l)))
            });
            // SAFETY: the CPU has AVX-512F.
            let (tile, alone) = unsafe {
                let vectors = acc.map(|row| row.map(|lanes| _mm512_loadu_ps(lanes.as_ptr())));
                let mut tile = [0f32; 16];
                _mm512_storeu_ps(tile.as_mut_ptr(), x86::reduce_tile(&vectors));
                (tile, vectors.map(|row| row.map(|x| _mm512_reduce_add_ps(x))))
            };
            for ii in 0..4 {
                for jj in 0..4 {
                    assert_eq!(
                        tile[jj * 4 + ii].to_bits(),
                        alone[ii][jj].to_bits(),
                        "seed {seed}, ({ii}, {jj})"
                    );
                }
            }
        }
    }

    /// Shared between the cores or not, every layout gives the same bits.
    #[test]
    fn split_products_equal_whole_ones() {
        if !x86::available() {
            return;
        }
        // 300 samples are cut by columns, 32 (a training batch) by rows of
        // a column-major `c`, whose blocks then interleave in memory.
        for (m, k, n) in [(256, 784, 300), (256, 784, 32), (130, 200, 33)] {
            whole_and_split(m, k, n);
        }
    }

    fn whole_and_split(m: usize, k: usize, n: usize) {
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let cases: [(Mat<'_, f32>, Mat<'_, f32>, bool); 3] = [
            (Mat::col_major(&a, m, k), Mat::col_major(&b, k, n), false),
            (Mat::row_major(&a, m, k), Mat::col_major(&b, k, n), false),
            (Mat::col_major(&a, m, k), Mat::row_major(&b, k, n), true),
        ];
        for (x, y, row_major) in cases {
            fn out(c: &mut [f32], m: usize, n: usize, row_major: bool) -> MatMut<'_, f32> {
                if row_major { MatMut::row_major(c, m, n) } else { MatMut::col_major(c, m, n) }
            }
            let mut whole = alloc::vec![0.5f32; m * n];
            let cw = out(&mut whole, m, n, row_major);
            let layout = x86::layout(&x, &y, cw.rs, cw.cs).unwrap();
            x86::run(layout, 1.0, x, y, 1.0, cw.into());
            let mut slow = alloc::vec![0.5f32; m * n];
            portable(1.0, x, y, 1.0, out(&mut slow, m, n, row_major));
            for (i, (p, q)) in whole.iter().zip(&slow).enumerate() {
                assert!((p - q).abs() < 1e-3, "{layout:?} at {i}: {p} vs {q} by the definition");
            }
            for _ in 0..20 {
                let mut split = alloc::vec![0.5f32; m * n];
                gemm(1.0, x, y, 1.0, out(&mut split, m, n, row_major));
                for (i, (p, q)) in whole.iter().zip(&split).enumerate() {
                    assert_eq!(
                        p.to_bits(),
                        q.to_bits(),
                        "{layout:?} at {i}: {p} whole, {q} shared"
                    );
                }
            }
        }
    }

    /// The outer-product kernel over more rows of `B` than one panel holds
    /// (three blocks, the last partial), with `B` read by columns, by rows
    /// and with neither stride 1: the definition's values, `C` not read
    /// when `β = 0` (it holds NaN), and `β` applied once.
    #[test]
    fn outer_products_over_several_panels() {
        if !x86::available() {
            return;
        }
        let (m, k, n) = (45, 2 * 256 + 37, 14);
        let a = values(m * k, 11);
        // Room for a `B` with strides 2 and 2k.
        let b = values(2 * k * n, 12);
        let views = [
            Mat::col_major(&b[..k * n], k, n),
            Mat::row_major(&b[..k * n], k, n),
            Mat { data: &b, rows: k, cols: n, rs: 2, cs: 2 * k },
        ];
        for y in views {
            let x = Mat::col_major(&a, m, k);
            let at = |i: usize, j: usize| -> f64 {
                (0..k)
                    .map(|p| f64::from(a[i + p * m]) * f64::from(y.data[p * y.rs + j * y.cs]))
                    .sum()
            };
            for (alpha, beta, start) in [(1.0f32, 0.0f32, f32::NAN), (0.5, 2.0, 1.0)] {
                let mut c = alloc::vec![start; m * n];
                let layout = x86::layout(&x, &y, 1, m).unwrap();
                assert_eq!(layout, x86::Layout::Outer);
                x86::run(layout, alpha, x, y, beta, MatMut::col_major(&mut c, m, n).into());
                for i in 0..m {
                    for j in 0..n {
                        let want = f64::from(alpha) * at(i, j)
                            + if beta == 0.0 { 0.0 } else { f64::from(beta * start) };
                        let got = f64::from(c[i + j * m]);
                        assert!(
                            (got - want).abs() < 1e-4,
                            "strides ({}, {}), β = {beta}, ({i}, {j}): {got} vs {want}",
                            y.rs,
                            y.cs
                        );
                    }
                }
            }
        }
    }

    /// The outer-product kernel over no rows of `B` still scales `C` by `β`:
    /// zeros where `β = 0` (over NaN), `β C` otherwise.
    #[test]
    fn outer_products_over_nothing_scale_c() {
        if !x86::available() {
            return;
        }
        let (m, n) = (40, 13);
        let (a, b) = (Vec::<f32>::new(), Vec::<f32>::new());
        for (beta, start, want) in [(0.0f32, f32::NAN, 0.0f32), (2.0, 1.5, 3.0)] {
            let mut c = alloc::vec![start; m * n];
            let (x, y) = (Mat::col_major(&a, m, 0), Mat::col_major(&b, 0, n));
            assert_eq!(x86::layout(&x, &y, 1, m), Some(x86::Layout::Outer));
            x86::run(x86::Layout::Outer, 1.0, x, y, beta, MatMut::col_major(&mut c, m, n).into());
            assert!(c.iter().all(|&v| v == want), "β = {beta}: {c:?}");
        }
    }

    #[test]
    fn the_caller_takes_more_rows_of_a_matrix_vector_product() {
        assert_eq!(caller_rows(128, 2), 72);
        assert_eq!(caller_rows(256, 2), 144);
        for parts in 2..=pool::MAX_PARTS {
            for rows in parts..300 {
                let first = caller_rows(rows, parts);
                // At least an even share, and a row left for every helper.
                assert!(first >= rows / parts, "{rows} rows, {parts} parts: {first}");
                assert!(rows - first >= parts - 1, "{rows} rows, {parts} parts: {first}");
                // Whole tiles, unless the clamp decided.
                let clamped = first == rows / parts || first == rows - (parts - 1);
                assert!(first.is_multiple_of(4) || clamped, "{rows} rows, {parts} parts: {first}");
            }
        }
    }

    /// One sample through a dense layer is split by rows; same bits.
    #[test]
    fn split_matrix_vector_products_equal_whole_ones() {
        if !x86::available() {
            return;
        }
        for (m, k) in [(128, 784), (129, 513), (300, 300)] {
            let a = values(m * k, 5);
            let x = values(k, 6);
            let (w, v) = (Mat::row_major(&a, m, k), Mat::col_major(&x, k, 1));
            let mut whole = alloc::vec![0.25f32; m];
            x86::run(x86::Layout::Dot, 1.0, w, v, 1.0, MatMut::col_major(&mut whole, m, 1).into());
            for _ in 0..50 {
                let mut split = alloc::vec![0.25f32; m];
                gemm(1.0, w, v, 1.0, MatMut::col_major(&mut split, m, 1));
                let same = whole.iter().zip(&split).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{m}×{k}: {whole:?} whole, {split:?} shared");
            }
        }
    }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod piece_tests {
    use super::*;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Every item reaches `f` once, in calls that never cross a multiple
    /// of [`BLOCK`] of the whole, whether or not the work is shared.
    #[test]
    fn every_item_once_in_blocks() {
        for len in [0, 1, 7, 2 * BLOCK, 3 * BLOCK + 5, 10 * BLOCK + 1] {
            let mut items: Vec<usize> = (0..len).collect();
            let base = items.as_ptr() as usize;
            let calls = Mutex::new(Vec::new());
            for_each_piece(1, items.as_mut_slice(), &|piece: &mut [usize]| {
                let first = (piece.as_ptr() as usize - base) / size_of::<usize>();
                calls.lock().unwrap().push((first, piece.len()));
                for item in piece {
                    *item += len;
                }
            });
            let expected: Vec<usize> = (len..2 * len).collect();
            assert_eq!(items, expected, "{len} items: each once");
            let mut calls = calls.into_inner().unwrap();
            calls.sort_unstable();
            // Contiguous calls, none crossing a block end, and no more of
            // them than blocks plus one per cut between the cores.
            let mut next = 0;
            for &(first, n) in calls.iter().filter(|&&(_, n)| n > 0) {
                assert_eq!(first, next, "{len} items: {calls:?}");
                assert_eq!(first / BLOCK, (first + n - 1) / BLOCK, "{len} items: {calls:?}");
                next = first + n;
            }
            assert_eq!(next, len);
            assert!(calls.len() < len.div_ceil(BLOCK).max(1) + threads(), "{len} items: {calls:?}");
        }
    }
}
