//! A seed gives the same weights, and a sample the same outputs, whatever
//! the number of threads that share the matrix products (`PERCEPTRA_THREADS`,
//! read once per process, so each count runs in a child process: this test
//! binary, filtered to `child`).

use std::process::Command;

use perceptra::prelude::*;
use perceptra::rand::RngExt;

network! {
    struct Net<f32> { input: 784, Dense(256), ReLU, Dropout(0.1), Dense(128), ReLU, Dense(10) }
}

network! {
    struct Cnn<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
        Conv2d(16, kernel = 5), ReLU, MaxPool2d(2),
        Flatten, Dense(10),
    }
}

fn hash(params: &[f32]) -> u64 {
    params.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
        (h ^ u64::from(p.to_bits())).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Trains for a few steps at a batch large enough to be shared, and prints
/// the weights' bits as one hash; then the same for a CNN, whose batches the
/// cores share by groups of samples (a batch of 37: groups of 9 and 10).
#[test]
fn child() {
    if std::env::var_os("PERCEPTRA_THREADS_CHILD").is_none() {
        return;
    }
    let mut net = Net::new(&mut ChaCha8Rng::seed_from_u64(7));
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let inputs: Vec<SVector<f32, 784>> =
        (0..256).map(|_| SVector::from_fn(|_, _| rng.random::<f32>())).collect();
    let targets: Vec<usize> = (0..256).map(|i| i % 10).collect();
    let mut grads = net.zero_grads();
    grads.seed(3);
    let mut adam = Adam::with_lr(1e-3).unwrap();
    for _ in 0..5 {
        grads.zero();
        net.backprop(&inputs, &targets, &CrossEntropy, &mut grads);
        adam.step(net.params_mut(), grads.as_slice());
    }
    let mut cnn = Cnn::new(&mut ChaCha8Rng::seed_from_u64(9));
    let mut grads = cnn.zero_grads();
    let mut adam = Adam::with_lr(1e-3).unwrap();
    for _ in 0..3 {
        grads.zero();
        cnn.backprop(&inputs[..37], &targets[..37], &CrossEntropy, &mut grads);
        adam.step(cnn.params_mut(), grads.as_slice());
    }
    // One sample at a time: the products are cut between the threads
    // unevenly (the caller takes more rows), and the outputs do not change.
    let single: Vec<f32> = inputs.iter().flat_map(|x| net.forward(x).as_slice().to_vec()).collect();
    if batch_kernel_for_one_sample() {
        let batch: Vec<f32> =
            net.forward_batch(&inputs).iter().flat_map(|y| y.as_slice().to_vec()).collect();
        assert!(
            single.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()),
            "a sample alone has other bits than in a batch"
        );
    }
    println!(
        "WEIGHTS {:016x} {:016x} {:016x}",
        hash(net.params()),
        hash(cnn.params()),
        hash(&single)
    );
}

/// Whether one sample goes through the batched product's kernel (`f32` on
/// x86-64 with AVX-512F and VL), where it has the same bits as in a batch.
fn batch_kernel_for_one_sample() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

fn weights_with(threads: usize) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env("PERCEPTRA_THREADS_CHILD", "1")
        .env("PERCEPTRA_THREADS", threads.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split("WEIGHTS ").nth(1))
        .expect("the child prints its weights")
        .to_string()
}

#[test]
fn the_same_seed_gives_the_same_weights_on_one_or_more_threads() {
    let one = weights_with(1);
    assert_eq!(weights_with(2), one, "2 threads differ from 1");
    assert_eq!(weights_with(3), one, "3 threads differ from 1");
}
