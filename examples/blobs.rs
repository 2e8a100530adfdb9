//! Binary classification of two Gaussian blobs, the classic `make_blobs`
//! demo of deep-learning courses.
//!
//! ```text
//! cargo run --release --example blobs               # writes target/blobs.svg and .png
//! cargo run --release --example blobs -- runs/blobs  # or runs/blobs.svg and .png
//! ```
//!
//! The data: 1,000 points in the plane, half around each of two centers,
//! with standard deviation 3 on each axis (scikit-learn's
//! `make_blobs(n_samples=1000, centers=..., cluster_std=3)`), seeded. The
//! centers are fixed, (2, 1) and (8, 7.5), 8.85 apart: with that distance
//! `d` and `σ = 3`, the best any classifier can do is `Φ(d / 2σ) ≈ 93 %`
//! (the blobs overlap), which is what a PyTorch version of this demo
//! reaches. 800 points train, 200 are held out for testing.
//!
//! The network is the course's: `Dense(5)`, `Dense(1)`, `Sigmoid`, binary
//! cross-entropy, full-batch gradient descent for 1,000 epochs.

use std::path::PathBuf;

use perceptra::data::synthetic;
use perceptra::prelude::*;

network! {
    /// The notes' classifier. There is no activation between the two `Dense`
    /// layers, so they compose to a single affine map `w·x + b`: the whole
    /// network is logistic regression, and its decision boundary a line
    /// (which is all two Gaussian blobs of equal spread need).
    struct BlobNet<f32> {
        input: 2,
        Dense(5),
        Dense(1),
        Sigmoid,
    }
}

const SAMPLES: usize = 1000;
const STD: f64 = 3.0;
const CENTERS: [[f64; 2]; 2] = [[2.0, 1.0], [8.0, 7.5]];
const SEED: u64 = 42;
const EPOCHS: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stem =
        std::env::args_os().nth(1).map_or_else(|| PathBuf::from("target/blobs"), PathBuf::from);
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }

    // Labels 0 and 1 as `usize`; binary cross-entropy takes them as `[t]` in [0, 1].
    let blobs = synthetic::blobs::<f32>(SAMPLES, CENTERS.to_vec(), STD, SEED);
    let (points, labels) = blobs.into_parts();
    let targets: Vec<Vector1<f32>> = labels.iter().map(|&l| Vector1::new(l as f32)).collect();
    let mut train = Dataset::new(points, targets)?;
    let test = train.split_off(SAMPLES * 4 / 5); // the samples come shuffled
    println!(
        "{} points around {:?} and {:?}, σ = {STD}: {} to train, {} to test",
        SAMPLES,
        CENTERS[0],
        CENTERS[1],
        train.len(),
        test.len()
    );

    let mut net = BlobNet::new(&mut ChaCha8Rng::seed_from_u64(SEED));
    println!("{}\n", net.summary());

    let history = Trainer::new(BinaryCrossEntropy, Sgd::with_lr(0.05)?)
        .epochs(EPOCHS)
        .batch_size(train.len()) // full batch: one step per epoch
        .progress(Progress::Silent)
        .on_epoch(|r| {
            if r.epoch == 1 || r.epoch % 100 == 0 {
                println!(
                    "epoch {:>4} | loss {:.4}, accuracy {:5.1}% | test loss {:.4}, test accuracy {:5.1}%",
                    r.epoch,
                    r.train_loss,
                    100.0 * r.train_accuracy.unwrap_or(0.0),
                    r.valid_loss.unwrap_or(f64::NAN),
                    100.0 * r.valid_accuracy.unwrap_or(0.0),
                );
            }
            Control::Continue
        })
        // The held-out points are the plot's "validation" curves; nothing is
        // tuned on them.
        .fit(&mut net, &train, Some(&test))?;

    let train_eval = evaluate(&net, &BinaryCrossEntropy, &train)?;
    let test_eval = evaluate(&net, &BinaryCrossEntropy, &test)?;
    println!(
        "\nafter {} epochs: training accuracy {:.1}%, test accuracy {:.1}%",
        history.epochs.len(),
        100.0 * train_eval.accuracy.unwrap_or(0.0),
        100.0 * test_eval.accuracy.unwrap_or(0.0)
    );

    // The two Dense layers collapse into one line: w = W₂ W₁, b = W₂ b₁ + b₂.
    let p = net.params();
    let (w1, b1, w2, b2) = (&p[..10], &p[10..15], &p[15..20], p[20]);
    let w = [0, 1].map(|j| (0..5).map(|i| w2[i] * w1[2 * i + j]).sum::<f32>());
    let b = (0..5).map(|i| w2[i] * b1[i]).sum::<f32>() + b2;
    let sign = if b < 0.0 { '−' } else { '+' };
    println!(
        "the network is one linear boundary: {:.3}·x₁ + {:.3}·x₂ {sign} {:.3} = 0",
        w[0],
        w[1],
        b.abs()
    );

    let files = history.plot(&stem)?;
    println!("loss and accuracy curves: {} and {}", files.svg.display(), files.png.display());
    Ok(())
}
