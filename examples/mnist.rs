//! Trains a 784-128-10 perceptron on MNIST with SGD and reports its test
//! accuracy.
//!
//! ```text
//! MNIST_DIR=../shared/data/mnist cargo run --release --example mnist
//! cargo run --release --example mnist -- --epochs 5 --seed 7
//! ```
//!
//! MNIST is read from `$MNIST_DIR` (default `data/mnist`), raw or gzipped.
//! The settings are those of the PyTorch reference in `../shared/bench`:
//! SGD with learning rate 0.1, batches of 32, 10 epochs. As in PyTorch's own
//! MNIST example, the test set is evaluated after every epoch (the `val_`
//! columns); it never takes part in training.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use perceptra::data::mnist;
use perceptra::prelude::*;

network! {
    /// A multilayer perceptron for 28×28 digits: 784 pixels in, 10 logits out.
    pub struct Mnist<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(128 => 10),
    }
}

/// `--epochs N` and `--seed N`, with the reference's defaults.
struct Args {
    epochs: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { epochs: 10, seed: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |_| format!("`{flag}` expects a whole number, found `{value}`");
        match flag.as_str() {
            "--epochs" => args.epochs = value.parse().map_err(bad)?,
            "--seed" => args.seed = value.parse().map_err(bad)?,
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; expected `--epochs N` or `--seed N`"
                ));
            }
        }
    }
    Ok(args)
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    let data = mnist::load::<f32>(&dir)?;
    println!(
        "MNIST from {}: {} training and {} test images",
        dir.display(),
        data.train.len(),
        data.test.len()
    );

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut net = Mnist::new(&mut rng);
    println!("{}\n", net.summary());

    let mut sgd = Sgd::with_lr(0.1)?;
    let config =
        TrainConfig { epochs: args.epochs, batch_size: 32, shuffle: true, seed: args.seed };
    let reports =
        train(&mut net, &CrossEntropy, &mut sgd, &data.train, Some(&data.test), &config, |r| {
            println!("{r}");
        })?;
    let seconds: f64 = reports.iter().map(|r| r.seconds).sum();
    println!("mean time per epoch: {:.3} s", seconds / reports.len().max(1) as f64);

    let test = evaluate(&net, &CrossEntropy, &data.test)?;
    println!("test accuracy: {:.2}%", 100.0 * test.accuracy.unwrap_or(0.0));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
