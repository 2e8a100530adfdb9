//! The textbook 5 → 8 → 4 → 2 network, over-fitting, and two cures:
//! dropout and early stopping.
//!
//! ```text
//! cargo run --release --example sequential              # plots in target/
//! cargo run --release --example sequential -- runs/seq  # runs/seq-*.svg and .png
//! ```
//!
//! The task: points in five dimensions (standard normal), class 1 when
//! `x₁ + x₂ − x₃ + ½ x₄ x₅ > 0`, with a fifth of the labels flipped at
//! random (label noise: no classifier can expect more than 80 %). Only 100 points
//! train, few enough for the network to learn their noise; 200 more decide
//! when to stop (validation) and 5,000 others, never looked at during
//! training, judge the result (test). Everything is seeded: the run is the
//! same every time.
//!
//! The network trains four times from the same initial weights, with Adam
//! (lr 0.01, batches of 10) for up to 1,000 epochs: plainly, with dropout
//! after each hidden layer, with early stopping on the validation loss
//! (patience 50, best weights restored), and with both. Over-fitting shows
//! as a validation loss that climbs while the training loss stays low; both
//! cures keep it down. (With seeds 1 to 8 for the data, the initial
//! weights and the shuffles, dropout and early stopping together gave a
//! lower test loss than the plain run every time, and a higher test
//! accuracy six times of eight; the printed run is seed 3.)

use std::path::PathBuf;

use perceptra::prelude::*;
use perceptra::rand::RngExt;
use perceptra::{Evaluation, FitError, History};

network! {
    /// The network as the notes draw it: two ReLU hidden layers and softmax
    /// probabilities out.
    pub struct Textbook<f32> {
        input: 5,
        Dense(8), ReLU,
        Dense(4), ReLU,
        Dense(2), Softmax,
    }

    /// The same layers without the final `Softmax`: it outputs logits.
    /// perceptra's `CrossEntropy`, like PyTorch's `nn.CrossEntropyLoss`,
    /// takes logits and applies the (log-)softmax itself, in one stable
    /// step; putting it after a `Softmax` layer would apply softmax twice.
    /// So we train this one, and copy its weights into `Textbook` (the
    /// parameters are the same: `Softmax` has none) to read probabilities.
    pub struct Logits<f32> {
        input: 5,
        Dense(8), ReLU,
        Dense(4), ReLU,
        Dense(2),
    }

    /// `Logits` with dropout after each hidden layer (active in training
    /// only). Its parameters are laid out as `Logits`'s: dropout has none.
    pub struct Dropped<f32> {
        input: 5,
        Dense(8), ReLU, Dropout(0.2),
        Dense(4), ReLU, Dropout(0.2),
        Dense(2),
    }
}

type Point = SVector<f32, 5>;

const TRAIN: usize = 100;
const VALID: usize = 200;
const TEST: usize = 5000;
const NOISE: f64 = 0.2;
const EPOCHS: usize = 1000;
const PATIENCE: usize = 50;
const SEED: u64 = 3;

/// The rule the labels follow, before noise.
fn rule(x: &Point) -> usize {
    usize::from(x[0] + x[1] - x[2] + 0.5 * x[3] * x[4] > 0.0)
}

/// `n` standard normal points, labelled by `rule`, each label flipped with
/// probability `NOISE`.
fn dataset(n: usize, rng: &mut ChaCha8Rng) -> Dataset<Point, usize> {
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        // Box–Muller, so that only `rand`'s uniform draws are needed.
        let x = Point::from_fn(|_, _| {
            let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
        });
        let flip = rng.random::<f64>() < NOISE;
        labels.push(rule(&x) ^ usize::from(flip));
        points.push(x);
    }
    Dataset::new(points, labels).expect("one label per point")
}

fn print_history(title: &str, history: &History) {
    println!("{title}");
    println!("  epoch | train loss     acc | valid loss     acc");
    let every = (history.epochs.len() / 10).max(1);
    let rows = history.epochs.iter().filter(|r| r.epoch == 1 || r.epoch % every == 0);
    let last = history.last().filter(|r| r.epoch % every != 0);
    for r in rows.chain(last) {
        println!(
            "  {:>5} | {:>10.4} {:>6.1}% | {:>10.4} {:>6.1}%",
            r.epoch,
            r.train_loss,
            100.0 * r.train_accuracy.unwrap_or(0.0),
            r.valid_loss.unwrap_or(f64::NAN),
            100.0 * r.valid_accuracy.unwrap_or(0.0)
        );
    }
}

/// Trains `net` from its current weights with Adam, on `train`, validating
/// on `valid` after every epoch; with early stopping if asked.
fn train<N>(
    net: &mut N,
    train: &Dataset<Point, usize>,
    valid: &Dataset<Point, usize>,
    early_stopping: bool,
) -> Result<History, Box<dyn std::error::Error>>
where
    N: NetworkMut<Scalar = f32, Input = Point, Output = SVector<f32, 2>>,
{
    let adam = Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() })?;
    let mut trainer = Trainer::new(CrossEntropy, adam)
        .epochs(EPOCHS)
        .batch_size(10)
        .seed(SEED)
        .progress(Progress::Silent);
    if early_stopping {
        // Stop once the validation loss has not improved for PATIENCE
        // epochs, and put back the weights of its best epoch.
        trainer = trainer.early_stopping(EarlyStopping {
            monitor: Metric::ValidLoss,
            patience: PATIENCE,
            min_delta: 0.0,
            restore_best: true,
        });
    }
    Ok(trainer.fit(net, train, Some(valid))?)
}

