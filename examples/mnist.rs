//! Trains a perceptron on MNIST and reports its test accuracy.
//!
//! ```text
//! MNIST_DIR=../shared/data/mnist cargo run --release --example mnist
//! cargo run --release --example mnist -- --model small --optimizer sgd --lr 0.1 --batch-size 32 --epochs 10
//! cargo run --release --example mnist -- --plot runs/curves --save runs/mnist.safetensors
//! cargo run --release --example mnist -- --checkpoints runs/ckpt --epochs 20
//! cargo run --release --example mnist -- --resume runs/ckpt/last.safetensors --epochs 30
//! ```
//!
//! MNIST is read from `$MNIST_DIR` (default `data/mnist`), raw or gzipped,
//! and downloaded there (checked by SHA-256) when it is missing. The
//! defaults are the best this example reaches in about a minute on two
//! cores; `--model small --optimizer sgd --lr 0.1 --batch-size 32` is the
//! PyTorch reference of `../shared/bench`. The test set is evaluated after
//! every epoch (the `val_` figures) and never trained on.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use perceptra::data::mnist;
use perceptra::prelude::*;
use perceptra::{Adadelta, Adagrad, CosineAnnealingLr, RmsProp};

network! {
    /// The reference perceptron: 784-128-10.
    pub struct Small<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(128 => 10),
    }

    /// Two hidden layers: 784-256-128-10.
    pub struct Medium<f32> {
        input: 784,
        Dense(256), ReLU,
        Dense(128), ReLU,
        Dense(10),
    }

    /// Wider, with dropout against over-fitting: 784-512-256-10.
    pub struct Large<f32> {
        input: 784,
        Dense(512), ReLU, Dropout(0.2),
        Dense(256), ReLU, Dropout(0.2),
        Dense(10),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    Small,
    Medium,
    Large,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Opt {
    Sgd,
    Momentum,
    Adam,
    Adamw,
    Rmsprop,
    Adagrad,
    Adadelta,
}

/// Trains a multilayer perceptron on MNIST.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// The network.
    #[arg(long, value_enum, default_value = "large")]
    model: Model,
    /// Passes over the training set (in all, when resuming).
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: Opt,
    /// Learning rate (default: 0.1 for sgd and momentum, 1.0 for adadelta, 1e-3 otherwise).
    #[arg(long)]
    lr: Option<f64>,
    /// Anneal the learning rate along a cosine, after one warm-up epoch.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    cosine: bool,
    /// Seed of the initial weights, the shuffles and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write loss and accuracy curves to PATH.svg and PATH.png.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    /// Save the trained weights (safetensors, PyTorch names) to this file.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Keep checkpoints (last, best, every 5 epochs) in this directory.
    #[arg(long, value_name = "DIR")]
    checkpoints: Option<PathBuf>,
    /// Continue the run saved in this checkpoint.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
}

fn optimizer(args: &Args) -> Result<Box<dyn Optimizer<f32>>, Box<dyn Error>> {
    let lr = args.lr.unwrap_or(match args.optimizer {
        Opt::Sgd | Opt::Momentum => 0.1,
        Opt::Adadelta => 1.0,
        _ => 1e-3,
    });
    Ok(match args.optimizer {
        Opt::Sgd => Box::new(Sgd::new(SgdConfig { lr, ..SgdConfig::default() })?),
        Opt::Momentum => Box::new(Sgd::new(SgdConfig {
            lr,
            momentum: 0.9,
            nesterov: true,
            ..SgdConfig::default()
        })?),
        Opt::Adam => Box::new(Adam::new(AdamConfig { lr, ..AdamConfig::default() })?),
        Opt::Adamw => Box::new(AdamW::new(AdamWConfig { lr, ..AdamWConfig::default() })?),
        Opt::Rmsprop => Box::new(RmsProp::<f32>::with_lr(lr)?),
        Opt::Adagrad => Box::new(Adagrad::<f32>::with_lr(lr)?),
        Opt::Adadelta => Box::new(Adadelta::<f32>::with_lr(lr)?),
    })
}

/// Trains any of the three networks the same way.
fn run<N>(mut net: N, args: &Args, data: &mnist::MnistPixels) -> Result<(), Box<dyn Error>>
where
    N: NetworkMut<Scalar = f32, Input = SVector<f32, 784>, Output = SVector<f32, 10>>,
{
    println!("{}\n", net.summary());
    let mut trainer = Trainer::new(CrossEntropy, optimizer(args)?)
        .epochs(args.epochs)
        .batch_size(args.batch_size)
        .seed(args.seed)
        .top_k(3);
    if args.cosine {
        trainer = trainer.schedule(CosineAnnealingLr::with_warmup(1, args.epochs.max(2) - 1, 0.0)?);
    }
    if let Some(dir) = &args.checkpoints {
        trainer = trainer.checkpoints(Checkpoints::new(dir).every(5).best(Metric::ValidAccuracy));
    }
    let history = match &args.resume {
        Some(file) => trainer.resume(&mut net, file, &data.train, Some(&data.test))?,
        None => trainer.fit(&mut net, &data.train, Some(&data.test))?,
    };

    let seconds = history.epochs.iter().fold(0.0, |s, r| s + r.seconds);
    let epochs = history.epochs.len().max(1);
    println!("training time: {seconds:.1} s, {:.2} s per epoch", seconds / epochs as f64);
    if let Some(stem) = &args.plot {
        let files = history.plot(stem)?;
        history.write_csv(stem.with_extension("csv"))?;
        println!("curves: {} and {}", files.svg.display(), files.png.display());
    }
    if let Some(file) = &args.save {
        net.save_weights(file)?;
        println!("weights: {}", file.display());
    }
    let test = evaluate(&net, &CrossEntropy, &data.test)?;
    println!("test accuracy: {:.2}%", 100.0 * test.accuracy.unwrap_or(0.0));
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    let result =
        mnist::load_or_download_pixels(&dir).map_err(Box::<dyn Error>::from).and_then(|data| {
            println!(
                "MNIST from {}: {} training and {} test images",
                dir.display(),
                data.train.len(),
                data.test.len()
            );
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
            match args.model {
                Model::Small => run(Small::new(&mut rng), &args, &data),
                Model::Medium => run(Medium::new(&mut rng), &args, &data),
                Model::Large => run(Large::new(&mut rng), &args, &data),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
