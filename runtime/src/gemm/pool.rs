//! The other cores, for large products, without allocating per use.
//!
//! A general work-stealing pool (rayon) allocates now and then when called
//! from outside its threads (a block of job slots every 63 jobs), which
//! breaks a training step's promise of no allocation. The products here need
//! far less: run `parts` pieces of one product at once and wait for all. So
//! each helper thread owns one slot (a mutex and two condition variables,
//! which allocate nothing on use), started once when first needed; a caller
//! claims idle helpers, hands each a piece, runs the first piece itself and
//! waits for the others before it returns, or unwinds.

#![allow(unsafe_code)]

use std::boxed::Box;
use std::format;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::vec::Vec;

/// At most this many threads share a product (the caller and its helpers).
pub(super) const MAX_PARTS: usize = 8;

/// A piece of work borrowed from the caller's stack, its lifetime erased.
///
/// The caller waits until the helper has finished with it before its frame
/// ends, even if the caller's own piece panics ([`Claimed`]'s `Drop`).
#[derive(Clone, Copy)]
struct Task(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is `Sync`, so calling it from another thread is sound;
// the pointer is only dereferenced while the caller keeps it alive.
unsafe impl Send for Task {}

#[derive(Default)]
struct Slot {
    /// The task and the piece index it is to run, until the helper takes it.
    task: Option<(Task, usize)>,
    /// Set by the helper when the task returned; `Some(true)` if it panicked.
    done: Option<bool>,
    /// The helper sleeps on `work`, the caller on `finished`: a condition is
    /// signalled only when someone sleeps on it, since every signal is a
    /// system call and both sides usually catch the flag while spinning.
    helper_asleep: bool,
    caller_asleep: bool,
}

/// One helper thread's mailbox.
struct Helper {
    /// Held by the caller that claimed this helper.
    claimed: AtomicBool,
    slot: Mutex<Slot>,
    /// Signalled when a task arrives.
    work: Condvar,
    /// Signalled when a task is done.
    finished: Condvar,
    /// Set with a task and with its outcome, so that either side can spin
    /// briefly before sleeping: products come back to back in a training
    /// step, and waking a sleeping thread costs more than the spin.
    task_ready: AtomicBool,
    done_ready: AtomicBool,
}

/// How long a thread spins on a flag before it sleeps on the condition.
const SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// Spins until `flag` is set or [`SPIN`] has passed.
fn spin_on(flag: &AtomicBool) {
    let start = std::time::Instant::now();
    while !flag.load(Ordering::Acquire) {
        for _ in 0..64 {
            core::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return;
        }
    }
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    // A panic inside a task is caught before the slot is locked again, so
    // the mutex is never poisoned by one; take the data if it is anyway.
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl Helper {
    fn run(&'static self) {
        loop {
            spin_on(&self.task_ready);
            let (task, index) = {
                let mut slot = lock(&self.slot);
                loop {
                    if let Some(job) = slot.task.take() {
                        self.task_ready.store(false, Ordering::Relaxed);
                        break job;
                    }
                    slot.helper_asleep = true;
                    slot = self.work.wait(slot).unwrap_or_else(|e| e.into_inner());
                    slot.helper_asleep = false;
                }
            };
            // SAFETY: the caller that posted `task` waits for `done` before
            // the closure behind it goes out of scope.
            let panicked = catch_unwind(AssertUnwindSafe(|| unsafe { (*task.0)(index) })).is_err();
            let wake = {
                let mut slot = lock(&self.slot);
                slot.done = Some(panicked);
                slot.caller_asleep
            };
            self.done_ready.store(true, Ordering::Release);
            if wake {
                self.finished.notify_one();
            }
        }
    }
}

/// The environment variable that sets how many threads share a product
/// (default: every core, at most [`MAX_PARTS`]); read once.
pub const THREADS_VAR: &str = "PERCEPTRA_THREADS";

/// The helper threads: one fewer than the threads, started on first use.
fn helpers() -> &'static [Helper] {
    static HELPERS: OnceLock<&'static [Helper]> = OnceLock::new();
    HELPERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads =
            std::env::var(THREADS_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(cores);
        let count = threads.clamp(1, MAX_PARTS) - 1;
        let helpers: &'static [Helper] = Vec::leak(
            (0..count)
                .map(|_| Helper {
                    claimed: AtomicBool::new(false),
                    slot: Mutex::new(Slot::default()),
                    work: Condvar::new(),
                    finished: Condvar::new(),
                    task_ready: AtomicBool::new(false),
                    done_ready: AtomicBool::new(false),
                })
                .collect(),
        );
        let mut started = 0;
        for (i, helper) in helpers.iter().enumerate() {
            let spawned = std::thread::Builder::new()
                .name(format!("perceptra-gemm-{}", i + 1))
                .spawn(move || helper.run());
            if spawned.is_err() {
                break;
            }
            started += 1;
        }
        &helpers[..started]
    })
}

