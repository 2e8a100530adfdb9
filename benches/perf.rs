//! `cargo bench`: the speed of one-sample and batched inference, of one
//! training step, and of an epoch, on MNIST-size networks and synthetic data
//! (so that it runs without the dataset). Compare with PyTorch by running
//! `examples/bench.rs` beside `../shared/bench/*.py` (see the README).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use perceptra::Workspace;
use perceptra::prelude::*;
use perceptra::rand::RngExt;

network! {
    /// 784-128-10.
    struct Small<f32> { input: 784, Dense(128), ReLU, Dense(10) }
    /// 784-256-128-10.
    struct Medium<f32> { input: 784, Dense(256), ReLU, Dense(128), ReLU, Dense(10) }
}

/// `n` MNIST-size samples with pixels in `[0, 1)` and labels `0..10`.
fn samples(n: usize, seed: u64) -> (Vec<SVector<f32, 784>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let inputs = (0..n).map(|_| SVector::from_fn(|_, _| rng.random::<f32>())).collect();
    let targets = (0..n).map(|_| rng.random_range(0..10usize)).collect();
    (inputs, targets)
}

fn inference(c: &mut Criterion) {
    let net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let (inputs, _) = samples(1000, 1);
    let mut group = c.benchmark_group("inference 784-128-10");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one sample", |b| b.iter(|| net.forward(black_box(&inputs[0]))));
    group.throughput(Throughput::Elements(1000));
    let mut outputs = vec![SVector::<f32, 10>::zeros(); 1000];
    let mut workspace = Workspace::new();
    group.bench_function("batch of 1000", |b| {
        b.iter(|| net.forward_batch_into(black_box(&inputs), &mut outputs, &mut workspace))
    });
    group.finish();
}

/// One step: gradients zeroed, forward and backward over the batch, the
/// optimizer's update.
fn step<N>(
    net: &mut N,
    optimizer: &mut dyn Optimizer<f32>,
    grads: &mut Gradients<f32>,
    inputs: &[N::Input],
    targets: &[usize],
) -> f32
where
    N: NetworkMut<Scalar = f32>,
    CrossEntropy: Loss<N::Output, Target = usize>,
{
    grads.zero();
    let loss = net.backprop(inputs, targets, &CrossEntropy, grads);
    optimizer.step(net.params_mut(), grads.as_slice());
    loss
}

fn training_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("training step");
    for batch in [32, 128] {
        let (inputs, targets) = samples(batch, 2);
        let mut net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
        let mut sgd = Sgd::with_lr(0.01).unwrap();
        let mut grads = net.zero_grads();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::new("784-128-10 SGD", batch), &batch, |b, _| {
            b.iter(|| step(&mut net, &mut sgd, &mut grads, &inputs, &targets))
        });
    }
    let (inputs, targets) = samples(64, 3);
    let mut net = Medium::new(&mut ChaCha8Rng::seed_from_u64(0));
    let mut adam = Adam::with_lr(1e-4).unwrap();
    let mut grads = net.zero_grads();
    group.throughput(Throughput::Elements(64));
    group.bench_with_input(BenchmarkId::new("784-256-128-10 Adam", 64), &64, |b, _| {
        b.iter(|| step(&mut net, &mut adam, &mut grads, &inputs, &targets))
    });
    group.finish();
}

fn epoch(c: &mut Criterion) {
    let (inputs, targets) = samples(60_000, 4);
    let data = Dataset::new(inputs, targets).unwrap();
    let mut group = c.benchmark_group("epoch of 60000 synthetic samples");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(60_000));
    let mut net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let mut trainer = Trainer::new(CrossEntropy, Sgd::with_lr(0.01).unwrap())
        .epochs(1)
        .batch_size(32)
        .progress(Progress::Silent);
    group.bench_function("784-128-10 SGD batch 32", |b| {
        b.iter(|| trainer.fit(&mut net, &data, None).unwrap())
    });
    group.finish();
}

criterion_group!(benches, inference, training_step, epoch);
criterion_main!(benches);
