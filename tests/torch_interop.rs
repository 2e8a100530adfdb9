//! Weight files move between PyTorch and perceptra: a `state_dict` saved with
//! `safetensors.torch.save_file` loads into the matching `network!` and gives
//! PyTorch's outputs, and a file perceptra saves loads into PyTorch with
//! `strict=True` and gives ours. `scripts/torch_interop.py` made the files in
//! `tests/data`; the shared fixtures come from `../shared/fixtures`.

use std::path::{Path, PathBuf};

use perceptra::prelude::*;
use perceptra::weights::{self, WeightsErrorKind};

network! {
    /// `nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 8), Tanh(), Linear(8, 3))`.
    struct SharedMlp<f32> { input: 4, Dense(8), ReLU, Dense(8), Tanh, Dense(3) }
}

network! {
    /// The network of `scripts/torch_interop.py`, in f64 and f32.
    struct Mlp64<f64> { input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax }
    struct Mlp32<f32> { input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture readable"))
        .expect("valid JSON")
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|x| x.as_f64().expect("number")).collect())
        .collect()
}

fn assert_close(found: f64, expected: f64, tol: f64, what: &str) {
    let err = (found - expected).abs() / expected.abs().max(1.0);
    assert!(err <= tol, "{what}: found {found}, PyTorch gives {expected} (error {err:e})");
}

#[test]
fn shared_fixture_state_dict_loads_and_matches_pytorch() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    if !dir.join("mlp_torch.safetensors").exists() {
        eprintln!("skipping: {} not found", dir.display());
        return;
    }
    let mut net = SharedMlp::new(&mut ChaCha8Rng::seed_from_u64(0));
    net.load_weights(dir.join("mlp_torch.safetensors")).unwrap();
    let fixture = json(&dir.join("mlp_torch.json"));
    for (x, y) in rows(&fixture["inputs"]).iter().zip(rows(&fixture["outputs"])) {
        let x = SVector::<f32, 4>::from_iterator(x.iter().map(|&v| v as f32));
        let out = net.forward(&x);
        for (i, (&o, &e)) in out.iter().zip(&y).enumerate() {
            assert_close(f64::from(o), e, 1e-5, &format!("output {i}"));
        }
    }
}

#[test]
fn pytorch_state_dict_loads_in_f64_and_f32() {
    let fixture = json(&data("torch_mlp.json"));
    let mut net64 = Mlp64::new(&mut ChaCha8Rng::seed_from_u64(0));
    net64.load_weights(data("torch_mlp.safetensors")).unwrap();
    // F64 tensors into an f32 network: converted, as load_state_dict does.
    let mut net32 = Mlp32::new(&mut ChaCha8Rng::seed_from_u64(0));
    net32.load_weights(data("torch_mlp.safetensors")).unwrap();
    for (x, y) in rows(&fixture["inputs"]).iter().zip(rows(&fixture["outputs"])) {
        let out64 = net64.forward(&SVector::from_column_slice(x));
        let out32 = net32.forward(&SVector::from_iterator(x.iter().map(|&v| v as f32)));
        for i in 0..4 {
            assert_close(out64[i], y[i], 1e-12, "f64 output");
            assert_close(f64::from(out32[i]), y[i], 1e-5, "f32 output");
        }
    }
}

/// The file perceptra writes for a seeded `Mlp64`, and PyTorch's outputs for
/// it (`python scripts/torch_interop.py check tests/data/perceptra_mlp.safetensors`).
/// `PERCEPTRA_BLESS=1` rewrites the file; then rerun the script.
#[test]
fn perceptra_weights_load_into_pytorch() {
    let net = Mlp64::new(&mut ChaCha8Rng::seed_from_u64(42));
    let path = data("perceptra_mlp.safetensors");
    if std::env::var_os("PERCEPTRA_BLESS").is_some() {
        net.save_weights(&path).unwrap();
    }
    // What we write now is what PyTorch read.
    let mut reread = Mlp64::new(&mut ChaCha8Rng::seed_from_u64(0));
    reread.load_weights(&path).unwrap();
    assert_eq!(reread.params(), net.params(), "the checked-in file is not what perceptra writes");

    let torch = json(&data("perceptra_mlp.torch.json"));
    for (x, y) in rows(&torch["inputs"]).iter().zip(rows(&torch["outputs"])) {
        let out = net.forward(&SVector::from_column_slice(x));
        for i in 0..4 {
            assert_close(out[i], y[i], 1e-12, "output");
        }
    }
}

#[test]
fn saved_files_carry_pytorch_names_and_shapes() {
    let net = Mlp32::new(&mut ChaCha8Rng::seed_from_u64(1));
    let bytes = weights::to_bytes(&net);
    let names: Vec<&str> = Mlp32::LAYERS.iter().flat_map(|l| l.tensors).map(|t| t.name).collect();
    assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"]);
    let shapes: Vec<&[usize]> =
        Mlp32::LAYERS.iter().flat_map(|l| l.tensors).map(|t| t.shape).collect();
    assert_eq!(shapes, [&[16, 6][..], &[16], &[16, 16], &[16], &[4, 16], &[4]]);
    let mut back = Mlp32::new(&mut ChaCha8Rng::seed_from_u64(2));
    weights::from_bytes(&mut back, &bytes).unwrap();
    assert_eq!(back.params(), net.params());
}

#[test]
fn mismatched_files_name_the_tensor_and_both_shapes() {
    // The shared fixture's `2.weight` is [8, 8]; this network expects [5, 8].
    network! {
        struct Other<f32> { input: 4, Dense(8), ReLU, Dense(5), Tanh, Dense(3) }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    let file = dir.join("mlp_torch.safetensors");
    if !file.exists() {
        eprintln!("skipping: {} not found", file.display());
        return;
    }
    let mut net = Other::new(&mut ChaCha8Rng::seed_from_u64(0));
    let before = net.params().to_vec();
    let err = net.load_weights(&file).unwrap_err();
    assert!(matches!(err.kind(), WeightsErrorKind::Shape { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("tensor `2.weight` has shape [8, 8], but the network expects [5, 8]"),
        "{err}"
    );
    assert_eq!(net.params(), before, "a failed load changes nothing");
}
