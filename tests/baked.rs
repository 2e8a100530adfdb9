//! Weights baked in at compile time (`weights: "file.safetensors"`): the
//! network lives in a `static`, gives the outputs of the same weights loaded
//! at run time, and an MNIST-size file compiles.

use perceptra::prelude::*;

network! {
    /// The PyTorch model of `scripts/torch_interop.py`, baked from its file.
    struct Torch64<f64> {
        input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax,
        weights: "tests/data/torch_mlp.safetensors",
    }

    /// The same file (F64 tensors) baked into an f32 network: rounded to nearest.
    struct Torch32<f32> {
        input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax,
        weights: "tests/data/torch_mlp.safetensors",
    }

    /// The MNIST perceptron the firmware carries: 101,770 parameters.
    struct Mnist<f32> {
        input: 784, Dense(128), ReLU, Dense(10),
        weights: "firmware/mnist.safetensors",
        flash: 400KiB,
        ram: 4KiB,
    }
}

/// A model with baked weights can live in a `static`.
static MNIST: Mnist<&'static [f32; Mnist::PARAMS]> = Mnist::baked();

fn json(path: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn baked_weights_give_pytorch_outputs() {
    let fixture = json("tests/data/torch_mlp.json");
    let (net64, net32) = (Torch64::baked(), Torch32::baked());
    let rows = |v: &serde_json::Value| -> Vec<Vec<f64>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
            .collect()
    };
    for (x, y) in rows(&fixture["inputs"]).iter().zip(rows(&fixture["outputs"])) {
        let out64 = net64.forward(&SVector::from_column_slice(x));
        let out32 = net32.forward(&SVector::from_iterator(x.iter().map(|&v| v as f32)));
        for i in 0..4 {
            assert!((out64[i] - y[i]).abs() < 1e-12, "{} vs {}", out64[i], y[i]);
            assert!((f64::from(out32[i]) - y[i]).abs() < 1e-5, "{} vs {}", out32[i], y[i]);
        }
    }
}

#[test]
fn baked_equals_loaded() {
    let mut loaded = Mnist::new(&mut ChaCha8Rng::seed_from_u64(0));
    loaded
        .load_weights(concat!(env!("CARGO_MANIFEST_DIR"), "/firmware/mnist.safetensors"))
        .unwrap();
    assert_eq!(MNIST.params(), loaded.params());
    let x = SVector::<f32, 784>::from_fn(|i, _| (i % 29) as f32 / 29.0);
    assert_eq!(MNIST.forward(&x), loaded.forward(&x));
    // The parameters are the static's, not a copy.
    assert!(std::ptr::eq(MNIST.params().as_ptr(), Mnist::baked().params().as_ptr()));
}

#[test]
fn summary_reports_memory() {
    let s = MNIST.summary();
    assert_eq!(s.param_bytes(), 101_770 * 4);
    // Peak: the 784 inputs beside the 128 hidden values.
    assert_eq!(s.peak_activation_bytes(), (784 + 128) * 4);
    assert!(
        s.to_string().contains("Peak activations per inference: 912 values (3,648 bytes)"),
        "{s}"
    );
}
