//! The claims of the teaching examples (`examples/perceptron.rs`, `blobs.rs`,
//! `sequential.rs`, `mnist_regression.rs`, `gradient_check.rs`), in fast
//! versions, and whole-network gradient checks of the newer activations
//! (`Elu`, `Bru`, `Step`).

use std::path::PathBuf;

use perceptra::data::{mnist, synthetic};
use perceptra::gradcheck::{Comparison, Wrt, assert_agree, check_network};
use perceptra::prelude::*;
use perceptra::rand::RngExt;

/// The tolerances of the gradient checks (as in `tests/gradcheck.rs`).
const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

network! {
    struct EluNet<f64> { input: 3, Dense(4), Elu, Dense(4), Elu(0.5), Dense(2) }
    struct EluWide<f64> { input: 3, Dense(6), Elu(2.0), Dense(2) }
    struct BruNet<f64> { input: 3, Dense(4), Bru(2.0), Dense(4), Bru(0.5), Dense(2) }
    struct BruOne<f64> { input: 3, Dense(4), Bru(1.0), Dense(2) }
    struct BruThree<f64> { input: 3, Dense(5), Bru(3), Dense(2) }
    /// Every new activation, and probabilities out for BinaryCrossEntropy.
    struct Mixed<f64> { input: 3, Dense(4), Elu(0.7), Dense(4), Bru(1.5), Dense(4), Tanh, Dense(2), Sigmoid }
    /// A step in the middle: no gradient passes it.
    struct Stepped<f64> { input: 3, Dense(4), Step, Dense(2) }
}

fn vectors<const D: usize>(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<SVector<f64, D>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| SVector::from_fn(|_, _| rng.random_range(lo..hi))).collect()
}

#[track_caller]
fn check(what: &str, comparisons: &[Comparison], params: usize, inputs: usize) {
    assert_eq!(comparisons.len(), params + inputs, "{what}: not every derivative was checked");
    assert_agree(what, comparisons, REL, ABS);
}

/// Checks a 3-input, 2-output network under Mse and CrossEntropy on a batch of 6.
fn check_losses<N>(name: &str, mut net: N)
where
    N: NetworkMut<Scalar = f64, Input = SVector<f64, 3>, Output = SVector<f64, 2>>,
{
    let x = vectors::<3>(6, 10, -2.0, 2.0);
    let t = vectors::<2>(6, 11, -1.0, 1.0);
    let classes: Vec<usize> = (0..6).map(|i| i % 2).collect();
    let mse = check_network(&mut net, &x, &t, &Mse);
    check(&format!("{name} with Mse"), &mse, N::PARAMS, x.len() * 3);
    let ce = check_network(&mut net, &x, &classes, &CrossEntropy);
    check(&format!("{name} with CrossEntropy"), &ce, N::PARAMS, x.len() * 3);
}

#[test]
fn elu_networks_backpropagate_exactly() {
    for seed in 0..3 {
        check_losses("Elu(1), Elu(0.5)", EluNet::new(&mut ChaCha8Rng::seed_from_u64(seed)));
        check_losses("Elu(2)", EluWide::new(&mut ChaCha8Rng::seed_from_u64(seed)));
    }
}

#[test]
fn bru_networks_backpropagate_exactly() {
    for seed in 0..3 {
        check_losses("Bru(2), Bru(0.5)", BruNet::new(&mut ChaCha8Rng::seed_from_u64(seed)));
        check_losses("Bru(1)", BruOne::new(&mut ChaCha8Rng::seed_from_u64(seed)));
        check_losses("Bru(3)", BruThree::new(&mut ChaCha8Rng::seed_from_u64(seed)));
    }
}

#[test]
fn mixed_network_backpropagates_exactly_with_bce() {
    let mut net = Mixed::new(&mut ChaCha8Rng::seed_from_u64(4));
    let x = vectors::<3>(5, 12, -2.0, 2.0);
    let t = vectors::<2>(5, 13, 0.0, 1.0);
    let c = check_network(&mut net, &x, &t, &BinaryCrossEntropy);
    check("Mixed with BinaryCrossEntropy", &c, Mixed::PARAMS, 15);
}

#[test]
fn no_gradient_passes_a_step() {
    // Only the layer after the step learns: the first Dense gets zero
    // gradient, by backpropagation and by finite differences alike.
    let mut net = Stepped::new(&mut ChaCha8Rng::seed_from_u64(5));
    let x = vectors::<3>(6, 14, -2.0, 2.0);
    let t = vectors::<2>(6, 15, -1.0, 1.0);
    let c = check_network(&mut net, &x, &t, &Mse);
    check("Stepped with Mse", &c, Stepped::PARAMS, 18);
    let first = Stepped::LAYERS[0].params;
    for c in &c {
        match c.wrt {
            Wrt::Param(i) if i < first => assert_eq!(c.analytic, 0.0, "{:?}", c.wrt),
            Wrt::Input(_) => assert_eq!(c.analytic, 0.0, "{:?}", c.wrt),
            Wrt::Param(_) => {}
        }
    }
    assert!(c.iter().any(|c| matches!(c.wrt, Wrt::Param(i) if i >= first) && c.analytic != 0.0));
}