/// The number of threads that could share a product here.
pub(super) fn threads() -> usize {
    helpers().len() + 1
}

/// Helpers claimed by one caller, released (after their tasks finish) on drop.
struct Claimed {
    helpers: [Option<&'static Helper>; MAX_PARTS - 1],
    count: usize,
    posted: usize,
}

impl Claimed {
    /// Claims up to `want` idle helpers.
    fn new(want: usize) -> Self {
        let mut claimed = Claimed { helpers: [None; MAX_PARTS - 1], count: 0, posted: 0 };
        for helper in helpers() {
            if claimed.count == want.min(MAX_PARTS - 1) {
                break;
            }
            if helper
                .claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                claimed.helpers[claimed.count] = Some(helper);
                claimed.count += 1;
            }
        }
        claimed
    }

    /// Waits for every posted task; whether any panicked.
    fn wait(&mut self) -> bool {
        let mut panicked = false;
        for helper in self.helpers[..self.posted].iter().flatten() {
            spin_on(&helper.done_ready);
            let mut slot = lock(&helper.slot);
            let outcome = loop {
                if let Some(outcome) = slot.done.take() {
                    helper.done_ready.store(false, Ordering::Relaxed);
                    break outcome;
                }
                slot.caller_asleep = true;
                slot = helper.finished.wait(slot).unwrap_or_else(|e| e.into_inner());
                slot.caller_asleep = false;
            };
            panicked |= outcome;
        }
        self.posted = 0;
        panicked
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        // On an unwind from the caller's own piece, the helpers may still be
        // reading its stack: wait for them before the frame goes.
        self.wait();
        for helper in self.helpers[..self.count].iter().flatten() {
            helper.claimed.store(false, Ordering::Release);
        }
    }
}

/// Runs `f(0)`, …, `f(parts − 1)`, each once, on up to `parts` threads
/// (`parts ≤` [`MAX_PARTS`]), and returns when all have returned. `f(0)` runs
/// on this thread; pieces no idle helper takes run here too, in order.
pub(super) fn run(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    let mut claimed = Claimed::new(parts.saturating_sub(1));
    // SAFETY: only the lifetime is erased. `claimed` waits for every posted
    // task before this function returns or unwinds, so `f` outlives them.
    let task = Task(unsafe {
        core::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(f)
    });
    for (k, helper) in claimed.helpers[..claimed.count].iter().flatten().enumerate() {
        let wake = {
            let mut slot = lock(&helper.slot);
            slot.task = Some((task, k + 1));
            slot.helper_asleep
        };
        helper.task_ready.store(true, Ordering::Release);
        if wake {
            helper.work.notify_one();
        }
        claimed.posted = k + 1;
    }
    f(0);
    for index in claimed.count + 1..parts {
        f(index);
    }
    if claimed.wait() {
        drop(claimed);
        resume_unwind(Box::new("a piece of a matrix product panicked on a helper thread"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_piece_runs_once() {
        for parts in 1..=MAX_PARTS {
            let seen: [AtomicUsize; MAX_PARTS] = Default::default();
            run(parts, &|i| {
                seen[i].fetch_add(1, Ordering::Relaxed);
            });
            for (i, s) in seen.iter().enumerate() {
                assert_eq!(
                    s.load(Ordering::Relaxed),
                    usize::from(i < parts),
                    "{parts} parts, piece {i}"
                );
            }
        }
    }

    #[test]
    fn callers_on_many_threads_share_the_helpers() {
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for _ in 0..200 {
                        let sum = AtomicUsize::new(0);
                        run(3, &|i| {
                            sum.fetch_add(i + t, Ordering::Relaxed);
                        });
                        assert_eq!(sum.load(Ordering::Relaxed), 3 + 3 * t);
                    }
                });
            }
        });
    }

    #[test]
    fn a_panicking_piece_reaches_the_caller_and_the_pool_survives() {
        for bad in [0, 1] {
            let result = catch_unwind(|| run(2, &|i| assert_ne!(i, bad, "piece {i} fails")));
            assert!(result.is_err());
        }
        let sum = AtomicUsize::new(0);
        run(2, &|i| {
            sum.fetch_add(i + 1, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 3);
    }
}
