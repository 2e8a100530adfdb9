//! Numerical edge cases through `network!` networks and through the losses
//! directly: logits of ±10⁴ in `f32` and `f64` give finite losses and
//! gradients equal to the exact values; training that diverges stops with
//! `FitError::NonFinite` naming the epoch, the step and the value; and the
//! `f32` and `f64` versions of one network agree to a stated tolerance.

use perceptra::prelude::*;
use perceptra::{FitError, Float, Mode, Vector};

// ---------------------------------------------------------------------------
// Helpers.

/// A forward and backward pass of a batch in inference mode: the mean loss,
/// ∂loss/∂params and ∂loss/∂inputs, all as `f64`.
struct Pass {
    loss: f64,
    outputs: Vec<f64>,
    grads: Vec<f64>,
    dx: Vec<f64>,
}

fn pass<N, L>(net: &N, inputs: &[N::Input], targets: &[L::Target], loss: &L) -> Pass
where
    N: Network,
    L: Loss<N::Output>,
{
    let zero = N::Scalar::of_f64(0.0);
    let n = inputs.len();
    let x: Vec<N::Scalar> = inputs.iter().flat_map(|v| v.as_slice().to_vec()).collect();
    let mut acts = vec![zero; N::forward_len(n)];
    net.forward_slices(&x, &mut acts, Mode::Eval);
    let mut scratch = vec![zero; N::backward_len(n)];
    let value = loss.loss_grad(N::outputs(&acts, n), targets, &mut scratch[..N::OUTPUT * n]);
    let outputs = N::outputs(&acts, n).iter().map(|v| v.as_f64()).collect();
    let mut grads = vec![zero; N::PARAMS];
    let mut dx = vec![zero; N::INPUT * n];
    net.backward_slices(&x, &acts, &mut scratch, &mut grads, Some(&mut dx), Mode::Eval);
    let f64s = |v: Vec<N::Scalar>| v.into_iter().map(Float::as_f64).collect();
    Pass { loss: value.as_f64(), outputs, grads: f64s(grads), dx: f64s(dx) }
}

/// `actual` equals `expected` within `rel` relatively (or exactly, for
/// zeros and the like). `what` names it.
#[track_caller]
fn close(what: &str, actual: f64, expected: f64, rel: f64) {
    assert!(actual.is_finite(), "{what}: {actual} is not finite (expected {expected})");
    let ok = actual == expected || (actual - expected).abs() <= rel * expected.abs();
    assert!(ok, "{what}: expected {expected:e}, got {actual:e} (relative tolerance {rel:e})");
}

#[track_caller]
fn all_close(what: &str, actual: &[f64], expected: &[f64], rel: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        close(&format!("{what}[{i}]"), a, e, rel);
    }
}

/// The relative tolerance of exact values in `T`: a few units in the last
/// place (2⁻²⁴ ≈ 6·10⁻⁸ for `f32`, 2⁻⁵³ ≈ 1.1·10⁻¹⁶ for `f64`).
fn ulps<T: Float>(n: f64) -> f64 {
    if T::NAME == "f32" { n * f64::from(f32::EPSILON) } else { n * f64::EPSILON }
}

