//! Whole networks declared with `network!`: backpropagation against central
//! finite differences for every activation and every loss, and the batched
//! entry points of `NetworkExt` (`backprop`, `forward_batch`).
//!
//! Gradient checks run in f64 with `perceptra::gradcheck::check_network`;
//! each derivative must agree within 1e-6 relatively or 1e-9 absolutely.

use perceptra::gradcheck::{Comparison, Wrt, assert_agree, check_network};
use perceptra::prelude::*;
use perceptra::rand::RngExt;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

network! {
    struct ReluNet<f64> { input: 3, Dense(4), ReLU, Dense(4), ReLU, Dense(2) }
}
network! {
    struct LeakyNet<f64> { input: 3, Dense(4), LeakyReLU, Dense(4), LeakyReLU, Dense(2) }
}
network! {
    struct Leaky02Net<f64> { input: 3, Dense(4), LeakyReLU(0.2), Dense(4), LeakyReLU(0.2), Dense(2) }
}
network! {
    struct SigmoidNet<f64> { input: 3, Dense(4), Sigmoid, Dense(4), Sigmoid, Dense(2) }
}
network! {
    struct TanhNet<f64> { input: 3, Dense(4), Tanh, Dense(4), Tanh, Dense(2) }
}
network! {
    struct SoftplusNet<f64> { input: 3, Dense(4), Softplus, Dense(4), Softplus, Dense(2) }
}
network! {
    /// Probabilities out, for `BinaryCrossEntropy`.
    struct ProbNet<f64> { input: 3, Dense(4), Tanh, Dense(4), ReLU, Dense(2), Sigmoid }
}
network! {
    struct SoftmaxNet<f64> { input: 3, Dense(4), Tanh, Dense(3), Softmax }
}
network! {
    struct DropoutNet<f64> { input: 3, Dense(8), ReLU, Dropout(0.3), Dense(8), Tanh, Dropout(0.3), Dense(2) }
}
network! {
    /// Every layer kind in one network.
    struct Everything<f64> {
        input: 3,
        Dense(4), LeakyReLU(0.1), Dropout(0.2),
        Dense(4), Sigmoid, Dense(4), Tanh, Dense(4), Softplus,
        Dense(3), Softmax,
    }
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` vectors with elements uniform in `[lo, hi)`.
fn vectors<const D: usize>(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<SVector<f64, D>> {
    let mut rng = rng(seed);
    (0..n).map(|_| SVector::from_fn(|_, _| lo + (hi - lo) * rng.random::<f64>())).collect()
}

fn classes(n: usize, k: usize) -> Vec<usize> {
    (0..n).map(|i| (i * 7 + 3) % k).collect()
}

#[track_caller]
fn check(what: &str, comparisons: &[Comparison], params: usize, inputs: usize) {
    assert_eq!(comparisons.len(), params + inputs, "{what}: not every derivative was checked");
    assert_agree(what, comparisons, REL, ABS);
}

/// Checks a network with 3 inputs and 2 outputs under Mse, CrossEntropy and
/// BceWithLogits, on a batch of 5.
fn check_all_losses<N>(name: &str, mut net: N)
where
    N: NetworkMut<Scalar = f64, Input = SVector<f64, 3>, Output = SVector<f64, 2>>,
{
    let x = vectors::<3>(5, 100, -2.0, 2.0);
    let t = vectors::<2>(5, 101, -1.0, 1.0);
    check(&format!("{name} + Mse"), &check_network(&mut net, &x, &t, &Mse), N::PARAMS, 15);
    let c = classes(5, 2);
    let ce = check_network(&mut net, &x, &c, &CrossEntropy);
    check(&format!("{name} + CrossEntropy"), &ce, N::PARAMS, 15);
    let p = vectors::<2>(5, 102, 0.0, 1.0);
    let bce = check_network(&mut net, &x, &p, &BceWithLogits);
    check(&format!("{name} + BceWithLogits"), &bce, N::PARAMS, 15);
}

#[test]
fn relu() {
    check_all_losses("ReLU", ReluNet::new(&mut rng(1)));
}

#[test]
fn leaky_relu() {
    check_all_losses("LeakyReLU", LeakyNet::new(&mut rng(2)));
    check_all_losses("LeakyReLU(0.2)", Leaky02Net::new(&mut rng(3)));
}

#[test]
fn sigmoid() {
    check_all_losses("Sigmoid", SigmoidNet::new(&mut rng(4)));
}

#[test]
fn tanh() {
    check_all_losses("Tanh", TanhNet::new(&mut rng(5)));
}

#[test]
fn softplus() {
    check_all_losses("Softplus", SoftplusNet::new(&mut rng(6)));
}

#[test]
fn sigmoid_output_with_binary_cross_entropy() {
    let mut net = ProbNet::new(&mut rng(7));
    let x = vectors::<3>(6, 110, -2.0, 2.0);
    // Hard and soft targets.
    let mut t = vectors::<2>(6, 111, 0.0, 1.0);
    t[0] = SVector::from([0.0, 1.0]);
    t[1] = SVector::from([1.0, 0.0]);
    let comparisons = check_network(&mut net, &x, &t, &BinaryCrossEntropy);
    check("Sigmoid + BinaryCrossEntropy", &comparisons, ProbNet::PARAMS, 18);
    check("Sigmoid + Mse", &check_network(&mut net, &x, &t, &Mse), ProbNet::PARAMS, 18);
}

#[test]
fn softmax_output_with_mse() {
    let mut net = SoftmaxNet::new(&mut rng(8));
    let x = vectors::<3>(5, 120, -2.0, 2.0);
    let t = vectors::<3>(5, 121, 0.0, 1.0);
    check("Softmax + Mse", &check_network(&mut net, &x, &t, &Mse), SoftmaxNet::PARAMS, 15);
    let c = classes(5, 3);
    let ce = check_network(&mut net, &x, &c, &CrossEntropy);
    check("Softmax + CrossEntropy", &ce, SoftmaxNet::PARAMS, 15);
}

#[test]
fn dropout() {
    let mut net = DropoutNet::new(&mut rng(9));
    let x = vectors::<3>(6, 130, -2.0, 2.0);
    let t = vectors::<2>(6, 131, -1.0, 1.0);
    let comparisons = check_network(&mut net, &x, &t, &Mse);
    check("Dropout + Mse", &comparisons, DropoutNet::PARAMS, 18);
    // check_network runs in training mode with a fixed seed: the same masks
    // for every evaluation, so the finite differences see the masked network.
    let ce = check_network(&mut net, &x, &classes(6, 2), &CrossEntropy);
    check("Dropout + CrossEntropy", &ce, DropoutNet::PARAMS, 18);
    check_all_losses("DropoutNet", net);
}

#[test]
fn every_layer_kind() {
    let mut net = Everything::new(&mut rng(10));
    let x = vectors::<3>(4, 140, -2.0, 2.0);
    let t = vectors::<3>(4, 141, 0.0, 1.0);
    check("Everything + Mse", &check_network(&mut net, &x, &t, &Mse), Everything::PARAMS, 12);
    let bce = check_network(&mut net, &x, &t, &BinaryCrossEntropy);
    check("Everything + BinaryCrossEntropy", &bce, Everything::PARAMS, 12);
}

/// The checks can fail: a wrong parameter gradient shows.
#[test]
#[should_panic(expected = "gradient wrt Param(0)")]
fn a_wrong_gradient_is_caught() {
    let mut net = TanhNet::new(&mut rng(11));
    let x = vectors::<3>(3, 150, -2.0, 2.0);
    let t = vectors::<2>(3, 151, -1.0, 1.0);
    let mut comparisons = check_network(&mut net, &x, &t, &Mse);
    assert_eq!(comparisons[0].wrt, Wrt::Param(0));
    comparisons[0].analytic *= 1.001;
    assert_agree("tampered", &comparisons, REL, ABS);
}

// `NetworkExt`: backprop and forward_batch.

fn flat<const D: usize>(v: &[SVector<f64, D>]) -> Vec<f64> {
    v.iter().flat_map(|s| s.iter().copied()).collect()
}

#[test]
fn backprop_matches_the_gradient_check_and_the_loss() {
    let mut net = TanhNet::new(&mut rng(12));
    let x = vectors::<3>(7, 160, -2.0, 2.0);
    let t = vectors::<2>(7, 161, -1.0, 1.0);
    let mut g = net.zero_grads();
    assert_eq!(g.as_slice().len(), TanhNet::PARAMS);
    let value = net.backprop(&x, &t, &Mse, &mut g);
    // The mean loss of the outputs.
    let y = flat(&net.forward_batch(&x));
    let expected = Loss::<SVector<f64, 2>>::loss(&Mse, &y, &t);
    assert!((value - expected).abs() <= 1e-14 * expected, "backprop {value}, loss {expected}");
    // The analytic gradients are the finite differences'.
    let comparisons = check_network(&mut net, &x, &t, &Mse);
    for c in &comparisons {
        if let Wrt::Param(i) = c.wrt {
            let got = g.as_slice()[i];
            assert!(
                (got - c.analytic).abs() <= 1e-14 * (1.0 + c.analytic.abs()),
                "parameter {i}: backprop {got}, check_network {}",
                c.analytic
            );
        }
    }
}

#[test]
fn backprop_accumulates_and_zero_clears() {
    let net = SigmoidNet::new(&mut rng(13));
    let x = vectors::<3>(9, 170, -2.0, 2.0);
    let c = classes(9, 2);
    let mut g = net.zero_grads();
    let first = net.backprop(&x, &c, &CrossEntropy, &mut g);
    let once = g.as_slice().to_vec();
    assert!(once.iter().any(|&v| v != 0.0));
    let second = net.backprop(&x, &c, &CrossEntropy, &mut g);
    assert_eq!(first, second);
    for (i, (&twice, &once)) in g.as_slice().iter().zip(&once).enumerate() {
        assert!(
            (twice - 2.0 * once).abs() <= 1e-14 * once.abs(),
            "{i}: {twice} after two, {once} after one"
        );
    }
    g.zero();
    assert!(g.as_slice().iter().all(|&v| v == 0.0));
    assert_eq!(g.as_slice().len(), SigmoidNet::PARAMS);
    net.backprop(&x, &c, &CrossEntropy, &mut g);
    assert_eq!(g.as_slice(), &once[..]);
}

#[test]
fn backprop_on_an_empty_batch_returns_zero_and_adds_nothing() {
    let net = ReluNet::new(&mut rng(14));
    let mut g = net.zero_grads();
    assert_eq!(net.backprop(&[], &[], &Mse, &mut g), 0.0);
    assert!(g.as_slice().iter().all(|&v| v == 0.0));
    let x = vectors::<3>(2, 180, -2.0, 2.0);
    net.backprop(&x, &[0, 1], &CrossEntropy, &mut g);
    let before = g.as_slice().to_vec();
    assert_eq!(net.backprop(&[], &[], &CrossEntropy, &mut g), 0.0);
    assert_eq!(g.as_slice(), &before[..]);
}

#[test]
#[should_panic(expected = "backprop: 3 inputs but 2 targets")]
fn backprop_with_mismatched_targets_panics() {
    let net = ReluNet::new(&mut rng(15));
    let mut g = net.zero_grads();
    net.backprop(&vectors::<3>(3, 190, -1.0, 1.0), &[0, 1], &CrossEntropy, &mut g);
}

network! {
    /// Wide enough that every product goes through the packed kernels.
    struct Wide<f64> { input: 8, Dense(16), Tanh, Dense(16), ReLU, Dense(6), Softplus, Dense(3) }
}
network! {
    struct Wide32<f32> { input: 8, Dense(16), Tanh, Dense(16), ReLU, Dense(3) }
}

#[test]
fn forward_batch_equals_forward() {
    let net = Wide::new(&mut rng(16));
    let small = TanhNet::new(&mut rng(17));
    // forward_batch runs chunks of 256: sizes on both sides of a chunk.
    for n in [0, 1, 5, 255, 256, 257, 600] {
        let x = vectors::<8>(n, 200 + n as u64, -2.0, 2.0);
        let batch = net.forward_batch(&x);
        assert_eq!(batch.len(), n);
        for (i, (x, b)) in x.iter().zip(&batch).enumerate() {
            let single = net.forward(x);
            for (o, (&b, &s)) in b.iter().zip(single.iter()).enumerate() {
                // Batched products may sum in another order.
                assert!(
                    (b - s).abs() <= 1e-12 * (1.0 + s.abs()),
                    "n = {n}, sample {i}, output {o}: {b} vs {s}"
                );
            }
        }
        let x3 = vectors::<3>(n, 300 + n as u64, -2.0, 2.0);
        for (x, b) in x3.iter().zip(small.forward_batch(&x3)) {
            let s = small.forward(x);
            assert!((b - s).amax() <= 1e-12 * (1.0 + s.amax()), "{b} vs {s}");
        }
    }
    // f32.
    let net = Wide32::new(&mut rng(18));
    let x: Vec<SVector<f32, 8>> =
        vectors::<8>(300, 400, -2.0, 2.0).iter().map(|v| v.cast()).collect();
    for (x, b) in x.iter().zip(net.forward_batch(&x)) {
        let s = net.forward(x);
        assert!((b - s).amax() <= 1e-5 * (1.0 + s.amax()), "{b} vs {s}");
    }
}

#[test]
fn forward_batch_into_reuses_its_workspace() {
    let net = Wide::new(&mut rng(19));
    let mut ws = perceptra::Workspace::new();
    let x = vectors::<8>(300, 500, -2.0, 2.0);
    let mut out = vec![SVector::zeros(); 300];
    net.forward_batch_into(&x, &mut out, &mut ws);
    assert_eq!(out, net.forward_batch(&x));
    // A smaller batch after a larger one, with the same workspace.
    let mut few = vec![SVector::zeros(); 3];
    net.forward_batch_into(&x[..3], &mut few, &mut ws);
    assert_eq!(few, out[..3]);
}

network! {
    struct Dropped<f64> { input: 3, Dense(16), ReLU, Dropout(0.5), Dense(2) }
}
network! {
    struct Undropped<f64> { input: 3, Dense(16), ReLU, Dense(2) }
}

#[test]
fn dropout_changes_training_passes_but_not_inference() {
    let net = Dropped::new(&mut rng(20));
    let mut plain = Undropped::new(&mut rng(21));
    plain.params_mut().copy_from_slice(net.params());
    let x = vectors::<3>(8, 600, -2.0, 2.0);
    let t = vectors::<2>(8, 601, -1.0, 1.0);

    // Inference: deterministic, and dropout is the identity.
    for x in &x {
        assert_eq!(net.forward(x), net.forward(x));
        assert_eq!(net.forward(x), plain.forward(x));
    }
    let eval = net.forward_batch(&x);
    assert_eq!(eval, net.forward_batch(&x));
    assert_eq!(eval, plain.forward_batch(&x));

    // Training: each step draws new masks.
    let mut g = net.zero_grads();
    g.seed(1);
    let losses: Vec<f64> = (0..4).map(|_| net.backprop(&x, &t, &Mse, &mut g)).collect();
    for i in 1..losses.len() {
        assert!(!losses[..i].contains(&losses[i]), "steps repeat a mask: {losses:?}");
    }
    let eval_loss = Loss::<SVector<f64, 2>>::loss(&Mse, &flat(&eval), &t);
    assert!(!losses.contains(&eval_loss), "training ran without dropout");
    // Without dropout, every step is the same.
    let mut pg = plain.zero_grads();
    let plain_losses: Vec<f64> = (0..3).map(|_| plain.backprop(&x, &t, &Mse, &mut pg)).collect();
    assert!(plain_losses.iter().all(|&l| l == eval_loss), "{plain_losses:?} vs {eval_loss}");

    // The same seed replays the same steps; another seed does not.
    let mut again = net.zero_grads();
    again.seed(1);
    let replay: Vec<f64> = (0..4).map(|_| net.backprop(&x, &t, &Mse, &mut again)).collect();
    assert_eq!(replay, losses);
    assert_eq!(again.as_slice(), g.as_slice());
    let mut other = net.zero_grads();
    other.seed(2);
    assert_ne!(net.backprop(&x, &t, &Mse, &mut other), losses[0]);
}

network! {
    /// The size: 669,706 parameters, 2.7 MB in f32.
    struct Big<f32> { input: 784, Dense(512), ReLU, Dense(512), ReLU, Dense(10) }
}
network! {
    struct Big64<f64> { input: 784, Dense(512), ReLU, Dense(512), ReLU, Dense(10) }
}

#[test]
fn a_784_512_512_10_model_is_created_on_a_2_mib_stack() {
    const PARAMS: usize = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10;
    assert_eq!(Big::PARAMS, PARAMS);
    let thread = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
        let net = Big::new(&mut rng(22));
        assert_eq!(net.params().len(), PARAMS);
        let x = SVector::<f32, 784>::from_fn(|i, _| (i % 7) as f32 / 7.0);
        let y = net.forward(&x);
        assert!(y.iter().all(|v| v.is_finite()), "{y}");
        assert!(y.iter().any(|&v| v != 0.0));
        let batch = net.forward_batch(&[x, x]);
        for b in &batch {
            assert!((b - y).amax() <= 1e-4 * (1.0 + y.amax()), "{b} vs {y}");
        }
        // A training step too: everything large is on the heap.
        let mut g = net.zero_grads();
        let loss = net.backprop(&[x, x], &[3, 4], &CrossEntropy, &mut g);
        assert!(loss.is_finite() && loss > 0.0);

        let net = Big64::new(&mut rng(23));
        let y64 = net.forward(&x.cast());
        assert!(y64.iter().all(|v| v.is_finite()));
        y
    });
    let y = thread.expect("spawn").join().expect("the model works on a 2 MiB stack");
    assert_eq!(y.len(), 10);
}
