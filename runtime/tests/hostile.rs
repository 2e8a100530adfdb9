//! Hostile files through the runtime's readers: IDX, MNIST, gzip streams and
//! safetensors weights, truncated, mutated, lying about their sizes or
//! decompressing to far more than they claim. Every case ends in a typed
//! error or a value consistent with the bytes; none panics, and none
//! allocates more than the data that actually arrived justifies (a counting
//! allocator watches the largest single allocation).
//!
//! The inputs the fuzzers found are kept in `fuzz/regressions/<target>/` and
//! replayed here (see `fuzz/README.md`).

#![cfg(feature = "std")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use perceptra_runtime::data::idx::{self, Dtype, IdxError};
use perceptra_runtime::data::mnist::{self, MnistError};
use perceptra_runtime::nalgebra::SVector;
use perceptra_runtime::rand::Rng;
use perceptra_runtime::rand::SeedableRng;
use perceptra_runtime::rand_chacha::ChaCha8Rng;
use perceptra_runtime::weights::{self, WeightsErrorKind};
use perceptra_runtime::{
    Adam, Checkpoints, CrossEntropy, Dataset, Dense, EarlyStopping, FitError, Float as _, Layer,
    LayerInfo, Metric, Mode, Network, NetworkMut, Progress, Relu, Saved, StepLr, TensorInfo,
    Trainer,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// The largest allocation a piece of code makes, per thread.

/// Records the largest allocation of the current thread (tests run in
/// parallel, each on its own thread).
struct Watching;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn saw(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is forwarded to `System` unchanged; the record is a
// const-initialised thread-local without a destructor, which never allocates.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        saw(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        saw(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        saw(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Watching = Watching;

/// The value of `f` and the largest allocation it made.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let value = f();
    (value, LARGEST.with(Cell::get))
}

#[test]
fn the_watch_sees_allocations() {
    let (_, largest) = largest_allocation(|| std::hint::black_box(vec![0u8; 12_345]));
    assert_eq!(largest, 12_345);
}

// ---------------------------------------------------------------------------
// IDX and MNIST.

/// An IDX file: magic number, dimensions, data.
fn idx_file(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// A valid IDX file of any type with one to four small dimensions.
fn valid_idx() -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(Dtype::ALL.to_vec()), prop::collection::vec(0u32..5, 1..=4), any::<u64>())
        .prop_map(|(dtype, dims, seed)| {
            let len = dims.iter().product::<u32>() as usize * dtype.size();
            let data: Vec<u8> =
                (0..len as u64).map(|i| (seed.wrapping_mul(i + 1) >> 13) as u8).collect();
            idx_file(dtype.code(), &dims, &data)
        })
}

/// What holds of `idx::parse` on any bytes.
fn check_idx(bytes: &[u8]) -> Result<(), TestCaseError> {
    let expected = idx::expected_len(bytes);
    match idx::parse(bytes) {
        Ok(file) => {
            prop_assert_eq!(expected, Ok(Some(bytes.len())));
            prop_assert_eq!(file.data().len(), file.len() * file.dtype().size());
            prop_assert_eq!(file.header().total_len(), bytes.len());
            let product = file.dims().iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            prop_assert!(file.is_empty() || product == Some(file.len()));
        }
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            if let Ok(Some(n)) = expected {
                prop_assert_ne!(n, bytes.len());
            }
        }
    }
    Ok(())
}

/// A byte-level edit: (position, new value), positions taken modulo the length.
fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)
}

fn flipped(bytes: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() {
        for &(at, value) in edits {
            let n = out.len();
            out[at % n] = value;
        }
    }
    out
}

/// MNIST images: `n` of them, pixels in a pattern.
fn images(n: u32) -> Vec<u8> {
    let data: Vec<u8> = (0..n as usize * 784).map(|k| ((k / 784) * 7 + k % 784) as u8).collect();
    idx_file(0x08, &[n, 28, 28], &data)
}

fn labels(values: &[u8]) -> Vec<u8> {
    idx_file(0x08, &[values.len() as u32], values)
}

