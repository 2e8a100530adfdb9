//! MNIST as regression: one output, trained with the mean squared error to
//! predict the digit's value, against the same hidden layer trained as a
//! classifier with cross-entropy.
//!
//! ```text
//! MNIST_DIR=../shared/data/mnist cargo run --release --example mnist_regression
//! ```
//!
//! MNIST is read from `$MNIST_DIR` (default `data/mnist`), raw or gzipped,
//! and downloaded there (checked by SHA-256) when it is missing.
//!
//! The regression network's answer is a number: rounded to the nearest
//! integer (and clamped to 0…9) it names a digit, which gives an accuracy to
//! compare with the classifier's. Regression pretends the labels are
//! quantities: that a 7 lies between a 6 and an 8, and that mistaking a 1
//! for a 7 is six times worse than for a 2. A 4 that looks like a 9 is
//! pulled towards 6.5, which is neither: classification, with one output per
//! class and no order between them, has no such problem.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use perceptra::EpochReport;
use perceptra::data::mnist::{self, Image};
use perceptra::prelude::*;

network! {
    /// One hidden layer, one output: the predicted value of the digit.
    struct Regressor<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(1),
    }

    /// The same hidden layer, ten outputs: the logits of the ten classes.
    struct Classifier<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(10),
    }
}

const EPOCHS: usize = 10;
const BATCH: usize = 64;
const LR: f64 = 1e-3;
const SEED: u64 = 0;

/// The digit a regression output names: the nearest integer in 0…9.
fn rounded(y: f32) -> usize {
    y.round().clamp(0.0, 9.0) as usize
}

fn print_epoch(r: &EpochReport, what: &str) {
    let valid = r.valid_loss.unwrap_or(f64::NAN);
    match r.valid_accuracy {
        Some(acc) => println!(
            "  epoch {:>2}/{}: training {what} {:.4}, test {what} {valid:.4}, test accuracy {:.2}%  ({:.2} s)",
            r.epoch,
            r.epochs,
            r.train_loss,
            100.0 * acc,
            r.seconds
        ),
        None => println!(
            "  epoch {:>2}/{}: training {what} {:.4}, test {what} {valid:.4} (RMS error {:.2} digits)  ({:.2} s)",
            r.epoch,
            r.epochs,
            r.train_loss,
            valid.sqrt(),
            r.seconds
        ),
    }
}

fn run(data: &mnist::Mnist<f32>) -> Result<(), Box<dyn Error>> {
    let adam = || Adam::new(AdamConfig { lr: LR, ..AdamConfig::default() });

    // Regression: targets are the labels as numbers, `[7.0]` for a 7.
    let as_values = |d: &Dataset<Image<f32>, usize>| {
        let targets = d.targets().iter().map(|&l| Vector1::new(l as f32)).collect();
        Dataset::new(d.inputs().to_vec(), targets)
    };
    let (train, test) = (as_values(&data.train)?, as_values(&data.test)?);
    let mut regressor = Regressor::new(&mut ChaCha8Rng::seed_from_u64(SEED));
    println!("{}\n", regressor.summary());
    println!("Regression: Mse on the digit's value, Adam (lr {LR}), batches of {BATCH}");
    let start = Instant::now();
    Trainer::new(Mse, adam()?)
        .epochs(EPOCHS)
        .batch_size(BATCH)
        .seed(SEED)
        .progress(Progress::Silent)
        .on_epoch(|r| {
            print_epoch(r, "MSE");
            Control::Continue
        })
        .fit(&mut regressor, &train, Some(&test))?;
    let regression_seconds = start.elapsed().as_secs_f64();

    // The accuracy of the rounded outputs, computed from a batched pass.
    let outputs = regressor.forward_batch(data.test.inputs());
    let labels = data.test.targets();
    let predicted: Vec<usize> = outputs.iter().map(|y| rounded(y[0])).collect();
    let n = labels.len() as f64;
    let hits = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    let off_by_one = predicted.iter().zip(labels).filter(|(p, l)| p.abs_diff(**l) == 1).count();
    let mean_abs =
        outputs.iter().zip(labels).map(|(y, &l)| f64::from((y[0] - l as f32).abs())).sum::<f64>()
            / n;
    let regression_accuracy = hits as f64 / n;
    println!(
        "  rounded to the nearest digit: test accuracy {:.2}%; {:.2}% off by one, {:.2}% further; \
         mean |error| {mean_abs:.3}",
        100.0 * regression_accuracy,
        100.0 * off_by_one as f64 / n,
        100.0 * (n - (hits + off_by_one) as f64) / n
    );

    // Classification: the same hidden layer, ten logits, cross-entropy.
    let mut classifier = Classifier::new(&mut ChaCha8Rng::seed_from_u64(SEED));
    println!("\n{}\n", classifier.summary());
    println!("Classification: CrossEntropy on the class, the same optimizer and epochs");
    let start = Instant::now();
    Trainer::new(CrossEntropy, adam()?)
        .epochs(EPOCHS)
        .batch_size(BATCH)
        .seed(SEED)
        .progress(Progress::Silent)
        .on_epoch(|r| {
            print_epoch(r, "loss");
            Control::Continue
        })
        .fit(&mut classifier, &data.train, Some(&data.test))?;
    let classification_seconds = start.elapsed().as_secs_f64();
    let logits = classifier.forward_batch(data.test.inputs());
    let classes: Vec<usize> = logits.iter().map(|y| y.argmax().0).collect();
    let classification_accuracy =
        classes.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / n;

    // Digit by digit: regression's mean outputs lean towards the middle (4.5),
    // where every uncertain answer is pulled.
    println!("\n  digit | regression: accuracy  mean output | classification: accuracy");
    for digit in 0..10 {
        let of = |p: &[usize]| {
            let (mut total, mut right) = (0, 0);
            for (p, &l) in p.iter().zip(labels) {
                if l == digit {
                    total += 1;
                    right += usize::from(*p == digit);
                }
            }
            100.0 * right as f64 / total.max(1) as f64
        };
        let mean = outputs.iter().zip(labels).filter(|(_, l)| **l == digit).map(|(y, _)| y[0]);
        let count = labels.iter().filter(|l| **l == digit).count() as f32;
        println!(
            "      {digit} |             {:6.2}%  {:11.2} |                  {:6.2}%",
            of(&predicted),
            mean.sum::<f32>() / count,
            of(&classes)
        );
    }
    println!(
        "\nsame hidden layer, {EPOCHS} epochs each: regression {:.2}% ({regression_seconds:.1} s), \
         classification {:.2}% ({classification_seconds:.1} s): {:.2} points for treating \
         digits as classes rather than numbers",
        100.0 * regression_accuracy,
        100.0 * classification_accuracy,
        100.0 * (classification_accuracy - regression_accuracy)
    );
    Ok(())
}

fn main() -> ExitCode {
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    let result =
        mnist::load_or_download::<f32>(&dir).map_err(Box::<dyn Error>::from).and_then(|data| {
            println!(
                "MNIST from {}: {} training and {} test images\n",
                dir.display(),
                data.train.len(),
                data.test.len()
            );
            run(&data)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