// --- examples/perceptron.rs -------------------------------------------------

network! {
    struct Neuron<f64> { input: 2, Dense(1), Step }
    struct TwoLayer<f64> { input: 2, Dense(4), Tanh, Dense(1), Sigmoid }
}

const CORNERS: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];

fn gate(f: fn(bool, bool) -> bool) -> [f64; 4] {
    CORNERS.map(|[a, b]| f64::from(u8::from(f(a == 1.0, b == 1.0))))
}

fn all_correct(neuron: &Neuron, t: &[f64; 4]) -> bool {
    CORNERS.iter().zip(t).all(|(x, &t)| neuron.forward(&Vector2::from(*x))[0] == t)
}

/// The perceptron rule through `params_mut()` (`[w₁, w₂, b]`): the epochs it
/// took to classify every corner, or `None`. Checks after every epoch that
/// the neuron is not right by accident.
fn perceptron(neuron: &mut Neuron, t: &[f64; 4], eta: f64, max_epochs: usize) -> Option<usize> {
    for epoch in 1..=max_epochs {
        let mut updates = 0;
        for (x, &t) in CORNERS.iter().zip(t) {
            let error = t - neuron.forward(&Vector2::from(*x))[0];
            if error != 0.0 {
                let p = neuron.params_mut();
                p[0] += eta * error * x[0];
                p[1] += eta * error * x[1];
                p[2] += eta * error;
                updates += 1;
            }
        }
        if updates == 0 {
            assert!(all_correct(neuron, t));
            return Some(epoch);
        }
    }
    None
}

#[test]
fn the_perceptron_rule_learns_and_and_or_from_any_start() {
    for seed in 0..20 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for (name, f) in [("AND", (|a, b| a && b) as fn(bool, bool) -> bool), ("OR", |a, b| a || b)]
        {
            let t = gate(f);
            let mut neuron = Neuron::new(&mut rng);
            let epochs = perceptron(&mut neuron, &t, 0.1, 100);
            assert!(epochs.is_some(), "{name} from seed {seed}: no convergence");
            assert!(all_correct(&neuron, &t), "{name} from seed {seed}");
        }
    }
}

#[test]
fn the_perceptron_rule_never_learns_xor() {
    let xor = gate(|a, b| a != b);
    for seed in 0..20 {
        let mut neuron = Neuron::new(&mut ChaCha8Rng::seed_from_u64(seed));
        for eta in [0.01, 0.1, 1.0] {
            assert_eq!(perceptron(&mut neuron, &xor, eta, 200), None, "seed {seed}, η {eta}");
            assert!(!all_correct(&neuron, &xor));
        }
    }
}

#[test]
fn backpropagation_through_a_step_neuron_is_zero() {
    let neuron = Neuron::new(&mut ChaCha8Rng::seed_from_u64(7));
    let x: Vec<Vector2<f64>> = CORNERS.iter().map(|c| Vector2::from(*c)).collect();
    let t: Vec<Vector1<f64>> = gate(|a, b| a != b).iter().map(|&t| Vector1::new(t)).collect();
    let mut grads = neuron.zero_grads();
    let loss = neuron.backprop(&x, &t, &Mse, &mut grads);
    assert!(loss > 0.0);
    assert_eq!(grads.as_slice(), [0.0; 3]);
}

#[test]
fn two_layers_learn_xor_by_backpropagation() {
    let x: Vec<Vector2<f64>> = CORNERS.iter().map(|c| Vector2::from(*c)).collect();
    let xor = gate(|a, b| a != b);
    let t: Vec<Vector1<f64>> = xor.iter().map(|&t| Vector1::new(t)).collect();
    let data = Dataset::new(x, t).unwrap();
    // The example's seed, and a few others: full-batch SGD with lr 1.
    for seed in [1, 2, 3] {
        let mut net = TwoLayer::new(&mut ChaCha8Rng::seed_from_u64(seed));
        let history = Trainer::new(BinaryCrossEntropy, Sgd::with_lr(1.0).unwrap())
            .epochs(2000)
            .batch_size(4)
            .shuffle(false)
            .progress(Progress::Silent)
            .fit(&mut net, &data, None)
            .unwrap();
        let last = history.last().unwrap();
        assert!(last.train_loss < 0.05, "seed {seed}: loss {}", last.train_loss);
        for (x, &t) in data.inputs().iter().zip(&xor) {
            let y = net.forward(x)[0];
            assert!((y - t).abs() < 0.1, "seed {seed}: {x:?} gives {y}, not {t}");
        }
    }
}

