//! Training and inference speed on MNIST, timed the way
//! `../shared/bench/torch_train.py` and `torch_infer.py` time PyTorch, so the
//! two can run side by side:
//!
//! ```text
//! MNIST_DIR=../shared/data/mnist cargo run --release --example bench -- train --arch 784-128-10 --opt sgd --lr 0.1 --bs 32 --epochs 5
//! MNIST_DIR=../shared/data/mnist cargo run --release --example bench -- train --arch 784-256-128-10 --opt adam --lr 1e-3 --bs 64 --epochs 5
//! cargo run --release --example bench -- infer
//! cargo run --release --example bench -- sporadic
//! cargo run --release --example bench -- kernels
//! ```
//!
//! An epoch is timed as PyTorch's: the shuffle plus every minibatch step
//! (forward, cross-entropy, backward, optimizer step), the data already in
//! memory, the last partial batch kept; test accuracy is measured outside
//! the timing. The images are kept as bytes ([`mnist::load_pixels`]) and
//! become `b / 255` in f32 as each batch is gathered, inside the timing;
//! `--data f32` keeps them as f32 in `[0, 1]` instead, as PyTorch's script
//! does (the same values, so the same weights and accuracies). Inference times one-sample calls one by one
//! on the same sample (the median of 20,000 after a warm-up) and batches of 1,000. Each mode
//! ends with a `RESULT_JSON` line like the PyTorch scripts'. `kernels` times the
//! products of a training step alone (`PERCEPTRA_THREADS=1` for one core), to
//! compare with the core's peak (`scripts/fma_peak.c`). `sporadic` times
//! one-sample calls with a pause before each, as a program that infers now
//! and then sees them.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use perceptra::data::{Sample, mnist};
use perceptra::prelude::*;

network! {
    /// 784-128-10.
    struct Small<f32> { input: 784, Dense(128), ReLU, Dense(10) }
    /// 784-256-128-10.
    struct Medium<f32> { input: 784, Dense(256), ReLU, Dense(128), ReLU, Dense(10) }
}

/// Multiply-adds of one sample through a dense network of these widths.
fn macs(widths: &[usize]) -> f64 {
    widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum()
}

/// The value after `name` in `args`, parsed, or `default`.
fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let v = args.get(i + 1).ok_or_else(|| format!("`{name}` needs a value"))?;
            v.parse().map_err(|_| format!("`{name}`: cannot read `{v}`"))
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn train<N>(net: N, args: &[String], widths: &[usize]) -> Result<(), Box<dyn Error>>
where
    N: NetworkMut<Scalar = f32, Input = SVector<f32, 784>, Output = SVector<f32, 10>>,
{
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    match arg(args, "--data", String::from("pixels"))?.as_str() {
        "pixels" => {
            let data = mnist::load_pixels(&dir)?;
            train_on(net, &data.train, &data.test, args, widths)
        }
        "f32" => {
            let data = mnist::load::<f32>(&dir)?;
            train_on(net, &data.train, &data.test, args, widths)
        }
        other => Err(format!("unknown `--data {other}`; expected pixels or f32").into()),
    }
}

