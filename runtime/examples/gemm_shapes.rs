//! Times the runtime's matrix product on the shapes of a training step.
//! `cargo run --release -p perceptra-runtime --example gemm_shapes`
use std::time::Instant;

use perceptra_runtime::__private::{Mat, MatMut, gemm};

fn time(label: &str, mnk: (usize, usize, usize), mut f: impl FnMut()) {
    for _ in 0..50 {
        f();
    }
    let iters = 2000;
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let s = start.elapsed().as_secs_f64() / f64::from(iters);
    let (m, n, k) = mnk;
    println!("{label:40} {:8.2} us {:7.1} GFLOP/s", s * 1e6, 2.0 * (m * n * k) as f64 / s / 1e9);
}

fn main() {
    for &(out, inp, n) in &[
        (128usize, 784usize, 32usize),
        (128, 784, 128),
        (128, 784, 1000),
        (256, 784, 64),
        (10, 128, 32),
    ] {
        let w: Vec<f32> = (0..out * inp).map(|i| (i % 7) as f32 * 0.1).collect();
        let x: Vec<f32> = (0..inp * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let dy: Vec<f32> = (0..out * n).map(|i| (i % 3) as f32 * 0.1).collect();
        let mut y = vec![0f32; out * n];
        let mut dw = vec![0f32; out * inp];
        let mut dx = vec![0f32; inp * n];
        time(&format!("forward  Y = W X   {out}x{inp}x{n}"), (out, n, inp), || {
            gemm(
                1.0,
                Mat::row_major(&w, out, inp),
                Mat::col_major(&x, inp, n),
                1.0,
                MatMut::col_major(&mut y, out, n),
            )
        });
        time(&format!("weights dW += dY Xt {out}x{n}x{inp}"), (out, inp, n), || {
            gemm(
                1.0,
                Mat::col_major(&dy, out, n),
                Mat::col_major(&x, inp, n).t(),
                1.0,
                MatMut::row_major(&mut dw, out, inp),
            )
        });
        time(&format!("inputs  dX = Wt dY  {inp}x{out}x{n}"), (inp, n, out), || {
            gemm(
                1.0,
                Mat::row_major(&w, out, inp).t(),
                Mat::col_major(&dy, out, n),
                0.0,
                MatMut::col_major(&mut dx, inp, n),
            )
        });
    }
}
