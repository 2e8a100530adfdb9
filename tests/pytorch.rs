//! Whole networks against values computed by PyTorch in float64
//! (`shared/fixtures/mlp_grads.json`): a 4-5-3 MLP for each activation, its
//! pre-activations, hidden values and outputs, the MSE and cross-entropy
//! losses, and the gradient of each loss with respect to every parameter and
//! to the input. Everything must agree to 1e-9 relatively (1e-12 absolutely,
//! for values near 0).

use perceptra::Mode;
use perceptra::prelude::*;
use serde_json::Value;

network! {
    struct Relu43<f64> { input: 4, Dense(5), ReLU, Dense(3) }
}
network! {
    struct Sigmoid43<f64> { input: 4, Dense(5), Sigmoid, Dense(3) }
}
network! {
    struct Tanh43<f64> { input: 4, Dense(5), Tanh, Dense(3) }
}
network! {
    struct Leaky43<f64> { input: 4, Dense(5), LeakyReLU(0.01), Dense(3) }
}
network! {
    struct Softplus43<f64> { input: 4, Dense(5), Softplus, Dense(3) }
}

const REL: f64 = 1e-9;
const ABS: f64 = 1e-12;

fn fixture() -> Option<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/mlp_grads.json");
    match std::fs::read_to_string(path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("mlp_grads.json is valid JSON")),
        Err(err) => {
            eprintln!("skipping: cannot read {path} ({err})");
            None
        }
    }
}

/// A nested list of numbers, flattened row-major (PyTorch's layout).
fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(x) => vec![x.as_f64().unwrap()],
        other => panic!("expected numbers, found {other}"),
    }
}

#[track_caller]
fn assert_matches(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let err = (a - e).abs();
        assert!(
            err <= REL * e.abs() || err <= ABS,
            "{what}[{i}]: perceptra {a:e}, PyTorch {e:e} (difference {err:e})\n  \
             perceptra {actual:?}\n  PyTorch   {expected:?}"
        );
    }
}

/// Output, losses and gradients of a batch through the slice-level API.
struct Pass {
    acts: Vec<f64>,
    loss: f64,
    grads: Vec<f64>,
    dx: Vec<f64>,
}

fn pass<N, L>(net: &N, x: &[f64], targets: &[L::Target], loss: &L) -> Pass
where
    N: Network<Scalar = f64>,
    L: Loss<N::Output>,
{
    let n = targets.len();
    let mut acts = vec![f64::NAN; N::forward_len(n)];
    net.forward_slices(x, &mut acts, Mode::Eval);
    let mut scratch = vec![f64::NAN; N::backward_len(n)];
    let y = N::outputs(&acts, n);
    let value = loss.loss_grad(y, targets, &mut scratch[..N::OUTPUT * n]);
    let mut grads = vec![0.0; N::PARAMS];
    let mut dx = vec![f64::NAN; x.len()];
    net.backward_slices(x, &acts, &mut scratch, &mut grads, Some(&mut dx), Mode::Eval);
    Pass { acts, loss: value, grads, dx }
}