fn train_on<N, X>(
    mut net: N,
    train: &Dataset<X, usize>,
    test: &Dataset<X, usize>,
    args: &[String],
    widths: &[usize],
) -> Result<(), Box<dyn Error>>
where
    N: NetworkMut<Scalar = f32, Input = SVector<f32, 784>, Output = SVector<f32, 10>>,
    X: Sample<N::Input>,
{
    let (opt, lr, bs, epochs) = (
        arg(args, "--opt", String::from("sgd"))?,
        arg(args, "--lr", 0.1)?,
        arg(args, "--bs", 32usize)?,
        arg(args, "--epochs", 5usize)?,
    );
    let optimizer: Box<dyn Optimizer<f32>> = match opt.as_str() {
        "sgd" => Box::new(Sgd::with_lr(lr)?),
        "adam" => Box::new(Adam::with_lr(lr)?),
        other => return Err(format!("unknown optimizer `{other}`; expected sgd or adam").into()),
    };
    let mut times = Vec::new();
    let mut accuracies = Vec::new();
    let mut trainer =
        Trainer::new(CrossEntropy, optimizer).batch_size(bs).progress(Progress::Silent);
    for epoch in 1..=epochs {
        // One epoch at a time, so that the test accuracy stays outside the timing.
        trainer = trainer.epochs(1).seed(epoch as u64);
        let history = trainer.fit(&mut net, train, None)?;
        let seconds = history.epochs[0].seconds;
        let accuracy = evaluate(&net, &CrossEntropy, test)?.accuracy.unwrap_or(0.0);
        // Forward, the weight gradients, and the input gradients of every
        // layer but the first, as ../shared/bench/README.md counts them.
        let flops =
            2.0 * train.len() as f64 * (3.0 * macs(widths) - (widths[0] * widths[1]) as f64);
        println!(
            "epoch {epoch} time {seconds:.4}s  {:.0} samples/s  {:.1} GFLOP/s  test_acc {accuracy:.4}",
            train.len() as f64 / seconds,
            flops / seconds / 1e9
        );
        times.push(seconds);
        accuracies.push(accuracy);
    }
    println!(
        "RESULT_JSON {{\"arch\": \"{}\", \"opt\": \"{opt}\", \"lr\": {lr}, \"bs\": {bs}, \"epoch_times\": {times:?}, \
         \"median_epoch_s\": {}, \"test_acc\": {accuracies:?}}}",
        args_arch(args),
        median(times.clone())
    );
    Ok(())
}

fn args_arch(args: &[String]) -> String {
    arg(args, "--arch", String::from("784-128-10")).unwrap_or_default()
}

/// GFLOP/s of each product of a dense layer's step (forward, weight
/// gradient, input gradient) at the shapes of the benchmarks, of one
/// sample's forward product, and of 768³: the best of 7 rounds of 200
/// products, after a warm-up. The matrices start on cache lines, as the
/// runtime's own buffers do.
fn kernels() {
    use perceptra::__private::{Mat, MatMut, gemm};
    /// All but 16 of the scalars of `buf`, starting on a cache line.
    fn on_a_line(buf: &mut [f32]) -> &mut [f32] {
        let (at, len) = (buf.as_ptr().align_offset(64), buf.len() - 16);
        &mut buf[at..at + len]
    }
    fn time(name: &str, flops: f64, mut f: impl FnMut()) {
        for _ in 0..20 {
            f();
        }
        let mut best = f64::MAX;
        for _ in 0..7 {
            let start = Instant::now();
            for _ in 0..200 {
                f();
            }
            best = best.min(start.elapsed().as_secs_f64() / 200.0);
        }
        println!("{name:36} {:9.2} us {:7.1} GFLOP/s", best * 1e6, flops / best / 1e9);
    }
    for (m, k, n) in
        [(128, 784, 128), (256, 784, 64), (128, 784, 1000), (768, 768, 768), (128, 784, 1)]
    {
        let flops = 2.0 * (m * k * n) as f64;
        // Weights `[m, k]` row-major, samples `[k, n]` and `∂L/∂Y` `[m, n]`
        // column-major, then the three products' outputs.
        let mut bufs = [m * k, k * n, m * n, m * n, m * k, k * n].map(|len| vec![0.0f32; len + 16]);
        let [w, x, dy, y, dw, dx] = bufs.each_mut().map(|b| on_a_line(b));
        for v in [&mut *w, &mut *x, &mut *dy] {
            for (i, v) in v.iter_mut().enumerate() {
                *v = ((i * 7919) % 1000) as f32 * 1e-3;
            }
        }
        let samples = if n == 1 { String::from("1 sample") } else { format!("{n} samples") };
        time(&format!("forward {m}x{k}, {samples}"), flops, || {
            let y = MatMut::col_major(y, m, n);
            gemm(1.0, Mat::row_major(w, m, k), Mat::col_major(x, k, n), 0.0, y);
        });
        if n == 1 {
            continue;
        }
        time(&format!("weight gradient {m}x{k}, {samples}"), flops, || {
            let dw = MatMut::row_major(dw, m, k);
            gemm(1.0, Mat::col_major(dy, m, n), Mat::col_major(x, k, n).t(), 1.0, dw);
        });
        time(&format!("input gradient {m}x{k}, {samples}"), flops, || {
            let dx = MatMut::col_major(dx, k, n);
            gemm(1.0, Mat::row_major(w, m, k).t(), Mat::col_major(dy, m, n), 0.0, dx);
        });
    }
}