/// Loss and accuracy of `net` on each of `sets`, in inference mode.
fn scores<N>(net: &N, sets: [&Dataset<Point, usize>; 3]) -> Result<[Evaluation; 3], FitError>
where
    N: Network<Scalar = f32, Input = Point, Output = SVector<f32, 2>>,
{
    let [a, b, c] = sets.map(|d| evaluate(net, &CrossEntropy, d));
    Ok([a?, b?, c?])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stem = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/sequential"), PathBuf::from);
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let train_set = dataset(TRAIN, &mut rng);
    let valid_set = dataset(VALID, &mut rng);
    let test_set = dataset(TEST, &mut rng);

    let mut textbook = Textbook::new(&mut ChaCha8Rng::seed_from_u64(SEED));
    println!("{}\n", textbook.summary());
    println!(
        "{TRAIN} training points, {VALID} validation points, {TEST} test points; \
         {:.0}% of the labels flipped (so at best {:.0}% accuracy)\n",
        100.0 * NOISE,
        100.0 * (1.0 - NOISE)
    );

    // Every run starts from these weights (the layouts agree: Softmax and
    // Dropout have no parameters).
    let initial = textbook.params().to_vec();
    let plain = || {
        let mut net = Logits::new(&mut ChaCha8Rng::seed_from_u64(0));
        net.params_mut().copy_from_slice(&initial);
        net
    };
    let dropped = || {
        let mut net = Dropped::new(&mut ChaCha8Rng::seed_from_u64(0));
        net.params_mut().copy_from_slice(&initial);
        net
    };

    // 1. Plain: no dropout, no early stopping, every epoch.
    let mut plain_net = plain();
    let plain_history = train(&mut plain_net, &train_set, &valid_set, false)?;
    print_history("Without dropout or early stopping:", &plain_history);

    // 2. Dropout and early stopping.
    let mut both_net = dropped();
    let both_history = train(&mut both_net, &train_set, &valid_set, true)?;
    print_history(
        &format!("\nWith Dropout(0.2) and early stopping (patience {PATIENCE}):"),
        &both_history,
    );
    let best = both_history
        .epochs
        .iter()
        .min_by(|a, b| {
            a.valid_loss.unwrap_or(f64::INFINITY).total_cmp(&b.valid_loss.unwrap_or(f64::INFINITY))
        })
        .map_or(0, |r| r.epoch);
    println!(
        "  stopped after epoch {}; weights restored from epoch {best}, the lowest validation loss",
        both_history.epochs.len()
    );

    // Each cure alone, for comparison.
    let mut dropout_net = dropped();
    train(&mut dropout_net, &train_set, &valid_set, false)?;
    let mut stopped_net = plain();
    train(&mut stopped_net, &train_set, &valid_set, true)?;

    // The comparison: the validation set chose when to stop, so the test
    // set, which no run has seen, is the fair judge.
    println!("\n  {:<24} | train loss     acc | valid loss     acc |  test loss     acc", "run");
    let sets = [&train_set, &valid_set, &test_set];
    let rows = [
        ("plain", scores(&plain_net, sets)?),
        ("dropout only", scores(&dropout_net, sets)?),
        ("early stopping only", scores(&stopped_net, sets)?),
        ("dropout + early stopping", scores(&both_net, sets)?),
    ];
    for (name, [tr, va, te]) in &rows {
        println!(
            "  {name:<24} | {:>10.4} {:>6.1}% | {:>10.4} {:>6.1}% | {:>10.4} {:>6.1}%",
            tr.loss,
            100.0 * tr.accuracy.unwrap_or(0.0),
            va.loss,
            100.0 * va.accuracy.unwrap_or(0.0),
            te.loss,
            100.0 * te.accuracy.unwrap_or(0.0)
        );
    }
    let ([_, plain_va, plain_te], [_, both_va, both_te]) = (rows[0].1, rows[3].1);
    println!(
        "  dropout + early stopping vs plain: validation loss {:.4} → {:.4} ({:+.4}), \
         test loss {:.4} → {:.4} ({:+.4}), test accuracy {:+.1} points",
        plain_va.loss,
        both_va.loss,
        both_va.loss - plain_va.loss,
        plain_te.loss,
        both_te.loss,
        both_te.loss - plain_te.loss,
        100.0 * (both_te.accuracy.unwrap_or(0.0) - plain_te.accuracy.unwrap_or(0.0))
    );

    // The trained weights in the textbook network: probabilities out.
    textbook.params_mut().copy_from_slice(both_net.params());
    println!("\nThe textbook network (with Softmax) and the trained weights, on five test points:");
    for (x, &t) in test_set.inputs().iter().zip(test_set.targets()).take(5) {
        let p = textbook.forward(x);
        println!("  P(class 0) = {:.3}, P(class 1) = {:.3}; label {t}", p[0], p[1]);
    }

    println!();
    for (name, history) in [("plain", &plain_history), ("regularised", &both_history)] {
        let files = history.plot(format!("{}-{name}", stem.display()))?;
        println!("curves: {} and {}", files.svg.display(), files.png.display());
    }
    Ok(())
}