fn check_images(bytes: &[u8]) -> Result<(), TestCaseError> {
    match mnist::parse_images::<f32>(bytes, Path::new("images")) {
        Ok(images) => {
            let file = idx::parse(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(file.dims(), [images.len(), 28, 28]);
            prop_assert!(images.iter().flat_map(|i| i.iter()).all(|p| (0.0..=1.0).contains(p)));
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

fn check_labels(bytes: &[u8]) -> Result<(), TestCaseError> {
    match mnist::parse_labels(bytes, Path::new("labels")) {
        Ok(labels) => {
            let file = idx::parse(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(file.dims(), [labels.len()]);
            prop_assert!(labels.iter().all(|&l| l < 10));
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

/// `cases` per property, or `PROPTEST_CASES` of them for a longer search.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn idx_files_truncated_anywhere(file in valid_idx(), cut in any::<usize>()) {
        check_idx(&file)?;
        prop_assert!(idx::parse(&file).is_ok());
        let cut = cut % file.len();
        check_idx(&file[..cut])?;
        prop_assert!(idx::parse(&file[..cut]).is_err());
    }

    #[test]
    fn idx_files_mutated(file in valid_idx(), edits in flips(), extra in prop::collection::vec(any::<u8>(), 0..4)) {
        let mut bytes = flipped(&file, &edits);
        check_idx(&bytes)?;
        bytes.extend_from_slice(&extra);
        check_idx(&bytes)?;
    }

    #[test]
    fn idx_headers_claiming_anything(
        code in any::<u8>(),
        dims in prop::collection::vec(any::<u32>(), 0..6),
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let bytes = idx_file(code, &dims, &data);
        let (result, largest) = largest_allocation(|| check_idx(&bytes));
        result?;
        // The parser borrows: whatever the header claims, it allocates
        // nothing beyond its error message.
        prop_assert!(largest < 4096, "allocated {largest} bytes");
        if let (Ok(Some(h)), 1..=4) = (idx::parse_header(&bytes), dims.len()) {
            prop_assert_eq!(h.dims(), dims.iter().map(|&d| d as usize).collect::<Vec<_>>());
        }
    }

    #[test]
    fn mnist_files_mutated(n in 0u32..3, values in prop::collection::vec(0u8..12, 0..20), edits in flips(), cut in any::<usize>()) {
        for file in [images(n), labels(&values)] {
            for bytes in [flipped(&file, &edits), file[..cut % (file.len() + 1)].to_vec()] {
                check_images(&bytes)?;
                check_labels(&bytes)?;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Gzipped IDX: the bounded stream reader.

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// One gzip member of 1 MiB of zeros (about 1 KiB compressed).
fn mebibyte_of_zeros() -> Vec<u8> {
    gzip(&vec![0u8; 1 << 20])
}

/// A reader that counts the bytes it yields.
struct Counting<R> {
    inner: R,
    count: usize,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n;
        Ok(n)
    }
}

/// What holds of the gzip reader on any bytes, and the largest allocation.
fn check_gzip(compressed: &[u8], limit: usize) -> Result<usize, TestCaseError> {
    let (result, largest) = largest_allocation(|| mnist::read_idx_gzip(compressed, limit));
    match result {
        Ok(bytes) => {
            let file = idx::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(file.header().total_len(), bytes.len());
            prop_assert!(bytes.len() <= limit);
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(largest)
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn gzip_streams_mutated(
        values in prop::collection::vec(0u8..10, 0..300),
        edits in flips(),
        cut in any::<usize>(),
    ) {
        let gz = gzip(&labels(&values));
        check_gzip(&gz, mnist::MAX_FILE_BYTES)?;
        check_gzip(&flipped(&gz, &edits), mnist::MAX_FILE_BYTES)?;
        check_gzip(&gz[..cut % gz.len()], mnist::MAX_FILE_BYTES)?;
        // The limit is on the claim: a file of exactly the limit passes.
        let total = 8 + values.len();
        prop_assert!(mnist::read_idx_gzip(&gz[..], total).is_ok());
        let too_large = matches!(
            mnist::read_idx_gzip(&gz[..], total - 1),
            Err(MnistError::TooLarge { .. })
        );
        prop_assert!(too_large);
    }

    #[test]
    fn gzip_of_random_bytes(data in prop::collection::vec(any::<u8>(), 0..200)) {
        check_gzip(&gzip(&data), mnist::MAX_FILE_BYTES)?;
        check_gzip(&data, mnist::MAX_FILE_BYTES)?;
    }

    /// A gzip bomb: a header claiming `claim` values, then far more data
    /// than that. Reading stops one byte past the claim: the error is
    /// `TrailingData`, the compressed bytes read do not grow with the bomb,
    /// and neither does the memory.
    #[test]
    fn gzip_bombs_stop_one_byte_past_the_claim(claim in 0u32..100_000, mebibytes in 256usize..4096) {
        let zeros = mebibyte_of_zeros();
        let mut bomb = gzip(&labels(&vec![3; claim as usize]));
        for _ in 0..mebibytes {
            bomb.extend_from_slice(&zeros);
        }
        let mut reader = Counting { inner: &bomb[..], count: 0 };
        let (result, largest) =
            largest_allocation(|| mnist::read_idx_gzip(&mut reader, mnist::MAX_FILE_BYTES));
        let trailing = matches!(result, Err(MnistError::TrailingData { .. }));
        prop_assert!(trailing, "{:?}", result.map(|b| b.len()));
        // The decoder reads ahead in 32 KiB blocks: a few of them at most,
        // whatever the size of the bomb (here 256 KiB to 4 MiB compressed,
        // 256 MiB to 4 GiB decompressed).
        prop_assert!(reader.count < 128 << 10, "read {} of {} bytes", reader.count, bomb.len());
        // The buffer holds the claim and one byte, grown by doubling from
        // 64 KiB.
        prop_assert!(largest <= 2 * (claim as usize + 9) + (64 << 10), "allocated {largest}");
    }

    /// A header that claims a lot (up to the real limit of 1 GiB) over a
    /// stream that ends early: memory follows the data, not the claim.
    #[test]
    fn gzip_claims_without_data_allocate_for_the_data(
        claim in 1_000_000u32..(1 << 30) - 8,
        got in 0usize..5000,
    ) {
        let mut file = labels(&[]);
        file[4..8].copy_from_slice(&claim.to_be_bytes());
        file.extend(vec![1u8; got]);
        let gz = gzip(&file);
        let (result, largest) = largest_allocation(|| mnist::read_idx_gzip(&gz[..], mnist::MAX_FILE_BYTES));
        let short = matches!(
            result,
            Err(MnistError::Idx { source: IdxError::LengthMismatch { .. }, .. })
        );
        prop_assert!(short);
        prop_assert!(largest < 1 << 20, "allocated {largest} for {got} bytes of data");
    }
}

/// A header claiming more than the limit is refused before any data is read.
#[test]
fn gzip_claims_over_the_limit_are_refused_unread() {
    let mut file = labels(&[]);
    file[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut bomb = gzip(&file);
    for _ in 0..8 {
        bomb.extend_from_slice(&mebibyte_of_zeros());
    }
    let mut reader = Counting { inner: &bomb[..], count: 0 };
    let err = mnist::read_idx_gzip(&mut reader, mnist::MAX_FILE_BYTES).unwrap_err();
    assert!(matches!(err, MnistError::TooLarge { .. }), "{err:?}");
    assert!(reader.count < 64 << 10, "read {} compressed bytes", reader.count);
}

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = std::process::id();
        let dir = std::env::temp_dir().join(format!("perceptra-hostile-{id}-{name}-{n}"));
        fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, bytes).expect("write a temporary file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Raw files are checked against their length on disk before reading; a
/// header never decides an allocation.
#[test]
fn raw_files_that_lie_allocate_nothing_large() {
    let dir = TempDir::new("raw");
    for (claim, data) in [(1_000_000_000u32, 3usize), (1 << 30, 0), (u32::MAX, 10), (900, 899)] {
        let mut file = labels(&[]);
        file[4..8].copy_from_slice(&claim.to_be_bytes());
        file.extend(vec![1u8; data]);
        let path = dir.write("lie", &file);
        let (result, largest) = largest_allocation(|| mnist::read_idx_file(&path));
        assert!(result.is_err(), "{claim} {data}");
        assert!(largest < 64 << 10, "{claim} {data}: allocated {largest}");
    }
}

// ---------------------------------------------------------------------------
// Safetensors weights.

/// The fuzz targets' `Mlp` (`input: 4, Dense(3), ReLU, Dense(2)`, `f32`),
/// written out by hand: the runtime's tests cannot use `network!`. The same
/// name and tensors, so that the fuzzers' weight files and checkpoints load.
struct Mlp {
    params: [f32; 23],
}

const MLP_LAYERS: &[LayerInfo] = &[
    LayerInfo {
        index: 0,
        kind: "Dense",
        label: "Dense(4 => 3)",
        output: &[3],
        params: 15,
        tensors: &[
            TensorInfo { name: "0.weight", shape: &[3, 4], offset: 0, len: 12 },
            TensorInfo { name: "0.bias", shape: &[3], offset: 12, len: 3 },
        ],
    },
    LayerInfo { index: 1, kind: "ReLU", label: "ReLU", output: &[3], params: 0, tensors: &[] },
    LayerInfo {
        index: 2,
        kind: "Dense",
        label: "Dense(3 => 2)",
        output: &[2],
        params: 8,
        tensors: &[
            TensorInfo { name: "2.weight", shape: &[2, 3], offset: 15, len: 6 },
            TensorInfo { name: "2.bias", shape: &[2], offset: 21, len: 2 },
        ],
    },
];

impl Network for Mlp {
    type Scalar = f32;
    type Input = SVector<f32, 4>;
    type Output = SVector<f32, 2>;

    const NAME: &'static str = "Mlp";
    const INPUT: usize = 4;
    const INPUT_SHAPE: &'static [usize] = &[4];
    const OUTPUT: usize = 2;
    const PARAMS: usize = 23;
    const ACTIVATIONS: usize = 8;
    const WIDEST: usize = 3;
    const SCRATCH: usize = {
        let (a, b) = (<Dense as Layer<f32, 4, 3>>::SCRATCH, <Dense as Layer<f32, 3, 2>>::SCRATCH);
        let c = <Relu as Layer<f32, 3, 3>>::SCRATCH;
        let ab = if a > b { a } else { b };
        if ab > c { ab } else { c }
    };
    const PEAK_ACTIVATIONS: usize = 7;
    const LAYERS: &'static [LayerInfo] = MLP_LAYERS;

    fn params(&self) -> &[f32] {
        &self.params
    }

    fn init_params<R: Rng + ?Sized>(params: &mut [f32], rng: &mut R) {
        Layer::<f32, 4, 3>::init(&Dense, &mut params[0..15], rng);
        Layer::<f32, 3, 2>::init(&Dense, &mut params[15..23], rng);
    }

    fn forward(&self, x: &SVector<f32, 4>) -> SVector<f32, 2> {
        let p = &self.params;
        let h = Layer::<f32, 4, 3>::forward(&Dense, &p[0..15], x);
        let h = Layer::<f32, 3, 3>::forward(&Relu, &[], &h);
        Layer::<f32, 3, 2>::forward(&Dense, &p[15..23], &h)
    }

    fn forward_slices(&self, x: &[f32], acts: &mut [f32], mode: Mode) {
        let (p, n) = (&self.params, x.len() / 4);
        let (a0, rest) = acts.split_at_mut(3 * n);
        let (a1, rest) = rest.split_at_mut(3 * n);
        let (a2, scratch) = rest.split_at_mut(2 * n);
        Layer::<f32, 4, 3>::forward_batch(&Dense, &p[0..15], x, a0, scratch, mode.layer(0));
        Layer::<f32, 3, 3>::forward_batch(&Relu, &[], a0, a1, scratch, mode.layer(1));
        Layer::<f32, 3, 2>::forward_batch(&Dense, &p[15..23], a1, a2, scratch, mode.layer(2));
    }

    fn backward_slices(
        &self,
        x: &[f32],
        acts: &[f32],
        scratch: &mut [f32],
        grads: &mut [f32],
        dx: Option<&mut [f32]>,
        mode: Mode,
    ) {
        let (p, n) = (&self.params, x.len() / 4);
        let (a0, rest) = acts.split_at(3 * n);
        let (a1, rest) = rest.split_at(3 * n);
        let a2 = &rest[..2 * n];
        let (d0, scratch) = scratch.split_at_mut(3 * n);
        let (d1, scratch) = scratch.split_at_mut(3 * n);
        let saved = Saved { x: a1, y: a2, mode: mode.layer(2) };
        let (g0, g2) = grads.split_at_mut(15);
        Layer::<f32, 3, 2>::backward_batch(
            &Dense,
            &p[15..23],
            saved,
            &d0[..2 * n],
            Some(&mut d1[..3 * n]),
            g2,
            scratch,
        );
        let saved = Saved { x: a0, y: a1, mode: mode.layer(1) };
        Layer::<f32, 3, 3>::backward_batch(
            &Relu,
            &[],
            saved,
            &d1[..3 * n],
            Some(&mut d0[..3 * n]),
            &mut [],
            scratch,
        );
        let saved = Saved { x, y: a0, mode: mode.layer(0) };
        Layer::<f32, 4, 3>::backward_batch(&Dense, &p[0..15], saved, &d0[..3 * n], dx, g0, scratch);
    }
}

impl NetworkMut for Mlp {
    fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
}

/// The fuzz targets' `Cnn` (`input: [1, 4, 4], Conv2d(2, kernel = 3), ReLU,
/// Flatten, Dense(2)`, `f64`), for loading only: its tensors have four
/// dimensions.
struct Cnn {
    params: [f64; 38],
}

const CNN_LAYERS: &[LayerInfo] = &[
    LayerInfo {
        index: 0,
        kind: "Conv2d",
        label: "Conv2d(1 => 2, kernel = 3)",
        output: &[2, 2, 2],
        params: 20,
        tensors: &[
            TensorInfo { name: "0.weight", shape: &[2, 1, 3, 3], offset: 0, len: 18 },
            TensorInfo { name: "0.bias", shape: &[2], offset: 18, len: 2 },
        ],
    },
    LayerInfo {
        index: 1,
        kind: "ReLU",
        label: "ReLU",
        output: &[2, 2, 2],
        params: 0,
        tensors: &[],
    },
    LayerInfo {
        index: 2,
        kind: "Flatten",
        label: "Flatten",
        output: &[8],
        params: 0,
        tensors: &[],
    },
    LayerInfo {
        index: 3,
        kind: "Dense",
        label: "Dense(8 => 2)",
        output: &[2],
        params: 18,
        tensors: &[
            TensorInfo { name: "3.weight", shape: &[2, 8], offset: 20, len: 16 },
            TensorInfo { name: "3.bias", shape: &[2], offset: 36, len: 2 },
        ],
    },
];

impl Network for Cnn {
    type Scalar = f64;
    type Input = SVector<f64, 16>;
    type Output = SVector<f64, 2>;

    const NAME: &'static str = "Cnn";
    const INPUT: usize = 16;
    const INPUT_SHAPE: &'static [usize] = &[1, 4, 4];
    const OUTPUT: usize = 2;
    const PARAMS: usize = 38;
    const ACTIVATIONS: usize = 26;
    const WIDEST: usize = 8;
    const SCRATCH: usize = 0;
    const PEAK_ACTIVATIONS: usize = 24;
    const LAYERS: &'static [LayerInfo] = CNN_LAYERS;

    fn params(&self) -> &[f64] {
        &self.params
    }

    fn init_params<R: Rng + ?Sized>(_: &mut [f64], _: &mut R) {
        unreachable!("only loaded")
    }

    fn forward(&self, _: &SVector<f64, 16>) -> SVector<f64, 2> {
        unreachable!("only loaded")
    }

    fn forward_slices(&self, _: &[f64], _: &mut [f64], _: Mode) {
        unreachable!("only loaded")
    }

    fn backward_slices(
        &self,
        _: &[f64],
        _: &[f64],
        _: &mut [f64],
        _: &mut [f64],
        _: Option<&mut [f64]>,
        _: Mode,
    ) {
        unreachable!("only loaded")
    }
}

impl NetworkMut for Cnn {
    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }
}

/// Loads `bytes` into both networks: an error leaves the parameters as they
/// were; a success loads what saving gives back. The largest allocation.
fn check_weights(bytes: &[u8]) -> Result<usize, TestCaseError> {
    fn load<N: NetworkMut>(mut net: N, bytes: &[u8]) -> Result<usize, TestCaseError> {
        let before: Vec<f64> = net.params().iter().map(|p| p.as_f64()).collect();
        let (result, largest) = largest_allocation(|| weights::from_bytes(&mut net, bytes));
        match result {
            Ok(()) => {
                let loaded = net.params().to_vec();
                let saved = weights::to_bytes(&net);
                weights::from_bytes(&mut net, &saved)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let same = loaded.iter().zip(net.params()).all(|(a, b)| {
                    a.as_f64().to_bits() == b.as_f64().to_bits()
                        || (a.as_f64().is_nan() && b.as_f64().is_nan())
                });
                prop_assert!(same);
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                let after: Vec<f64> = net.params().iter().map(|p| p.as_f64()).collect();
                prop_assert_eq!(before, after, "a failed load changed the parameters");
            }
        }
        Ok(largest)
    }
    let a = load(Mlp { params: [0.5; 23] }, bytes)?;
    let b = load(Cnn { params: [0.5; 38] }, bytes)?;
    Ok(a.max(b))
}

/// The weight file of an `Mlp` with these parameters.
fn mlp_file(params: [f32; 23]) -> Vec<u8> {
    weights::to_bytes(&Mlp { params })
}

/// A safetensors file by hand: a JSON header and raw data.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Whether loading `bytes` into an `Mlp` fails as a malformed file, leaving
/// the parameters as they were.
fn format_error(bytes: &[u8]) -> bool {
    let mut net = Mlp { params: [0.0; 23] };
    let result = weights::from_bytes(&mut net, bytes);
    assert!(net.params.iter().all(|&p| p == 0.0));
    result.is_err_and(|e| matches!(e.kind(), WeightsErrorKind::Format(_)))
}

/// A JSON number a hostile header might hold for a size or an offset.
fn hostile_number() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..64,
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(1 << 61),
        Just((1 << 61) - 1),
        Just(1 << 32),
        Just(usize::MAX as u64 / 4),
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn weights_from_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_weights(&bytes)?;
        // The same with a plausible length prefix.
        let mut prefixed = ((bytes.len() as u64).saturating_sub(8)).to_le_bytes().to_vec();
        prefixed.extend_from_slice(&bytes);
        check_weights(&prefixed)?;
    }

    #[test]
    fn weights_with_bytes_flipped(seed in any::<u64>(), edits in flips()) {
        let params: [f32; 23] = std::array::from_fn(|i| (seed.rotate_left(i as u32) as u32) as f32 * 1e-9);
        check_weights(&flipped(&mlp_file(params), &edits))?;
    }

    /// Tensors whose shapes, offsets and types are anything: errors, never
    /// a panic or an allocation the file's size does not justify.
    #[test]
    fn weights_with_hostile_headers(
        entries in prop::collection::vec(
            (
                prop::sample::select(vec!["0.weight", "0.bias", "2.weight", "2.bias", "x", "optimizer.m.0.weight"]),
                prop::sample::select(vec!["F32", "F64", "BF16", "U8", "I64", "BOOL", "F8_E4M3"]),
                prop::collection::vec(hostile_number(), 0..5),
                hostile_number(),
                hostile_number(),
            ),
            0..10,
        ),
        data in 0usize..200,
    ) {
        let fields: Vec<String> = entries
            .iter()
            .map(|(name, dtype, shape, start, end)| {
                let shape: Vec<String> = shape.iter().map(u64::to_string).collect();
                format!(
                    r#""{name}":{{"dtype":"{dtype}","shape":[{}],"data_offsets":[{start},{end}]}}"#,
                    shape.join(",")
                )
            })
            .collect();
        let header = format!("{{{}}}", fields.join(","));
        let largest = check_weights(&safetensors(&header, &vec![0; data]))?;
        prop_assert!(largest < 64 << 10, "allocated {largest}");
    }
}

#[test]
fn weights_truncated_at_every_length() {
    let file = mlp_file(std::array::from_fn(|i| i as f32 / 7.0));
    for n in 0..file.len() {
        check_weights(&file[..n]).unwrap();
        assert!(format_error(&file[..n]), "{n}");
    }
    let mut net = Mlp { params: [0.0; 23] };
    weights::from_bytes(&mut net, &file).unwrap();
    assert_eq!(net.params[22], 22.0 / 7.0);
}

/// Shapes whose product overflows `usize`, and tensors whose sizes fit one by
/// one but whose end overflows when added to the header's length: the
/// safetensors crate adds those without checking (a panic with overflow
/// checks on), so `weights.rs` checks the offsets first.
#[test]
fn weights_with_overflowing_sizes_are_format_errors() {
    let overflowing_product = r#"{"0.weight":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}"#;
    assert!(format_error(&safetensors(overflowing_product, &[])));
    let overflowing_bits =
        r#"{"0.weight":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}"#;
    assert!(format_error(&safetensors(overflowing_bits, &[])));
    // Eight tensors of 2⁶¹ − 1 bytes end at 2⁶⁴ − 8: each size is valid, and
    // the end plus the header's length overflows.
    let size = (1u64 << 61) - 1;
    let tensors: Vec<String> = (0..8)
        .map(|i| {
            format!(
                r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{},{}]}}"#,
                i * size,
                (i + 1) * size
            )
        })
        .collect();
    let header = format!("{{{}}}", tensors.join(","));
    assert!(format_error(&safetensors(&header, &[])));
    // An offset past the end of the file.
    let past =
        r#"{"0.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,18446744073709551615]}}"#;
    assert!(format_error(&safetensors(past, &[0; 48])));
    // A header length of 2⁶⁴ − 1.
    assert!(format_error(&[0xFF; 16]));
}

// ---------------------------------------------------------------------------
// What the fuzzers found, replayed.

/// The files in `fuzz/regressions/<target>/`.
fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target);
    let Ok(entries) = fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// What must hold of a fuzz target's input.
type Check = fn(&[u8]) -> Result<(), TestCaseError>;

#[test]
fn fuzz_regressions_replay() {
    let checks: [(&str, Check); 5] = [
        ("idx", check_idx),
        ("mnist_images", check_images),
        ("mnist_labels", check_labels),
        ("gzip_idx", |b| check_gzip(b, mnist::MAX_FILE_BYTES).map(drop)),
        ("weights", |b| check_weights(b).map(drop)),
    ];
    for (target, check) in checks {
        for (path, bytes) in regressions(target) {
            check(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    for (path, bytes) in regressions("checkpoint") {
        resume_from(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// The fuzzers' trainer: Adam, a step schedule and early stopping.
fn trainer(epochs: usize) -> Trainer<CrossEntropy, Adam<f32>> {
    Trainer::new(CrossEntropy, Adam::with_lr(0.01).expect("a valid rate"))
        .epochs(epochs)
        .batch_size(2)
        .progress(Progress::Silent)
        .schedule(StepLr::new(1, 0.5).expect("a valid schedule"))
        .early_stopping(EarlyStopping {
            monitor: Metric::TrainLoss,
            patience: 2,
            ..EarlyStopping::default()
        })
}

/// The fuzzers' four samples of two classes.
fn dataset() -> Dataset<SVector<f32, 4>, usize> {
    let inputs = vec![
        SVector::from([1.0, 0.0, 0.0, 0.5]),
        SVector::from([0.0, 1.0, 0.5, 0.0]),
        SVector::from([0.9, 0.1, 0.0, 0.4]),
        SVector::from([0.1, 0.8, 0.6, 0.0]),
    ];
    Dataset::new(inputs, vec![0, 1, 0, 1]).expect("as many inputs as targets")
}

/// Resumes the fuzzers' run (two epochs in all) from the checkpoint `bytes`.
fn resume(bytes: &[u8]) -> Result<perceptra_runtime::History, FitError> {
    let dir = TempDir::new("checkpoint");
    let path = dir.write("last.safetensors", bytes);
    trainer(2).resume(&mut Mlp { params: [0.5; 23] }, &path, &dataset(), None)
}

/// The fuzz target `checkpoint`: resuming ends in a finished run or an error
/// with a message.
fn resume_from(bytes: &[u8]) -> Result<(), String> {
    match resume(bytes) {
        Ok(_) => Ok(()),
        Err(e) if !e.to_string().is_empty() => Ok(()),
        Err(e) => Err(format!("an error without a message: {e:?}")),
    }
}

/// The hand-written `Mlp` trains and checkpoints like a declared one, so the
/// checkpoint replays above exercise the real resume path.
#[test]
fn the_hand_written_network_resumes_its_own_checkpoints() {
    let dir = TempDir::new("own");
    let mut net = Mlp { params: [0.0; 23] };
    Mlp::init_params(&mut net.params, &mut ChaCha8Rng::seed_from_u64(5));
    let checkpoints = Checkpoints::new(&dir.0).every(1);
    trainer(1).checkpoints(checkpoints.clone()).fit(&mut net, &dataset(), None).unwrap();
    let bytes = fs::read(checkpoints.epoch_path(1)).unwrap();
    let history = resume(&bytes).unwrap();
    assert_eq!(history.epochs.len(), 2);
}

/// `bytes`, a safetensors file, with metadata `key` set to `value`.
fn with_metadata(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
    let tensors = safetensors::SafeTensors::deserialize(bytes).expect("a valid file");
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes).expect("a valid file");
    let mut metadata = meta.metadata().clone().unwrap_or_default();
    metadata.insert(key.to_owned(), value.to_owned());
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors.tensors();
    safetensors::serialize(views, Some(metadata)).expect("serialises")
}

/// Counts and rates in a checkpoint's metadata that no run writes: each is
/// refused, naming its key, before anything changes. (Each of the counts
/// overflowed while training resumed: `steps += 1` in the optimizer,
/// `epoch + 1` and `wait += 1` in the trainer; the rates were taken as they
/// were, and training went on at a NaN or negative rate.)
#[test]
fn checkpoints_with_corrupt_counts_or_rates_are_refused() {
    let dir = TempDir::new("meta");
    let mut net = Mlp { params: [0.0; 23] };
    Mlp::init_params(&mut net.params, &mut ChaCha8Rng::seed_from_u64(5));
    let checkpoints = Checkpoints::new(&dir.0).every(1);
    trainer(1).checkpoints(checkpoints.clone()).fit(&mut net, &dataset(), None).unwrap();
    let bytes = fs::read(checkpoints.epoch_path(1)).unwrap();
    resume(&bytes).expect("the checkpoint as written resumes");
    let stop = |wait: &str, best_epoch: &str| {
        format!(r#"{{"best":0.5,"best_epoch":{best_epoch},"wait":{wait},"best_checkpoint":null}}"#)
    };
    for (key, value) in [
        ("perceptra.optimizer.steps", "18446744073709551615".to_owned()),
        ("perceptra.optimizer.steps", "9007199254740993".to_owned()),
        ("perceptra.epoch", "18446744073709551615".to_owned()),
        ("perceptra.lr", "NaN".to_owned()),
        ("perceptra.lr", "-1".to_owned()),
        ("perceptra.lr", "inf".to_owned()),
        ("perceptra.early_stopping", stop("18446744073709551615", "0")),
        ("perceptra.early_stopping", stop("0", "18446744073709551615")),
    ] {
        let err = resume(&with_metadata(&bytes, key, &value)).expect_err(&value);
        let msg = err.to_string();
        assert!(matches!(err, FitError::Checkpoint(_)), "{key} = {value}: {err:?}");
        assert!(msg.contains(&format!("metadata `{key}`")), "{key} = {value}: {msg}");
    }
    // At the limit, 2⁵³ steps, the checkpoint resumes.
    resume(&with_metadata(&bytes, "perceptra.optimizer.steps", "9007199254740992")).unwrap();
}
