//! Writes the seed corpora, `corpus/<target>/`: small valid files and a few
//! broken ones for each target. Run from `fuzz/`:
//!
//! ```sh
//! cargo run --no-default-features --example seeds
//! ```
//!
//! The files are committed; this program documents how they were made and
//! remakes them after a format change.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use perceptra::prelude::*;
use perceptra::weights;
use perceptra_fuzz::{Cnn, Mlp, dataset, trainer};

/// An IDX file: magic number, dimensions, data.
fn idx(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, code, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("write to memory");
    encoder.finish().expect("write to memory")
}

/// `n` images of 28 × 28, pixel `p` of image `i` being `(7i + p) % 256`.
fn images(n: u32) -> Vec<u8> {
    let data: Vec<u8> = (0..n as usize * 784).map(|k| ((k / 784) * 7 + k % 784) as u8).collect();
    idx(0x08, &[n, 28, 28], &data)
}

fn labels(values: &[u8]) -> Vec<u8> {
    idx(0x08, &[values.len() as u32], values)
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    write_to("corpus", target, name, bytes);
}

/// An input that once crashed (or would have crashed) a target: replayed by
/// `runtime/tests/hostile.rs`, and a seed for the fuzzer too.
fn regression(target: &str, name: &str, bytes: &[u8]) {
    write_to("regressions", target, name, bytes);
}

fn write_to(dir: &str, target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    fs::create_dir_all(&dir).expect("create the directory");
    fs::write(dir.join(name), bytes).expect("write a file");
}

/// `bytes`, a safetensors file, with metadata `key` set to `value`.
fn with_metadata(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
    let tensors = safetensors::SafeTensors::deserialize(bytes).expect("a valid file");
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes).expect("a valid file");
    let mut metadata = meta.metadata().clone().unwrap_or_default();
    metadata.insert(key.to_owned(), value.to_owned());
    safetensors::serialize(tensors.tensors(), Some(metadata)).expect("serialises")
}

