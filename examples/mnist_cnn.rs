//! A LeNet-style convolutional network on MNIST: two convolution and pooling
//! stages, then three dense layers.
//!
//! ```text
//! MNIST_DIR=../shared/data/mnist cargo run --release --example mnist_cnn
//! cargo run --release --example mnist_cnn -- --epochs 5 --seed 1
//! ```
//!
//! Adam with learning rate 1e-3 and batches of 64, as
//! `scripts/torch_lenet.py` trains the same network in PyTorch, with one
//! warm-up epoch and a cosine schedule after it. Prints one
//! line per epoch (the `val_` figures are the test set, never trained on) and
//! ends with `test accuracy: NN.NN%`.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use perceptra::CosineAnnealingLr;
use perceptra::data::mnist;
use perceptra::prelude::*;

network! {
    /// LeNet-5 with ReLU and max pooling; every shape below is checked when
    /// this compiles.
    pub struct LeNet<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),  // [6, 14, 14]
        Conv2d(16, kernel = 5), ReLU, MaxPool2d(2),              // [16, 5, 5]
        Flatten,                                                 // [400]
        Dense(120), ReLU,
        Dense(84), ReLU,
        Dense(10),
    }
}

fn flag(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let v = args.get(i + 1).ok_or_else(|| format!("`{name}` needs a value"))?;
            v.parse().map_err(|_| format!("`{name}` expects a whole number, found `{v}`"))
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(bad) = args.iter().step_by(2).find(|a| !matches!(a.as_str(), "--epochs" | "--seed"))
    {
        return Err(format!("unknown option `{bad}`; expected `--epochs N` or `--seed N`").into());
    }
    let epochs = flag(&args, "--epochs", 10)? as usize;
    let seed = flag(&args, "--seed", 0)?;
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    let data = mnist::load_or_download::<f32>(&dir)?;
    // The images are [1, 28, 28] already: 784 values, channel by row by column.
    let mut net = LeNet::new(&mut ChaCha8Rng::seed_from_u64(seed));
    println!("{}\n", net.summary());

    let adam = Adam::new(AdamConfig { lr: 1e-3, ..AdamConfig::default() })?;
    let history = Trainer::new(CrossEntropy, adam)
        .epochs(epochs)
        .batch_size(64)
        .seed(seed)
        // One warm-up epoch, then the rate anneals to 0 along a cosine.
        .schedule(CosineAnnealingLr::with_warmup(1, epochs.max(2) - 1, 0.0)?)
        .fit(&mut net, &data.train, Some(&data.test))?;
    let seconds = history.epochs.iter().fold(0.0, |s, r| s + r.seconds);
    println!(
        "training time: {seconds:.1} s, {:.2} s per epoch",
        seconds / history.epochs.len().max(1) as f64
    );
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
