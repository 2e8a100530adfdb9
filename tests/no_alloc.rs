//! Inference allocates nothing: a counting global allocator watches `forward`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use perceptra::prelude::*;

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
