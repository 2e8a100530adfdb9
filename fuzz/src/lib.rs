//! The bodies of the fuzz targets, shared by the libFuzzer binaries
//! (`fuzz_targets/`), their replaying twins (built with
//! `--no-default-features`) and the seed generator (`examples/seeds.rs`).
//!
//! Each target feeds untrusted bytes to one reader of the runtime and checks
//! what must hold of any result: a typed error with a message, or a value
//! consistent with the bytes. A panic, a hang or an allocation the input
//! does not justify is a finding.

use std::fs;
use std::path::{Path, PathBuf};

use perceptra::data::{idx, mnist};
use perceptra::prelude::*;
use perceptra::weights;
use perceptra::{Float, StepLr};

network! {
    /// The network weight files and checkpoints are loaded into.
    pub struct Mlp<f32> {
        input: 4,
        Dense(3), ReLU,
        Dense(2),
    }
}

network! {
    /// A convolutional network, for tensors of four dimensions, in `f64`.
    pub struct Cnn<f64> {
        input: [1, 4, 4],
        Conv2d(2, kernel = 3), ReLU,
        Flatten, Dense(2),
    }
}

/// The path shown in MNIST errors.
const PATH: &str = "fuzz-input";

/// `idx::parse`, `parse_header` and `expected_len` agree with each other and
/// with the length of the bytes.
pub fn idx(data: &[u8]) {
    let expected = idx::expected_len(data);
    let header = idx::parse_header(data);
    match idx::parse(data) {
        Ok(file) => {
            assert_eq!(expected, Ok(Some(data.len())));
            assert_eq!(header.ok().flatten().as_ref(), Some(file.header()));
            assert_eq!(file.data().len(), file.len() * file.dtype().size());
            let product = file.dims().iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            assert!(file.is_empty() || product == Some(file.len()));
            assert_eq!(file.header().total_len(), data.len());
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if let Ok(Some(n)) = expected {
                assert_ne!(n, data.len());
            }
        }
    }
}

/// `mnist::parse_images` gives one image per count in the header, pixels in
/// `[0, 1]`.
pub fn mnist_images(data: &[u8]) {
    match mnist::parse_images::<f32>(data, Path::new(PATH)) {
        Ok(images) => {
            let file = idx::parse(data).expect("accepted images are IDX");
            assert_eq!(file.dims(), [images.len(), 28, 28]);
            assert!(images.iter().flat_map(|i| i.iter()).all(|p| (0.0..=1.0).contains(p)));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `mnist::parse_labels` gives one label per byte, each a digit.
pub fn mnist_labels(data: &[u8]) {
    match mnist::parse_labels(data, Path::new(PATH)) {
        Ok(labels) => {
            let file = idx::parse(data).expect("accepted labels are IDX");
            assert_eq!(file.dims(), [labels.len()]);
            assert!(labels.iter().all(|&l| l < 10));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// The bounded reader of gzipped IDX files, with the real limit: what it
/// returns is a whole IDX file, and it allocates only as the decompressed
/// data arrives (libFuzzer's `-malloc_limit_mb` catches any allocation a
/// header decides alone).
pub fn gzip_idx(data: &[u8]) {
    match mnist::read_idx_gzip(data, mnist::MAX_FILE_BYTES) {
        Ok(bytes) => {
            let file = idx::parse(&bytes).expect("what the reader returns is IDX");
            assert_eq!(file.header().total_len(), bytes.len());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `weights::from_bytes` into two networks: on success the parameters are
/// those of the file (saving them and loading the result gives them back),
/// on error they are unchanged.
pub fn weights(data: &[u8]) {
    fn same<T: Float>(a: &[T], b: &[T]) -> bool {
        let bits = |x: T| x.as_f64().to_bits();
        a.iter()
            .zip(b)
            .all(|(&x, &y)| bits(x) == bits(y) || (x.as_f64().is_nan() && y.as_f64().is_nan()))
    }
    fn load<N: NetworkMut>(mut net: N, data: &[u8]) {
        let before = net.params().to_vec();
        match weights::from_bytes(&mut net, data) {
            Ok(()) => {
                let loaded = net.params().to_vec();
                let saved = weights::to_bytes(&net);
                net.params_mut().fill(N::Scalar::of_f64(0.0));
                weights::from_bytes(&mut net, &saved).expect("a saved file loads");
                assert!(same(&loaded, net.params()), "saving and loading changed the parameters");
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert!(same(&before, net.params()), "a failed load changed the parameters: {e}");
            }
        }
    }
    load(Mlp::from_params([0.5f32; Mlp::PARAMS]), data);
    load(Cnn::from_params([0.5f64; Cnn::PARAMS]), data);
}

/// The trainer every checkpoint seed was written with, and the fuzzer
/// resumes with: Adam, a step schedule and early stopping, two epochs in all.
pub fn trainer() -> Trainer<CrossEntropy, Adam<f32>> {
    Trainer::new(CrossEntropy, Adam::with_lr(0.01).expect("valid rate"))
        .epochs(2)
        .batch_size(2)
        .progress(Progress::Silent)
        .schedule(StepLr::new(1, 0.5).expect("valid schedule"))
        .early_stopping(EarlyStopping {
            monitor: Metric::TrainLoss,
            patience: 2,
            ..EarlyStopping::default()
        })
}

/// Four samples of two classes.
pub fn dataset() -> Dataset<SVector<f32, 4>, usize> {
    let inputs = vec![
        SVector::from([1.0, 0.0, 0.0, 0.5]),
        SVector::from([0.0, 1.0, 0.5, 0.0]),
        SVector::from([0.9, 0.1, 0.0, 0.4]),
        SVector::from([0.1, 0.8, 0.6, 0.0]),
    ];
    Dataset::new(inputs, vec![0, 1, 0, 1]).expect("as many inputs as targets")
}

/// `Trainer::resume` from a checkpoint holding `data` (written to a file, the
/// only form resume takes): an error or a finished run, never a panic.
pub fn checkpoint(data: &[u8]) {
    let path = scratch_file("checkpoint.safetensors");
    fs::write(&path, data).expect("write the scratch file");
    let mut net = Mlp::from_params(Box::new([0.5f32; Mlp::PARAMS]));
    match trainer().resume(&mut net, &path, &dataset(), None) {
        Ok(history) => assert!(history.epochs.len() <= 2 + data.len()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A file of this process in the temporary directory.
fn scratch_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("perceptra-fuzz-{}-{name}", std::process::id()))
}

/// Every file named by `paths`, and every file in the directories among them.
pub fn inputs(paths: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path);
        }
    }
    files
}

/// Runs `target` on every file named on the command line (directories are
/// read file by file): the targets without libFuzzer.
pub fn replay_args(target: fn(&[u8])) {
    let files = inputs(std::env::args_os().skip(1).map(PathBuf::from));
    for file in &files {
        let data = fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        eprintln!("{}", file.display());
        target(&data);
    }
    println!("{} inputs replayed", files.len());
}