fn infer() -> Result<(), Box<dyn Error>> {
    let net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let inputs: Vec<SVector<f32, 784>> =
        (0..1000).map(|i| SVector::from_fn(|j, _| ((i * 784 + j) % 255) as f32 / 255.0)).collect();
    // One sample at a time, the same sample as `torch_infer.py` does: the
    // median over 20,000 calls after 2,000 of warm-up.
    let mut sink = 0.0f32;
    let x = &inputs[0];
    for _ in 0..2000 {
        sink += net.forward(x)[0];
    }
    let mut one = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let start = Instant::now();
        sink += std::hint::black_box(net.forward(std::hint::black_box(x)))[0];
        one.push(start.elapsed().as_secs_f64());
    }
    // Batches of 1,000, reusing the output and the workspace.
    let mut outputs = vec![SVector::<f32, 10>::zeros(); inputs.len()];
    let mut workspace = perceptra::Workspace::new();
    net.forward_batch_into(&inputs, &mut outputs, &mut workspace);
    let mut batch = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        net.forward_batch_into(std::hint::black_box(&inputs), &mut outputs, &mut workspace);
        batch.push(start.elapsed().as_secs_f64());
        sink += outputs[0][0];
    }
    let (one, batch) = (median(one), median(batch));
    println!("one sample: {:.2} us", one * 1e6);
    println!("batch of 1000: {:.3} ms, {:.0} samples/s", batch * 1e3, 1000.0 / batch);
    println!(
        "RESULT_JSON {{\"single_us\": {}, \"batch1000_ms\": {}, \"sink\": {}}}",
        one * 1e6,
        batch * 1e3,
        sink.is_finite()
    );
    Ok(())
}

/// One sample at a time with a pause before each call, as a program that
/// infers now and then (a control loop, a request handler) does: the
/// caches and the other core have gone cold. Medians and 90th percentiles
/// of 2,000 calls for each pause asked of `thread::sleep`, which sleeps
/// longer (on the 2-core VM, 20 µs asked took about 100, 100 about 190).
fn sporadic() {
    let net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let x = SVector::<f32, 784>::from_fn(|j, _| (j % 255) as f32 / 255.0);
    let mut sink = 0.0f32;
    for _ in 0..2000 {
        sink += net.forward(&x)[0];
    }
    for pause_us in [0u64, 20, 100, 1000] {
        let mut times = Vec::with_capacity(2000);
        for _ in 0..2000 {
            std::thread::sleep(std::time::Duration::from_micros(pause_us));
            let start = Instant::now();
            sink += std::hint::black_box(net.forward(std::hint::black_box(&x)))[0];
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "pause {pause_us:>4} us: median {:.2} us, 90th percentile {:.2} us",
            times[times.len() / 2],
            times[times.len() * 9 / 10]
        );
    }
    assert!(sink.is_finite());
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("train") => match args_arch(&args).as_str() {
            "784-128-10" => train(Small::new(&mut ChaCha8Rng::seed_from_u64(0)), &args, &[784, 128, 10]),
            "784-256-128-10" => train(Medium::new(&mut ChaCha8Rng::seed_from_u64(0)), &args, &[784, 256, 128, 10]),
            other => Err(format!("unknown --arch `{other}`; expected 784-128-10 or 784-256-128-10").into()),
        },
        Some("infer") => infer(),
        Some("sporadic") => {
            sporadic();
            Ok(())
        }
        Some("kernels") => {
            kernels();
            Ok(())
        }
        _ => Err("usage: bench train [--arch A] [--opt sgd|adam] [--lr X] [--bs N] [--epochs N] [--data pixels|f32] | bench infer | bench sporadic | bench kernels".into()),
    }
}