/// Loads the fixture's parameters into `net` by `state_dict` name, and checks
/// everything the case holds.
fn check_case<N>(mut net: N, name: &str, fixture: &Value)
where
    N: NetworkMut<Scalar = f64, Input = SVector<f64, 4>, Output = SVector<f64, 3>>,
{
    let case = &fixture["cases"][name];
    assert!(case.is_object(), "no case {name} in the fixture");
    let params = &fixture["params"];

    // The parameters, placed by the tensor names and offsets the macro gives.
    assert_eq!(N::PARAMS, 5 * 4 + 5 + 3 * 5 + 3);
    let keys = [("0.weight", "W1"), ("0.bias", "b1"), ("2.weight", "W2"), ("2.bias", "b2")];
    let tensors: Vec<_> = N::LAYERS.iter().flat_map(|l| l.tensors).collect();
    assert_eq!(tensors.len(), keys.len());
    let mut offset = 0;
    for (tensor, (key, fixture_key)) in tensors.iter().zip(keys) {
        assert_eq!(tensor.name, key);
        assert_eq!(tensor.offset, offset, "{key} is not where state_dict order puts it");
        let values = flat(&params[fixture_key]);
        assert_eq!(tensor.len, values.len(), "{key}");
        let shape: Vec<usize> = fixture["shapes"][fixture_key]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(tensor.shape, shape, "{key}");
        net.params_mut()[offset..offset + tensor.len].copy_from_slice(&values);
        offset += tensor.len;
    }
    assert_eq!(offset, N::PARAMS);

    let x = flat(&fixture["x"]);
    let n = x.len() / 4;
    assert_eq!(n, 2);
    let inputs: Vec<SVector<f64, 4>> = x.chunks(4).map(SVector::from_column_slice).collect();
    let targets_mse: Vec<SVector<f64, 3>> =
        flat(&fixture["targets_mse"]).chunks(3).map(SVector::from_column_slice).collect();
    let targets_class: Vec<usize> = fixture["targets_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect();
    let y = flat(&case["y"]);

    // One sample at a time, and the batch through `forward_batch`.
    for (i, input) in inputs.iter().enumerate() {
        let out = net.forward(input);
        assert_matches(&format!("{name}: forward y[{i}]"), out.as_slice(), &y[3 * i..3 * i + 3]);
    }
    let batch: Vec<f64> =
        net.forward_batch(&inputs).iter().flat_map(|v| v.iter().copied()).collect();
    assert_matches(&format!("{name}: forward_batch y"), &batch, &y);

    for (loss_name, expected_loss) in [
        ("mse", case["loss"]["mse"].as_f64().unwrap()),
        ("ce", case["loss"]["ce"].as_f64().unwrap()),
    ] {
        let p = if loss_name == "mse" {
            pass(&net, &x, &targets_mse, &Mse)
        } else {
            pass(&net, &x, &targets_class, &CrossEntropy)
        };
        // Every layer's output: z1, then h, then y (each [width, n], one sample after the other).
        assert_matches(&format!("{name}: z1"), &p.acts[..5 * n], &flat(&case["z1"]));
        assert_matches(&format!("{name}: h"), &p.acts[5 * n..10 * n], &flat(&case["h"]));
        assert_matches(&format!("{name}: y"), &p.acts[10 * n..], &y);
        assert_matches(&format!("{name}: {loss_name} loss"), &[p.loss], &[expected_loss]);

        let grads = &case["grads"][loss_name];
        let expected: Vec<f64> =
            ["W1", "b1", "W2", "b2"].iter().flat_map(|k| flat(&grads[k])).collect();
        assert_matches(&format!("{name}: {loss_name} parameter gradients"), &p.grads, &expected);
        assert_matches(&format!("{name}: {loss_name} input gradient"), &p.dx, &flat(&grads["x"]));

        // The same through `backprop`, the training loop's entry point.
        let mut g = net.zero_grads();
        let value = if loss_name == "mse" {
            net.backprop(&inputs, &targets_mse, &Mse, &mut g)
        } else {
            net.backprop(&inputs, &targets_class, &CrossEntropy, &mut g)
        };
        assert_matches(
            &format!("{name}: {loss_name} loss by backprop"),
            &[value],
            &[expected_loss],
        );
        assert_matches(
            &format!("{name}: {loss_name} gradients by backprop"),
            g.as_slice(),
            &expected,
        );
    }
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0)
}

#[test]
fn relu_matches_pytorch() {
    let Some(f) = fixture() else { return };
    assert_eq!(f["cases"]["relu"]["activation"], "torch.relu");
    check_case(Relu43::new(&mut rng()), "relu", &f);
}

#[test]
fn sigmoid_matches_pytorch() {
    let Some(f) = fixture() else { return };
    assert_eq!(f["cases"]["sigmoid"]["activation"], "torch.sigmoid");
    check_case(Sigmoid43::new(&mut rng()), "sigmoid", &f);
}

#[test]
fn tanh_matches_pytorch() {
    let Some(f) = fixture() else { return };
    assert_eq!(f["cases"]["tanh"]["activation"], "torch.tanh");
    check_case(Tanh43::new(&mut rng()), "tanh", &f);
}

#[test]
fn leaky_relu_matches_pytorch() {
    let Some(f) = fixture() else { return };
    let activation = f["cases"]["leaky_relu"]["activation"].as_str().unwrap();
    assert!(activation.contains("negative_slope=0.01"), "{activation}");
    check_case(Leaky43::new(&mut rng()), "leaky_relu", &f);
}

#[test]
fn softplus_matches_pytorch() {
    let Some(f) = fixture() else { return };
    let activation = f["cases"]["softplus"]["activation"].as_str().unwrap();
    assert!(activation.contains("beta=1"), "{activation}");
    check_case(Softplus43::new(&mut rng()), "softplus", &f);
}

#[test]
fn every_case_is_checked() {
    let Some(f) = fixture() else { return };
    let mut cases: Vec<&str> = f["cases"].as_object().unwrap().keys().map(String::as_str).collect();
    cases.sort_unstable();
    assert_eq!(cases, ["leaky_relu", "relu", "sigmoid", "softplus", "tanh"]);
}