// --- examples/blobs.rs ------------------------------------------------------

network! {
    /// Linear: no activation between the Dense layers.
    struct BlobNet<f32> { input: 2, Dense(5), Dense(1), Sigmoid }
}

#[test]
fn two_blobs_are_separated_by_the_linear_network() {
    let (points, labels) =
        synthetic::blobs::<f32>(1000, vec![[2.0, 1.0], [8.0, 7.5]], 3.0, 42).into_parts();
    let targets = labels.iter().map(|&l| Vector1::new(l as f32)).collect();
    let mut train = Dataset::new(points, targets).unwrap();
    let test = train.split_off(800);
    let mut net = BlobNet::new(&mut ChaCha8Rng::seed_from_u64(42));
    let history = Trainer::new(BinaryCrossEntropy, Sgd::with_lr(0.05).unwrap())
        .epochs(1000)
        .batch_size(800)
        .progress(Progress::Silent)
        .fit(&mut net, &train, Some(&test))
        .unwrap();
    let losses: Vec<f64> = history.epochs.iter().map(|r| r.train_loss).collect();
    assert!(losses[999] < losses[99] && losses[99] < losses[0], "{losses:?}");
    let train_acc = evaluate(&net, &BinaryCrossEntropy, &train).unwrap().accuracy.unwrap();
    let test_acc = evaluate(&net, &BinaryCrossEntropy, &test).unwrap().accuracy.unwrap();
    // The blobs overlap: about 93 % is the best any classifier can do.
    assert!(train_acc > 0.90 && test_acc > 0.85, "train {train_acc}, test {test_acc}");
    assert!(test_acc < 0.97, "better than the Bayes rate: {test_acc}");
}

// --- examples/sequential.rs -------------------------------------------------

network! {
    struct Logits<f32> { input: 5, Dense(8), ReLU, Dense(4), ReLU, Dense(2) }
    struct Dropped<f32> {
        input: 5, Dense(8), ReLU, Dropout(0.2), Dense(4), ReLU, Dropout(0.2), Dense(2)
    }
    struct Textbook<f32> { input: 5, Dense(8), ReLU, Dense(4), ReLU, Dense(2), Softmax }
}

type Point = SVector<f32, 5>;

fn noisy_rule(n: usize, rng: &mut ChaCha8Rng) -> Dataset<Point, usize> {
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let x = Point::from_fn(|_, _| {
            let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        });
        let label = usize::from(x[0] + x[1] - x[2] + 0.5 * x[3] * x[4] > 0.0);
        labels.push(label ^ usize::from(rng.random::<f64>() < 0.2));
        points.push(x);
    }
    Dataset::new(points, labels).unwrap()
}

fn fit<N>(net: &mut N, train: &Dataset<Point, usize>, valid: &Dataset<Point, usize>, early: bool)
where
    N: NetworkMut<Scalar = f32, Input = Point, Output = SVector<f32, 2>>,
{
    let adam = Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }).unwrap();
    let mut trainer = Trainer::new(CrossEntropy, adam)
        .epochs(1000)
        .batch_size(10)
        .seed(3)
        .progress(Progress::Silent);
    if early {
        trainer =
            trainer.early_stopping(EarlyStopping { patience: 50, ..EarlyStopping::default() });
    }
    trainer.fit(net, train, Some(valid)).unwrap();
}