/// A safetensors file by hand: a JSON header and raw data.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn main() {
    // IDX: every type, one to four dimensions, an empty file, and broken ones.
    let tiny: Vec<u8> = (0..24).collect();
    write("idx", "u8-2x3x4", &idx(0x08, &[2, 3, 4], &tiny));
    write("idx", "i8-3", &idx(0x09, &[3], &[1, 255, 7]));
    write("idx", "i16-2", &idx(0x0B, &[2], &[0, 1, 255, 254]));
    write("idx", "i32-1x2", &idx(0x0C, &[1, 2], &[0, 0, 0, 1, 128, 0, 0, 0]));
    let f32s: Vec<u8> = [1.5f32, -0.25].iter().flat_map(|v| v.to_be_bytes()).collect();
    write("idx", "f32-2", &idx(0x0D, &[2], &f32s));
    write("idx", "f64-1x1x1x1", &idx(0x0E, &[1, 1, 1, 1], &2.5f64.to_be_bytes()));
    write("idx", "empty-zero-dim", &idx(0x0E, &[u32::MAX, 0], &[]));
    write("idx", "broken-truncated", &idx(0x08, &[2, 3, 4], &tiny[..10]));
    write("idx", "broken-huge-claim", &idx(0x08, &[60000, 28, 28], &[0; 12]));
    write("idx", "broken-overflow", &idx(0x0E, &[u32::MAX; 3], &[]));
    write("idx", "broken-gzip-magic", &gzip(&idx(0x08, &[1], &[1])));

    // MNIST images and labels, and each other's files.
    write("mnist_images", "one", &images(1));
    write("mnist_images", "two", &images(2));
    write("mnist_images", "none", &images(0));
    write("mnist_images", "broken-labels", &labels(&[1, 2, 3]));
    write("mnist_images", "broken-32x32", &idx(0x08, &[1, 32, 32], &[9; 1024]));
    write("mnist_images", "broken-f32", &idx(0x0D, &[1, 28, 28], &[0; 3136]));
    write("mnist_images", "broken-short", &images(2)[..1000]);
    write("mnist_labels", "digits", &labels(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    write("mnist_labels", "none", &labels(&[]));
    write("mnist_labels", "broken-ten", &labels(&[3, 10, 1]));
    write("mnist_labels", "broken-images", &images(1));
    write("mnist_labels", "broken-2d", &idx(0x08, &[1, 1], &[0]));

    // Gzipped IDX: whole files, concatenated members, a small bomb, and
    // streams that are cut short or go on.
    let raw = labels(&[7, 0, 9]);
    write("gzip_idx", "labels", &gzip(&raw));
    write("gzip_idx", "images", &gzip(&images(1)));
    let (a, b) = raw.split_at(5);
    write("gzip_idx", "two-members", &[gzip(a), gzip(b)].concat());
    let mut bomb = images(1);
    bomb.extend(vec![0u8; 1 << 20]);
    write("gzip_idx", "broken-bomb", &gzip(&bomb));
    let gz = gzip(&images(1));
    write("gzip_idx", "broken-truncated", &gz[..gz.len() / 2]);
    write("gzip_idx", "broken-no-trailer", &gz[..gz.len() - 8]);
    write("gzip_idx", "broken-garbage-after", &[gzip(&raw), b"garbage".to_vec()].concat());
    write("gzip_idx", "broken-huge-claim", &gzip(&idx(0x08, &[1_000_000_000], &[1, 2, 3])));
    write("gzip_idx", "broken-raw", &raw);

    // Weight files: each network's own, one in the other precision, and
    // broken ones.
    let rng = &mut ChaCha8Rng::seed_from_u64(7);
    let mlp = Mlp::new(rng);
    let cnn = Cnn::new(rng);
    let mlp_bytes = weights::to_bytes(&mlp);
    write("weights", "mlp", &mlp_bytes);
    write("weights", "cnn", &weights::to_bytes(&cnn));
    network! { struct Mlp64<f64> { input: 4, Dense(3), ReLU, Dense(2) } }
    write("weights", "mlp-f64", &weights::to_bytes(&Mlp64::new(rng)));
    write("weights", "broken-truncated", &mlp_bytes[..mlp_bytes.len() - 3]);
    write("weights", "broken-header-only", &mlp_bytes[..40]);
    let huge = r#"{"0.weight":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}"#;
    write("weights", "broken-overflowing-shape", &safetensors(huge, &[]));
    let offsets =
        r#"{"0.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,18446744073709551615]}}"#;
    write("weights", "broken-huge-offset", &safetensors(offsets, &[0; 48]));
    let bf16 = r#"{"0.weight":{"dtype":"BF16","shape":[3,4],"data_offsets":[0,24]}}"#;
    write("weights", "broken-bf16", &safetensors(bf16, &[0; 24]));

    // Checkpoints of the fuzzer's own run: after one epoch of two (resuming
    // trains one more), after both, and broken ones.
    let dir = std::env::temp_dir().join(format!("perceptra-seeds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let mut net = Mlp::new(&mut ChaCha8Rng::seed_from_u64(3));
    let checkpoints = Checkpoints::new(&dir).every(1);
    trainer().checkpoints(checkpoints.clone()).fit(&mut net, &dataset(), None).expect("trains");
    let first = fs::read(checkpoints.epoch_path(1)).expect("epoch 1 was saved");
    write("checkpoint", "epoch-1", &first);
    write("checkpoint", "epoch-2", &fs::read(checkpoints.epoch_path(2)).expect("saved"));
    write("checkpoint", "weights-only", &mlp_bytes);
    write("checkpoint", "broken-truncated", &first[..first.len() / 2]);

    // Found by reading the code, then by `runtime/tests/hostile.rs`: the
    // safetensors crate adds the end of the last tensor to the header's
    // length unchecked (8 tensors of 2⁶¹ − 1 bytes end at 2⁶⁴ − 8), and
    // counts in a checkpoint overflowed as training resumed.
    let size = (1u64 << 61) - 1;
    let tensors: Vec<String> = (0..8)
        .map(|i| {
            let (start, end) = (i * size, (i + 1) * size);
            format!(r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{start},{end}]}}"#)
        })
        .collect();
    let header = format!("{{{}}}", tensors.join(","));
    regression("weights", "offsets-overflow-header-length", &safetensors(&header, &[]));
    let stop = |wait: &str| {
        format!(r#"{{"best":0.5,"best_epoch":1,"wait":{wait},"best_checkpoint":null}}"#)
    };
    for (name, key, value) in [
        ("steps-u64-max", "perceptra.optimizer.steps", "18446744073709551615".to_owned()),
        ("epoch-usize-max", "perceptra.epoch", "18446744073709551615".to_owned()),
        ("wait-usize-max", "perceptra.early_stopping", stop("18446744073709551615")),
        ("lr-nan", "perceptra.lr", "NaN".to_owned()),
        ("lr-negative", "perceptra.lr", "-1.0".to_owned()),
    ] {
        regression("checkpoint", name, &with_metadata(&first, key, &value));
    }
    let _ = fs::remove_dir_all(&dir);
    println!("seeds written to {}/corpus", env!("CARGO_MANIFEST_DIR"));
}