/// Exact softmax of `x` in `f64` (the maximum subtracted, so any finite `x`).
fn softmax(x: &[f64]) -> Vec<f64> {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// Logits at ±10⁴ and near-equal large values, where a naive
/// `log Σ eˣ` overflows or loses every digit. All exact in `f32`.
const HUGE_LOGITS: [[f64; 3]; 6] = [
    [1e4, -1e4, 0.0],
    [-1e4, -1e4, -1e4],
    [1e4, 1e4, 1e4],
    [1e4, 9999.0, 9998.0],
    [-1e4, -9999.0, -9998.0],
    [1e4, -1e4, 1e4],
];

// ---------------------------------------------------------------------------
// The losses directly.

/// Cross-entropy (log-softmax and NLL) at huge logits, for every class:
/// `ℓ = (max − x_c) + log Σ e^(x − max)`, and `∂ℓ/∂x = softmax(x) − onehot(c)`.
fn cross_entropy_at_huge_logits<T: Float>() {
    for logits in HUGE_LOGITS {
        let y: Vec<T> = logits.iter().map(|&v| T::of_f64(v)).collect();
        for c in 0..3 {
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = logits.iter().map(|v| (v - max).exp()).sum();
            let exact = (max - logits[c]) + sum.ln();
            let mut dy = vec![T::of_f64(f64::NAN); 3];
            let value = Loss::<SVector<T, 3>>::loss_grad(&CrossEntropy, &y, &[c], &mut dy);
            let what = format!("{} cross-entropy of {logits:?}, class {c}", T::NAME);
            close(&what, value.as_f64(), exact, ulps::<T>(4.0));
            let loss_only = Loss::<SVector<T, 3>>::loss(&CrossEntropy, &y, &[c]);
            assert_eq!(loss_only.as_f64(), value.as_f64(), "{what}");
            let mut expected = softmax(&logits);
            expected[c] -= 1.0;
            let dy: Vec<f64> = dy.iter().map(|v| v.as_f64()).collect();
            for (a, e) in dy.iter().zip(&expected) {
                // Absolute: the gradient is a difference of probabilities.
                assert!(
                    (a - e).abs() <= ulps::<T>(4.0),
                    "{what}: gradient {dy:?}, expected {expected:?}"
                );
            }
        }
    }
}

#[test]
fn cross_entropy_is_stable_at_huge_logits() {
    cross_entropy_at_huge_logits::<f32>();
    cross_entropy_at_huge_logits::<f64>();
}

/// BCE with logits: `ℓ = max(x, 0) − x t + log(1 + e^(−|x|))` and
/// `∂ℓ/∂x = σ(x) − t`, per element, averaged over 2 elements.
fn bce_with_logits_at_huge_logits<T: Float>() {
    for (x, t) in [(1e4, 0.0), (1e4, 1.0), (-1e4, 0.0), (-1e4, 1.0), (1e4, 0.25), (-1e4, 0.75)] {
        let y = [T::of_f64(x), T::of_f64(0.0)];
        let target = SVector::<T, 2>::new(T::of_f64(t), T::of_f64(0.5));
        let mut dy = [T::of_f64(f64::NAN); 2];
        let value = Loss::<SVector<T, 2>>::loss_grad(&BceWithLogits, &y, &[target], &mut dy);
        // The second element (x = 0, t = ½) contributes ln 2.
        let exact = (x.max(0.0) - x * t + (-x.abs()).exp().ln_1p() + std::f64::consts::LN_2) / 2.0;
        let what = format!("{} BCE with logits at x = {x}, t = {t}", T::NAME);
        close(&what, value.as_f64(), exact, ulps::<T>(4.0));
        let sigma = if x > 0.0 { 1.0 } else { 0.0 }; // σ(±10⁴) = 1 or e^(−10⁴) ≈ 0
        close(&format!("{what}: gradient"), dy[0].as_f64(), (sigma - t) / 2.0, ulps::<T>(4.0));
        close(&format!("{what}: gradient at 0"), dy[1].as_f64(), 0.0, 0.0);
    }
}

#[test]
fn bce_with_logits_is_stable_at_huge_logits() {
    bce_with_logits_at_huge_logits::<f32>();
    bce_with_logits_at_huge_logits::<f64>();
}

/// BCE on probabilities of exactly 0 and 1 (what a sigmoid of ±10⁴ gives):
/// PyTorch's definition clamps each logarithm at −100, and its gradient
/// divides by `max(p (1 − p), 10⁻¹²)`; both finite.
fn bce_at_saturated_probabilities<T: Float>() {
    for (p, t, loss, grad) in [
        (1.0, 1.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.0),
        (1.0, 0.0, 100.0, 1e12),
        (0.0, 1.0, 100.0, -1e12),
        (1.0, 0.5, 50.0, 0.5e12),
    ] {
        let y = [T::of_f64(p)];
        let mut dy = [T::of_f64(f64::NAN)];
        let target = SVector::<T, 1>::new(T::of_f64(t));
        let value = Loss::<SVector<T, 1>>::loss_grad(&BinaryCrossEntropy, &y, &[target], &mut dy);
        let what = format!("{} BCE at p = {p}, t = {t}", T::NAME);
        close(&what, value.as_f64(), loss, ulps::<T>(4.0));
        close(&format!("{what}: gradient"), dy[0].as_f64(), grad, ulps::<T>(4.0));
    }
}

#[test]
fn bce_is_finite_at_saturated_probabilities() {
    bce_at_saturated_probabilities::<f32>();
    bce_at_saturated_probabilities::<f64>();
}

// ---------------------------------------------------------------------------
// Through networks.

network! {
    /// Passes its input through an identity `Dense`: the logits are the input.
    struct Logits32<f32> { input: 3, Dense(3) }
}
network! {
    struct Logits64<f64> { input: 3, Dense(3) }
}
network! {
    struct Softmax32<f32> { input: 3, Softmax }
}
network! {
    struct Softmax64<f64> { input: 3, Softmax }
}
network! {
    struct Sigmoid32<f32> { input: 2, Sigmoid }
}
network! {
    struct Sigmoid64<f64> { input: 2, Sigmoid }
}
network! {
    struct Softplus32<f32> { input: 2, Softplus }
}
network! {
    struct Softplus64<f64> { input: 2, Softplus }
}

/// The parameters of an identity `Dense(3 => 3)`: weight `I`, bias 0.
fn identity<T: Float>() -> [T; 12] {
    let mut p = [T::of_f64(0.0); 12];
    for i in 0..3 {
        p[4 * i] = T::of_f64(1.0);
    }
    p
}

/// Cross-entropy through a network whose logits are its input (an identity
/// `Dense`): `∂L/∂x = ∂L/∂logits = (softmax − onehot) / n`,
/// `∂L/∂W = (softmax − onehot) xᵀ / n` and `∂L/∂b = (softmax − onehot) / n`.
fn cross_entropy_through<N>(net: &N)
where
    N: Network<Input = SVector<<N as Network>::Scalar, 3>>,
    CrossEntropy: Loss<N::Output, Target = usize>,
{
    let inputs: Vec<N::Input> =
        HUGE_LOGITS.iter().map(|l| SVector::from_fn(|i, _| N::Scalar::of_f64(l[i]))).collect();
    let targets: Vec<usize> = (0..inputs.len()).map(|i| i % 3).collect();
    let p = pass(net, &inputs, &targets, &CrossEntropy);
    let n = inputs.len() as f64;
    let (mut loss, mut dw, mut db, mut dx) = (0.0, [0.0; 9], [0.0; 3], Vec::new());
    for (logits, &c) in HUGE_LOGITS.iter().zip(&targets) {
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        loss += (max - logits[c]) + logits.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        let mut d = softmax(logits);
        d[c] -= 1.0;
        for i in 0..3 {
            db[i] += d[i] / n;
            for j in 0..3 {
                dw[3 * i + j] += d[i] * logits[j] / n;
            }
        }
        dx.extend(d.iter().map(|v| v / n));
    }
    let what = N::NAME;
    close(&format!("{what}: loss"), p.loss, loss / n, ulps::<N::Scalar>(8.0));
    all_close(&format!("{what}: outputs"), &p.outputs, &HUGE_LOGITS.concat(), 0.0);
    // Every gradient element is an exact small multiple of 1/n or a sum of
    // at most 6 terms of magnitude ≤ 10⁴/n; the ulps of the largest bound
    // the rounding.
    for (i, (&a, &e)) in p.grads[..9].iter().zip(&dw).enumerate() {
        assert!(
            (a - e).abs() <= ulps::<N::Scalar>(16.0) * 1e4,
            "{what}: ∂L/∂W[{i}] = {a}, exact {e}"
        );
    }
    for (i, (&a, &e)) in p.grads[9..].iter().zip(&db).enumerate() {
        assert!((a - e).abs() <= ulps::<N::Scalar>(16.0), "{what}: ∂L/∂b[{i}] = {a}, exact {e}");
    }
    for (i, (&a, &e)) in p.dx.iter().zip(&dx).enumerate() {
        assert!((a - e).abs() <= ulps::<N::Scalar>(4.0), "{what}: ∂L/∂x[{i}] = {a}, exact {e}");
    }
}

#[test]
fn cross_entropy_through_networks_at_huge_logits() {
    cross_entropy_through(&Logits32::from_params(identity::<f32>()));
    cross_entropy_through(&Logits64::from_params(identity::<f64>()));
}

/// BCE with logits through the same network: per element
/// `ℓ = max(x, 0) − x t + log(1 + e^(−|x|))`, averaged over the `3n`
/// elements, and `∂L/∂x = (σ(x) − t) / (3n)`.
fn bce_with_logits_through<N>(net: &N)
where
    N: Network<
            Input = SVector<<N as Network>::Scalar, 3>,
            Output = SVector<<N as Network>::Scalar, 3>,
        >,
    BceWithLogits: Loss<N::Output, Target = N::Output>,
{
    let t = [1.0, 0.0, 0.5];
    let inputs: Vec<N::Input> =
        HUGE_LOGITS.iter().map(|l| SVector::from_fn(|i, _| N::Scalar::of_f64(l[i]))).collect();
    let targets = vec![SVector::from_fn(|i, _| N::Scalar::of_f64(t[i])); inputs.len()];
    let p = pass(net, &inputs, &targets, &BceWithLogits);
    let count = 3.0 * inputs.len() as f64;
    let sigmoid =
        |x: f64| if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
    let (mut loss, mut dx) = (0.0, Vec::new());
    for logits in HUGE_LOGITS {
        for (&x, &t) in logits.iter().zip(&t) {
            loss += x.max(0.0) - x * t + (-x.abs()).exp().ln_1p();
            dx.push((sigmoid(x) - t) / count);
        }
    }
    let what = N::NAME;
    close(&format!("{what}: BCE with logits"), p.loss, loss / count, ulps::<N::Scalar>(8.0));
    for (i, (&a, &e)) in p.dx.iter().zip(&dx).enumerate() {
        assert!((a - e).abs() <= ulps::<N::Scalar>(4.0), "{what}: ∂L/∂x[{i}] = {a}, exact {e}");
    }
}

#[test]
fn bce_with_logits_through_networks_at_huge_logits() {
    bce_with_logits_through(&Logits32::from_params(identity::<f32>()));
    bce_with_logits_through(&Logits64::from_params(identity::<f64>()));
}

/// A `Softmax` layer at huge inputs, with the squared error against a
/// target: `y = softmax(x)`, `∂L/∂y = 2 (y − t) / (3n)` and
/// `∂L/∂xᵢ = yᵢ (∂L/∂yᵢ − Σⱼ yⱼ ∂L/∂yⱼ)`.
fn softmax_through<N>(net: &N)
where
    N: Network<
            Input = SVector<<N as Network>::Scalar, 3>,
            Output = SVector<<N as Network>::Scalar, 3>,
        >,
    Mse: Loss<N::Output, Target = N::Output>,
{
    let t = [0.2, 0.3, 0.5];
    let inputs: Vec<N::Input> =
        HUGE_LOGITS.iter().map(|l| SVector::from_fn(|i, _| N::Scalar::of_f64(l[i]))).collect();
    let target = SVector::from_fn(|i, _| N::Scalar::of_f64(t[i]));
    let targets = vec![target; inputs.len()];
    let p = pass(net, &inputs, &targets, &Mse);
    let n = inputs.len() as f64;
    let (mut loss, mut y_all, mut dx) = (0.0, Vec::new(), Vec::new());
    for logits in HUGE_LOGITS {
        let y = softmax(&logits);
        let dy: Vec<f64> = y.iter().zip(&t).map(|(y, t)| 2.0 * (y - t) / (3.0 * n)).collect();
        let dot: f64 = y.iter().zip(&dy).map(|(y, d)| y * d).sum();
        loss += y.iter().zip(&t).map(|(y, t)| (y - t) * (y - t)).sum::<f64>();
        dx.extend(y.iter().zip(&dy).map(|(y, d)| y * (d - dot)));
        y_all.extend(y);
    }
    let what = N::NAME;
    for (i, (&a, &e)) in p.outputs.iter().zip(&y_all).enumerate() {
        assert!((a - e).abs() <= ulps::<N::Scalar>(4.0), "{what}: y[{i}] = {a}, exact {e}");
    }
    close(&format!("{what}: loss"), p.loss, loss / (3.0 * n), ulps::<N::Scalar>(16.0));
    for (i, (&a, &e)) in p.dx.iter().zip(&dx).enumerate() {
        assert!((a - e).abs() <= ulps::<N::Scalar>(8.0), "{what}: ∂L/∂x[{i}] = {a}, exact {e}");
    }
}

#[test]
fn softmax_through_networks_at_huge_inputs() {
    softmax_through(&Softmax32::from_params([]));
    softmax_through(&Softmax64::from_params([]));
}

/// `Sigmoid` then BCE at ±10⁴: the outputs saturate at exactly 1 and 0, the
/// clamped loss is 100 per wrong element (PyTorch's −100 floor on the
/// logarithm) and 0 per right one, and ∂L/∂x = ∂L/∂p · p (1 − p) is 0 (the
/// exact derivative, e^(−10⁴), is far below the smallest subnormal).
fn sigmoid_bce_through<N>(net: &N)
where
    N: Network<
            Input = SVector<<N as Network>::Scalar, 2>,
            Output = SVector<<N as Network>::Scalar, 2>,
        >,
    BinaryCrossEntropy: Loss<N::Output, Target = N::Output>,
{
    let v = |a: f64, b: f64| SVector::from([N::Scalar::of_f64(a), N::Scalar::of_f64(b)]);
    let inputs = [v(1e4, -1e4), v(-1e4, 1e4)];
    let targets = [v(1.0, 0.0), v(1.0, 0.0)];
    let p = pass(net, &inputs, &targets, &BinaryCrossEntropy);
    assert_eq!(p.outputs, [1.0, 0.0, 0.0, 1.0], "{}", N::NAME);
    close(
        &format!("{}: loss", N::NAME),
        p.loss,
        (0.0 + 0.0 + 100.0 + 100.0) / 4.0,
        ulps::<N::Scalar>(4.0),
    );
    assert!(p.dx.iter().all(|&d| d == 0.0), "{}: {:?}", N::NAME, p.dx);
}

#[test]
fn sigmoid_and_bce_through_networks_at_huge_inputs() {
    sigmoid_bce_through(&Sigmoid32::from_params([]));
    sigmoid_bce_through(&Sigmoid64::from_params([]));
}

/// `Softplus` at ±10⁴: `ln(1 + e^(10⁴)) = 10⁴` (to far below an ulp) and
/// `ln(1 + e^(−10⁴)) = e^(−10⁴)`, which rounds to 0; with the squared error
/// against 0, `∂L/∂x = ∂L/∂y · σ(x)`: `10⁴ · 1` and 0.
fn softplus_through<N>(net: &N)
where
    N: Network<
            Input = SVector<<N as Network>::Scalar, 2>,
            Output = SVector<<N as Network>::Scalar, 2>,
        >,
    Mse: Loss<N::Output, Target = N::Output>,
{
    let v = |a: f64, b: f64| SVector::from([N::Scalar::of_f64(a), N::Scalar::of_f64(b)]);
    let p = pass(net, &[v(1e4, -1e4)], &[v(0.0, 0.0)], &Mse);
    assert_eq!(p.outputs, [1e4, 0.0], "{}", N::NAME);
    close(&format!("{}: loss", N::NAME), p.loss, 1e8 / 2.0, 0.0);
    assert_eq!(p.dx, [1e4, 0.0], "{}", N::NAME);
}

#[test]
fn softplus_through_networks_at_huge_inputs() {
    softplus_through(&Softplus32::from_params([]));
    softplus_through(&Softplus64::from_params([]));
}

// ---------------------------------------------------------------------------
// Divergence.

network! {
    /// A small classifier of 28 × 28 images, as for MNIST.
    struct Digits<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(128), ReLU,
        Dense(128), ReLU,
        Dense(10),
    }
}