#[test]
fn dropout_and_early_stopping_lower_the_validation_loss_of_an_overfitting_net() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let train = noisy_rule(100, &mut rng);
    let valid = noisy_rule(200, &mut rng);
    let test = noisy_rule(5000, &mut rng);
    let textbook = Textbook::new(&mut ChaCha8Rng::seed_from_u64(3));
    let mut plain = Logits::new(&mut ChaCha8Rng::seed_from_u64(0));
    plain.params_mut().copy_from_slice(textbook.params());
    let mut both = Dropped::new(&mut ChaCha8Rng::seed_from_u64(0));
    both.params_mut().copy_from_slice(textbook.params());
    fit(&mut plain, &train, &valid, false);
    fit(&mut both, &train, &valid, true);

    let p_train = evaluate(&plain, &CrossEntropy, &train).unwrap();
    let p_valid = evaluate(&plain, &CrossEntropy, &valid).unwrap();
    let p_test = evaluate(&plain, &CrossEntropy, &test).unwrap();
    let b_valid = evaluate(&both, &CrossEntropy, &valid).unwrap();
    let b_test = evaluate(&both, &CrossEntropy, &test).unwrap();
    // The plain run over-fits: far better on its training points than on new ones.
    assert!(p_train.loss < 0.5 * p_valid.loss, "{p_train:?} {p_valid:?}");
    // The cures: lower validation and test losses, and no worse accuracy.
    assert!(b_valid.loss < p_valid.loss, "{b_valid:?} {p_valid:?}");
    assert!(b_test.loss < p_test.loss, "{b_test:?} {p_test:?}");
    assert!(b_test.accuracy >= p_test.accuracy, "{b_test:?} {p_test:?}");

    // The textbook network with the trained weights gives the softmax of the logits.
    let mut probs = Textbook::new(&mut ChaCha8Rng::seed_from_u64(0));
    probs.params_mut().copy_from_slice(both.params());
    for x in &test.inputs()[..10] {
        let (p, z) = (probs.forward(x), both.forward(x));
        assert!((p.sum() - 1.0).abs() < 1e-6);
        let softmax = z.map(|v| (v - z.max()).exp()) / z.map(|v| (v - z.max()).exp()).sum();
        assert!((p - softmax).amax() < 1e-6, "{p:?} {softmax:?}");
    }
}

// --- examples/gradient_check.rs ---------------------------------------------

network! {
    struct Small<f64> { input: 3, Dense(4), Tanh, Dense(2) }
}

#[test]
fn the_gradient_check_names_every_parameter_after_pytorch() {
    // `LAYERS` lays out the flat parameters as `state_dict` tensors.
    let tensors: Vec<_> = Small::LAYERS.iter().flat_map(|l| l.tensors).collect();
    let names: Vec<&str> = tensors.iter().map(|t| t.name).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let shapes: Vec<&[usize]> = tensors.iter().map(|t| t.shape).collect();
    assert_eq!(shapes, [&[4, 3][..], &[4], &[2, 4], &[2]]);
    let offsets: Vec<usize> = tensors.iter().map(|t| t.offset).collect();
    assert_eq!(offsets, [0, 12, 16, 24]);
    assert_eq!(tensors.iter().map(|t| t.len).sum::<usize>(), Small::PARAMS);

    let mut net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let x = vectors::<3>(4, 1, -2.0, 2.0);
    let c = check_network(&mut net, &x, &[1, 0, 1, 0], &CrossEntropy);
    check("Small with CrossEntropy", &c, 26, 12);
}

// --- examples/mnist_regression.rs -------------------------------------------

network! {
    struct Regressor<f32> { input: 784, Dense(32), ReLU, Dense(1) }
    struct Classifier<f32> { input: 784, Dense(32), ReLU, Dense(10) }
}

/// On a fifth of MNIST for one epoch: rounding a regression output names
/// the digit far less often than a classifier with the same hidden layer.
#[test]
fn mnist_as_regression_is_worse_than_classification() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist"));
    if !dir.exists() {
        eprintln!("skipping: MNIST not found at {}", dir.display());
        return;
    }
    let data = mnist::load::<f32>(&dir).unwrap();
    let (images, labels) = data.train.into_parts();
    let n = 12_000;
    let classes = Dataset::new(images[..n].to_vec(), labels[..n].to_vec()).unwrap();
    let values = Dataset::new(
        images[..n].to_vec(),
        labels[..n].iter().map(|&l| Vector1::new(l as f32)).collect(),
    )
    .unwrap();
    let adam = || Adam::new(AdamConfig { lr: 1e-3, ..AdamConfig::default() }).unwrap();

    let mut regressor = Regressor::new(&mut ChaCha8Rng::seed_from_u64(0));
    Trainer::new(Mse, adam())
        .epochs(1)
        .batch_size(64)
        .progress(Progress::Silent)
        .fit(&mut regressor, &values, None)
        .unwrap();
    let outputs = regressor.forward_batch(data.test.inputs());
    let hits = outputs
        .iter()
        .zip(data.test.targets())
        .filter(|(y, l)| y[0].round().clamp(0.0, 9.0) as usize == **l)
        .count();
    let regression = hits as f64 / data.test.len() as f64;

    let mut classifier = Classifier::new(&mut ChaCha8Rng::seed_from_u64(0));
    Trainer::new(CrossEntropy, adam())
        .epochs(1)
        .batch_size(64)
        .progress(Progress::Silent)
        .fit(&mut classifier, &classes, None)
        .unwrap();
    let classification =
        evaluate(&classifier, &CrossEntropy, &data.test).unwrap().accuracy.unwrap();

    // Better than chance (10 %), far worse than the classifier.
    assert!(regression > 0.15, "regression {regression}");
    assert!(classification > 0.85, "classification {classification}");
    assert!(classification > regression + 0.4, "{classification} vs {regression}");
}
