//! Inference and training steps allocate nothing: a counting global
//! allocator watches `forward`, and `backprop` with an optimizer step.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use perceptra::prelude::*;
use perceptra::{Float, Vector};

/// Counts the allocations of the current thread (tests run in parallel).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a
// const-initialised thread-local without a destructor, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

network! {
    struct Mnist<f32> { input: 784, Dense(128), ReLU, Dropout(0.2), Dense(128 => 10), Softmax }
}

network! {
    struct Small<f64> { input: 3, Dense(5), Tanh, Dense(5), LeakyReLU(0.1), Dense(2), Sigmoid }
}

#[test]
fn forward_allocates_nothing() {
    let net = Mnist::new(&mut ChaCha8Rng::seed_from_u64(0));
    let x = SVector::<f32, 784>::repeat(0.25);
    // The helper threads that share products between cores start once per
    // process, on first use or here.
    let threads = perceptra::threads();
    assert!(threads >= 1);
    let mut sum = 0.0;
    let n = allocations_during(|| {
        for _ in 0..100 {
            sum += net.forward(&x).sum();
        }
    });
    assert_eq!(n, 0, "forward allocated {n} times");
    assert!(sum.is_finite());

    let small = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    let n = allocations_during(|| {
        let _ = small.forward(&SVector::from([1.0, 2.0, 3.0]));
    });
    assert_eq!(n, 0, "forward allocated {n} times");
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_during(|| drop(std::hint::black_box(vec![1u8; 10])));
    assert_eq!(n, 1);
}

network! {
    struct Lenet<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
        Conv2d(16, kernel = 5), ReLU, MaxPool2d(2),
        Flatten, Dense(120), ReLU, Dense(10),
    }
}

/// Allocations in steps 2 to 21 of training `net` (backprop, then an
/// optimizer step) on batches of `batch`.
fn allocations_per_step<N>(
    net: &mut N,
    mut optimizer: impl Optimizer<N::Scalar>,
    batch: usize,
) -> usize
where
    N: NetworkMut,
    CrossEntropy: Loss<N::Output, Target = usize>,
{
    let inputs: Vec<N::Input> = (0..batch)
        .map(|i| {
            let mut x = N::Input::zeros();
            for (j, v) in x.as_mut_slice().iter_mut().enumerate() {
                *v = N::Scalar::of_f64(((i * 7 + j) % 11) as f64 / 11.0);
            }
            x
        })
        .collect();
    let targets: Vec<usize> = (0..batch).map(|i| i % N::OUTPUT).collect();
    let mut grads = net.zero_grads();
    let mut step = |net: &mut N, grads: &mut Gradients<N::Scalar>| {
        grads.zero();
        let loss = net.backprop(&inputs, &targets, &CrossEntropy, grads);
        optimizer.step(net.params_mut(), grads.as_slice());
        assert!(loss.finite());
    };
    step(net, &mut grads);
    allocations_during(|| {
        for _ in 0..20 {
            step(net, &mut grads);
        }
    })
}

/// Whether `f32` products run perceptra's own kernels here. Elsewhere (and
/// for `f64`) they go through `matrixmultiply`, which allocates its packing
/// buffers on every call.
fn own_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[test]
fn training_steps_allocate_nothing_after_the_first() {
    if !own_kernels() {
        eprintln!(
            "skipping: without AVX-512, matrixmultiply allocates packing buffers per product"
        );
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // Batches of 128 and the CNN share their products between the cores.
    for batch in [1, 32, 128] {
        let n = allocations_per_step(&mut Mnist::new(&mut rng), Sgd::with_lr(0.1).unwrap(), batch);
        assert_eq!(n, 0, "Mnist, SGD, batch {batch}: {n} allocations in 20 steps");
        let n =
            allocations_per_step(&mut Mnist::new(&mut rng), Adam::with_lr(1e-3).unwrap(), batch);
        assert_eq!(n, 0, "Mnist, Adam, batch {batch}: {n} allocations in 20 steps");
    }
    let n = allocations_per_step(&mut Lenet::new(&mut rng), Adam::with_lr(1e-3).unwrap(), 64);
    assert_eq!(n, 0, "Lenet, Adam, batch 64: {n} allocations in 20 steps");
}