/// 200 images of 28 × 28 pixels in 10 classes: each class a random pattern
/// of ink, each image its pattern with a tenth of the pixels flipped.
fn digits() -> Dataset<SVector<f32, 784>, usize> {
    use perceptra::rand::RngExt;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let patterns: Vec<[bool; 784]> =
        (0..10).map(|_| std::array::from_fn(|_| rng.random::<f64>() < 0.3)).collect();
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for i in 0..200 {
        let class = i % 10;
        let image = SVector::from_fn(|p, _| {
            let ink = patterns[class][p] ^ (rng.random::<f64>() < 0.1);
            if ink { 0.8 + 0.2 * rng.random::<f32>() } else { 0.0 }
        });
        inputs.push(image);
        targets.push(class);
    }
    Dataset::new(inputs, targets).expect("as many images as labels")
}

/// SGD at a learning rate of 10³ blows the weights up within a few steps
/// (here the logits overflow to ±∞ and the loss is NaN at step 4 of epoch
/// 1; with a single hidden layer, the ReLUs tend to die first and the loss
/// stays finite, if useless); the run stops with the epoch, the step and the
/// loss, without applying that step, and without a checkpoint after the last
/// good epoch.
#[test]
fn divergence_stops_with_the_epoch_step_and_value() {
    let data = digits();
    let dir = std::env::temp_dir().join(format!("perceptra-numerics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let checkpoints = Checkpoints::new(&dir);
    let mut net = Digits::new(&mut ChaCha8Rng::seed_from_u64(1));
    let sgd = Sgd::with_lr(1e3).expect("a large rate is valid");
    let result = Trainer::new(CrossEntropy, sgd)
        .epochs(5)
        .batch_size(16)
        .progress(Progress::Silent)
        .checkpoints(checkpoints.clone())
        .fit(&mut net, &data, None);
    let err = result.expect_err("a learning rate of 1e3 diverges");
    let FitError::NonFinite { epoch, step, loss } = err else {
        panic!("expected NonFinite, got {err:?}")
    };
    assert!(!loss.is_finite(), "{loss}");
    assert!((1..=5).contains(&epoch) && (1..=13).contains(&step), "epoch {epoch}, step {step}");
    let msg = err_message(epoch, step, loss);
    assert!(msg.contains(&format!("at epoch {epoch}, step {step}")), "{msg}");
    // The checkpoint holds the last good epoch, if any.
    let last = checkpoints.last_path();
    if epoch == 1 {
        assert!(!last.exists());
    } else {
        let mut resumed = Digits::new(&mut ChaCha8Rng::seed_from_u64(2));
        resumed.load_weights(&last).expect("the last good checkpoint loads");
        assert!(resumed.params().iter().all(|p| p.is_finite()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The message of a `NonFinite` error: the value, the epoch and the step.
fn err_message(epoch: usize, step: usize, loss: f64) -> String {
    let msg = FitError::NonFinite { epoch, step, loss }.to_string();
    assert!(msg.starts_with(&format!("loss became {loss} at epoch {epoch}, step {step}")), "{msg}");
    msg
}

// ---------------------------------------------------------------------------
// f32 against f64.

network! {
    struct Twin32<f32> {
        input: 8,
        Dense(16), Tanh,
        Dense(16), Softplus,
        Dense(16), Sigmoid,
        Dense(4),
    }
}
network! {
    struct Twin64<f64> {
        input: 8,
        Dense(16), Tanh,
        Dense(16), Softplus,
        Dense(16), Sigmoid,
        Dense(4),
    }
}

/// The same network in `f32` and `f64`, with the same weights (the `f64`
/// network's rounded to `f32`, so both hold exactly the same values) and the
/// same inputs (also exact in `f32`): only the arithmetic differs.
///
/// The tolerance: every value here is a chain of dot products of at most
/// 16 terms through four layers, each activation 1-Lipschitz, with weights
/// below 1/4 in magnitude (PyTorch's initialisation, ±1/√16). A dot product of
/// `k` terms in `f32` is off by at most `k·u·Σ|wᵢxᵢ|` with `u = 2⁻²⁴`
/// (Higham, §3.1), each elementwise function by a few `u`; through four
/// layers the error relative to the largest value of the vector stays below
/// `4 × (16 + 4) u ≈ 5·10⁻⁶`. The backward pass runs the chain again in
/// reverse, so gradients get twice that. The tolerances, 10⁻⁵ forward and
/// 2·10⁻⁵ backward, relative to the largest magnitude of each vector, are
/// those bounds rounded up; a failure means an error of a different order
/// than rounding (a lost digit, a wrong branch), not noise.
#[test]
fn f32_and_f64_agree_within_rounding() {
    let twin64 = Twin64::new(&mut ChaCha8Rng::seed_from_u64(9));
    let params32: Vec<f32> = twin64.params().iter().map(|&p| p as f32).collect();
    let params64: Vec<f64> = params32.iter().map(|&p| f64::from(p)).collect();
    let net32 = Twin32::from_params(<[f32; Twin32::PARAMS]>::try_from(params32).expect("sizes"));
    let net64 = Twin64::from_params(<[f64; Twin64::PARAMS]>::try_from(params64).expect("sizes"));

    use perceptra::rand::RngExt;
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let xs32: Vec<SVector<f32, 8>> =
        (0..32).map(|_| SVector::from_fn(|_, _| rng.random::<f32>() * 4.0 - 2.0)).collect();
    let xs64: Vec<SVector<f64, 8>> = xs32.iter().map(|x| x.map(f64::from)).collect();
    let classes: Vec<usize> = (0..32).map(|i| i % 4).collect();

    let scale = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-3);
    let agree = |what: &str, a: &[f64], b: &[f64], tol: f64| {
        let s = scale(b);
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * s,
                "{what}[{i}]: f32 {x}, f64 {y} (scale {s}, tolerance {tol})"
            );
        }
    };

    // Single samples through `forward`, and batches through the slices.
    for (x32, x64) in xs32.iter().zip(&xs64) {
        let (y32, y64) = (net32.forward(x32).map(f64::from), net64.forward(x64));
        agree("forward", y32.as_slice(), y64.as_slice(), 1e-5);
    }
    let p32 = pass(&net32, &xs32, &classes, &CrossEntropy);
    let p64 = pass(&net64, &xs64, &classes, &CrossEntropy);
    agree("outputs", &p32.outputs, &p64.outputs, 1e-5);
    close("cross-entropy", p32.loss, p64.loss, 1e-5);
    agree("∂L/∂params", &p32.grads, &p64.grads, 2e-5);
    agree("∂L/∂x", &p32.dx, &p64.dx, 2e-5);

    // The other losses on the same outputs.
    let t32: Vec<SVector<f32, 4>> =
        xs32.iter().map(|x| x.fixed_rows::<4>(0).map(|v| (v + 2.0) / 4.0)).collect();
    let t64: Vec<SVector<f64, 4>> = t32.iter().map(|t| t.map(f64::from)).collect();
    let (m32, m64) = (pass(&net32, &xs32, &t32, &Mse), pass(&net64, &xs64, &t64, &Mse));
    close("mse", m32.loss, m64.loss, 1e-5);
    agree("mse ∂L/∂params", &m32.grads, &m64.grads, 2e-5);
    let (b32, b64) =
        (pass(&net32, &xs32, &t32, &BceWithLogits), pass(&net64, &xs64, &t64, &BceWithLogits));
    close("bce with logits", b32.loss, b64.loss, 1e-5);
    agree("bce with logits ∂L/∂params", &b32.grads, &b64.grads, 2e-5);
}
