//! Training on the real MNIST files in `../shared/data/mnist` (skipped with a
//! message when they are absent).

use std::path::PathBuf;

use perceptra::data::{Dataset, mnist};
use perceptra::prelude::*;

network! {
    struct Mlp<f32> { input: 784, Dense(128), ReLU, Dense(128 => 10) }
}

fn data() -> Option<mnist::Mnist<f32>> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mnist"));
    if !dir.exists() {
        eprintln!("skipping: MNIST not found at {}", dir.display());
        return None;
    }
    Some(mnist::load(&dir).expect("the shared MNIST files load"))
}

/// One epoch of the reference configuration (SGD 0.1, batch 32) reaches the
/// accuracy PyTorch reaches after one epoch (94.7 %), within noise.
#[test]
fn one_epoch_of_sgd_learns_digits() {
    let Some(data) = data() else { return };
    let mut net = Mlp::new(&mut ChaCha8Rng::seed_from_u64(0));
    let history = Trainer::new(CrossEntropy, Sgd::with_lr(0.1).unwrap())
        .epochs(1)
        .batch_size(32)
        .progress(Progress::Lines)
        .fit(&mut net, &data.train, Some(&data.test))
        .unwrap();
    let accuracy = history.epochs[0].valid_accuracy.unwrap();
    assert!(accuracy >= 0.935, "test accuracy after one epoch: {accuracy}");
    let eval = evaluate(&net, &CrossEntropy, &data.test).unwrap();
    assert_eq!(eval.accuracy, Some(accuracy));
}

/// The same seed gives the same run, bit for bit; another seed does not.
#[test]
fn a_seed_fixes_the_run() {
    let Some(data) = data() else { return };
    let (inputs, targets) = data.train.into_parts();
    let subset = Dataset::new(inputs[..3000].to_vec(), targets[..3000].to_vec()).unwrap();
    let run = |seed: u64| {
        let mut net = Mlp::new(&mut ChaCha8Rng::seed_from_u64(seed));
        let sgd = Sgd::new(SgdConfig { lr: 0.05, momentum: 0.9, ..SgdConfig::default() }).unwrap();
        let history = Trainer::new(CrossEntropy, sgd)
            .epochs(2)
            .batch_size(64)
            .seed(seed)
            .progress(Progress::Silent)
            .fit(&mut net, &subset, None)
            .unwrap();
        (net.params().to_vec(), history.epochs.iter().map(|r| r.train_loss).collect::<Vec<_>>())
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert!(a.0.iter().zip(&b.0).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_eq!(a.1, b.1);
    assert_ne!(a.0, c.0);
}
