//! Convolutional networks declared with `network!`: PyTorch's values for a
//! small CNN end to end, whole-network gradient checks, and the shapes,
//! summary and weight files of a LeNet.

use std::path::Path;

use perceptra::gradcheck::{assert_agree, check_network};
use perceptra::prelude::*;

network! {
    /// `nn.Sequential(Conv2d(1, 4, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 3))`.
    struct Small<f64> {
        input: [1, 8, 8],
        Conv2d(4, kernel = 3, padding = 1), ReLU, MaxPool2d(2),
        Flatten, Dense(64 => 3),
    }
}

network! {
    /// Every image layer, strides and padding, in f64 for gradient checks.
    struct Mixed<f64> {
        input: [2, 7, 6],
        Conv2d(3, kernel = 3, stride = 2, padding = 1), Tanh,
        AvgPool2d(2, stride = 1),
        Conv2d(3 => 2, kernel = 2), Sigmoid, Dropout(0.2),
        MaxPool2d(1),
        Flatten, Dense(3), Softplus, Dense(2),
    }
}

network! {
    /// LeNet-5 with ReLU and max pooling.
    struct LeNet<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
        Conv2d(16, kernel = 5), ReLU, MaxPool2d(2),
        Flatten,
        Dense(120), ReLU,
        Dense(84), ReLU,
        Dense(10),
    }
}

fn fixture() -> Option<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/conv.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    Some(serde_json::from_str(&text).expect("valid JSON"))
}

/// A nested JSON array, flattened row-major (PyTorch's layout and ours).
fn flat(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn assert_close(found: &[f64], expected: &[f64], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}: lengths");
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        let err = (f - e).abs() / e.abs().max(1.0);
        assert!(err < 1e-10, "{what}[{i}]: {f} against PyTorch's {e}");
    }
}

#[test]
fn small_cnn_matches_pytorch_end_to_end() {
    let Some(all) = fixture() else { return };
    let case = &all["cases"]["cnn_end_to_end"];
    let mut net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    for t in Small::LAYERS.iter().flat_map(|l| l.tensors) {
        let values = flat(&case["state_dict"][t.name]);
        net.params_mut()[t.offset..t.offset + t.len].copy_from_slice(&values);
    }
    let x = flat(&case["x"]);
    let inputs: Vec<SVector<f64, 64>> = x.chunks(64).map(SVector::from_column_slice).collect();
    let targets: Vec<usize> = case["targets_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as usize)
        .collect();

    let logits: Vec<f64> =
        inputs.iter().flat_map(|x| net.forward(x).iter().copied().collect::<Vec<_>>()).collect();
    assert_close(&logits, &flat(&case["logits"]), "logits");

    let mut grads = net.zero_grads();
    let loss = net.backprop(&inputs, &targets, &CrossEntropy, &mut grads);
    assert_close(&[loss], &[case["loss"].as_f64().unwrap()], "loss");
    for t in Small::LAYERS.iter().flat_map(|l| l.tensors) {
        assert_close(
            &grads.as_slice()[t.offset..t.offset + t.len],
            &flat(&case["grads"][t.name]),
            t.name,
        );
    }
}

#[test]
fn image_networks_pass_gradient_checks() {
    let mut net = Mixed::new(&mut ChaCha8Rng::seed_from_u64(3));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    use perceptra::rand::RngExt;
    let inputs: Vec<SVector<f64, 84>> =
        (0..3).map(|_| SVector::from_fn(|_, _| rng.random::<f64>() * 2.0 - 1.0)).collect();
    let targets = [0usize, 1, 1];
    let checks = check_network(&mut net, &inputs, &targets, &CrossEntropy);
    assert_agree("Mixed with cross-entropy", &checks, 1e-6, 1e-9);
}

#[test]
fn lenet_shapes_summary_and_forward() {
    assert_eq!(LeNet::INPUT, 784);
    assert_eq!(
        LeNet::PARAMS,
        (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    );
    let shapes: Vec<&[usize]> = LeNet::LAYERS.iter().map(|l| l.output).collect();
    assert_eq!(shapes[2], [6, 14, 14]);
    assert_eq!(shapes[5], [16, 5, 5]);
    assert_eq!(shapes[6], [400]);
    let names: Vec<(&str, &[usize])> =
        LeNet::LAYERS.iter().flat_map(|l| l.tensors).map(|t| (t.name, t.shape)).collect();
    assert_eq!(names[0], ("0.weight", &[6, 1, 5, 5][..]));
    assert_eq!(names[2], ("3.weight", &[16, 6, 5, 5][..]));
    assert_eq!(names[4], ("7.weight", &[120, 400][..]));

    let net = LeNet::new(&mut ChaCha8Rng::seed_from_u64(0));
    let summary = net.summary().to_string();
    assert!(summary.contains("Conv2d(1 => 6, kernel = 5, padding = 2)"), "{summary}");
    assert!(summary.contains("[16, 5, 5]"), "{summary}");
    assert!(summary.contains("   Input"), "{summary}");
    assert!(summary.contains("[1, 28, 28]"), "{summary}");

    // One sample and a batch agree.
    let x: Vec<SVector<f32, 784>> =
        (0..5).map(|i| SVector::from_fn(|j, _| ((i * 784 + j) % 17) as f32 / 17.0)).collect();
    let batch = net.forward_batch(&x);
    for (x, b) in x.iter().zip(&batch) {
        assert!((net.forward(x) - b).amax() < 1e-5);
    }
}

#[test]
fn lenet_weights_round_trip() {
    let net = LeNet::new(&mut ChaCha8Rng::seed_from_u64(5));
    let bytes = perceptra::weights::to_bytes(&net);
    let mut back = LeNet::new(&mut ChaCha8Rng::seed_from_u64(6));
    perceptra::weights::from_bytes(&mut back, &bytes).unwrap();
    assert_eq!(back.params(), net.params());
}
