//! The other cores, for large products, without allocating per use.
//!
//! A general work-stealing pool (rayon) allocates now and then when called
//! from outside its threads (a block of job slots every 63 jobs), which
//! breaks a training step's promise of no allocation. The products here need
//! far less: run `parts` pieces of one product at once and wait for all. So
//! each helper thread owns one mailbox, started once when first needed; a
//! caller claims idle helpers, posts each a piece, runs the first piece
//! itself, takes back and runs any piece whose helper has not started it,
//! and waits for the others before it returns, or unwinds.
//!
//! A hand-off is a few atomic stores and loads on the mailbox, so that it
//! costs a few cache-line transfers (a sub-microsecond matrix-vector product
//! is worth sharing); a mutex and condition variables are used only by a
//! side that has spun for [`SPIN`] without news and goes to sleep. Waking a
//! sleeping helper is a system call on the caller, so a short product (one
//! sample's, called now and then) leaves it asleep and runs alone, unless
//! products are coming back to back.

#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::mem::ManuallyDrop;

use std::boxed::Box;
use std::format;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::vec::Vec;

/// At most this many threads share a product (the caller and its helpers).
pub(super) const MAX_PARTS: usize = 8;

/// A piece of work borrowed from the caller's stack, its lifetime erased:
/// the caller waits until the helper has finished with it (or takes it back)
/// before its frame ends, even if the caller's own piece panics
/// ([`Claimed`]'s `Drop`).
type Task = &'static (dyn Fn(usize) + Sync);

/// A mailbox's states. The caller moves it from `IDLE` to `POSTED`, the
/// helper from `POSTED` to `RUNNING` and then to `DONE` or `PANICKED`; the
/// caller takes back a piece not yet started by moving `POSTED` to `DONE`,
/// and returns `DONE` or `PANICKED` to `IDLE` once it has seen the outcome.
const IDLE: u8 = 0;
const POSTED: u8 = 1;
const RUNNING: u8 = 2;
const DONE: u8 = 3;
const PANICKED: u8 = 4;

/// A value on a cache line of its own (64 bytes on x86-64): a write to it
/// takes no line away from a thread reading the values around it.
#[repr(align(64))]
struct Alone<T>(T);

impl<T> core::ops::Deref for Alone<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// One helper thread's mailbox. The helper reads `flags` every few dozen
/// nanoseconds while it waits, and a cache line moves between cores each
/// time the other side writes it (100–150 ns on the Xeon measured): with
/// `claimed` on that line too, claiming took the line from the helper and
/// posting took it back once more. On a line of its own, one sample through
/// 784-128-10 went from 3.1–3.4 µs to 2.9–3.0 µs (3 alternating runs).
struct Helper {
    /// Held by the caller that claimed this helper; the helper never reads
    /// it, so claiming moves no line between cores.
    claimed: Alone<AtomicBool>,
    /// All the helper reads to start a piece, on one line.
    flags: Alone<Flags>,
    /// Only for sleeping: `work` wakes the helper, `finished` the caller.
    lock: Mutex<()>,
    work: Condvar,
    finished: Condvar,
}

struct Flags {
    /// `IDLE`, `POSTED`, `RUNNING`, `DONE` or `PANICKED`.
    state: AtomicU8,
    /// Set by a side before it sleeps, so that the other side signals only
    /// when someone sleeps: every signal is a system call.
    helper_asleep: AtomicBool,
    caller_asleep: AtomicBool,
    /// The posted task (the caller's `&dyn Fn` itself, so that the helper
    /// finds it on this line rather than on the caller's stack, one transfer
    /// between cores further) and the index of the piece to run; written
    /// before `state` becomes `POSTED`.
    task: UnsafeCell<Option<Task>>,
    index: AtomicUsize,
}

// SAFETY: `task`, the one field that is not synchronised by itself, is
// written by the caller only while the mailbox is `IDLE` and read by the
// helper only after acquiring `POSTED` and before releasing `DONE` (see
// `post` and `run`).
unsafe impl Sync for Helper {}

/// The time-stamp counter when the last call of [`run`] ended.
static LAST_END: AtomicU64 = AtomicU64::new(0);

/// Ticks of the time-stamp counter within which a product counts as coming
/// right after the previous one: 40 µs at 2.6 GHz (the counter runs at
/// the nominal clock, 1–4 GHz on x86-64 of the last decade, so 25–100 µs).
/// Read in a few nanoseconds where `Instant::now` took tens, it only
/// decides whether to wake a helper: a wrong guess costs time, not results.
const RECENT: u64 = 100_000;

fn ticks() -> u64 {
    // SAFETY: RDTSC exists on every x86-64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// How long a thread spins on a mailbox before it sleeps: products come
/// back to back in a training step, and waking a sleeping thread costs more
/// than the spin.
const SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// Spins until `ready()` or [`SPIN`] has passed; whether `ready()`.
fn spin_until(ready: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        // Look at the flag after every pause: a pause can last over a
        // hundred cycles, and the news is wanted within a few.
        for _ in 0..64 {
            if ready() {
                return true;
            }
            core::hint::spin_loop();
        }
        if start.elapsed() > SPIN {
            return ready();
        }
    }
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    // Nothing panics while holding it; take it even if poisoned.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Helper {
    fn new() -> Self {
        Helper {
            claimed: Alone(AtomicBool::new(false)),
            flags: Alone(Flags {
                state: AtomicU8::new(IDLE),
                helper_asleep: AtomicBool::new(false),
                caller_asleep: AtomicBool::new(false),
                task: UnsafeCell::new(None),
                index: AtomicUsize::new(0),
            }),
            lock: Mutex::new(()),
            work: Condvar::new(),
            finished: Condvar::new(),
        }
    }

    fn run(&'static self) {
        loop {
            self.wait_for_work();
            if self
                .flags
                .state
                .compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                // Taken back by the caller.
                continue;
            }
            // SAFETY: the caller wrote `task` before `POSTED`, which the
            // exchange above acquired, and writes it again only once it has
            // seen `DONE` or `PANICKED`, stored below after the last use.
            let (task, index) =
                (unsafe { *self.flags.task.get() }, self.flags.index.load(Ordering::Relaxed));
            let Some(task) = task else { continue };
            // `task`'s lifetime was erased: the caller that posted it waits
            // for `DONE` or `PANICKED` before the closure behind it goes out
            // of scope, and cannot take the piece back once it is `RUNNING`.
            let panicked = catch_unwind(AssertUnwindSafe(|| task(index))).is_err();
            self.flags.state.store(if panicked { PANICKED } else { DONE }, Ordering::SeqCst);
            if self.flags.caller_asleep.load(Ordering::SeqCst) {
                let _held = lock(&self.lock);
                self.finished.notify_one();
            }
        }
    }

    /// Returns once a piece is posted (or was, and may have been taken back).
    fn wait_for_work(&self) {
        let posted = || self.flags.state.load(Ordering::Acquire) == POSTED;
        while !spin_until(posted) {
            let held = lock(&self.lock);
            self.flags.helper_asleep.store(true, Ordering::SeqCst);
            // Either the caller sees `helper_asleep` and signals after this
            // thread waits (it needs the lock), or this load sees `POSTED`.
            let held = if self.flags.state.load(Ordering::SeqCst) == POSTED {
                held
            } else {
                self.work.wait(held).unwrap_or_else(|e| e.into_inner())
            };
            self.flags.helper_asleep.store(false, Ordering::Relaxed);
            drop(held);
            // Woken, for a piece or spuriously: spin again, as work is
            // likely to follow even if the caller took this piece back.
        }
    }

    /// Posts piece `index` of `task`, waking the helper if it sleeps.
    fn post(&self, task: Task, index: usize) {
        // SAFETY: this caller claimed the mailbox, which is `IDLE`: the
        // helper reads `task` only between `POSTED` and `DONE`.
        unsafe { *self.flags.task.get() = Some(task) };
        self.flags.index.store(index, Ordering::Relaxed);
        self.flags.state.store(POSTED, Ordering::SeqCst);
        if self.flags.helper_asleep.load(Ordering::SeqCst) {
            let _held = lock(&self.lock);
            self.work.notify_one();
        }
    }

    /// Takes back the posted piece if the helper has not started it, marking
    /// it done; whether it did. Looks before it exchanges: an exchange takes
    /// the line even when it fails, from a helper that then has to take it
    /// back to store `DONE` (no difference was measured, within noise).
    fn retract(&self) -> bool {
        self.flags.state.load(Ordering::Relaxed) == POSTED
            && self
                .flags
                .state
                .compare_exchange(POSTED, DONE, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Waits until the posted piece is done or taken back, and frees the
    /// mailbox; whether the piece panicked.
    fn collect(&self) -> bool {
        let finished = || matches!(self.flags.state.load(Ordering::Acquire), DONE | PANICKED);
        if !spin_until(finished) {
            let mut held = lock(&self.lock);
            self.flags.caller_asleep.store(true, Ordering::SeqCst);
            while !matches!(self.flags.state.load(Ordering::SeqCst), DONE | PANICKED) {
                held = self.finished.wait(held).unwrap_or_else(|e| e.into_inner());
            }
            self.flags.caller_asleep.store(false, Ordering::Relaxed);
        }
        self.flags.state.swap(IDLE, Ordering::Acquire) == PANICKED
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
        let helpers: &'static [Helper] = Vec::leak((0..count).map(|_| Helper::new()).collect());
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

/// Helpers claimed by one caller, released (after their pieces finish) on drop.
struct Claimed {
    helpers: [Option<&'static Helper>; MAX_PARTS - 1],
    count: usize,
    posted: usize,
}

impl Claimed {
    /// Claims up to `want` idle helpers; with `wake` false, only helpers
    /// that are awake (spinning for work), unless the last shared product
    /// ended [`RECENT`]ly: products then come back to back, and one wake-up
    /// serves them all.
    fn new(want: usize, wake: bool) -> Self {
        let mut wake = Some(wake).filter(|&w| w);
        let mut claimed = Claimed { helpers: [None; MAX_PARTS - 1], count: 0, posted: 0 };
        for helper in helpers() {
            if claimed.count == want.min(MAX_PARTS - 1) {
                break;
            }
            if helper.flags.helper_asleep.load(Ordering::Relaxed)
                && !*wake.get_or_insert_with(|| {
                    ticks().wrapping_sub(LAST_END.load(Ordering::Relaxed)) < RECENT
                })
            {
                continue;
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

    /// Takes back every posted piece not yet started (without running it)
    /// and waits for the others; whether any panicked.
    fn wait(&mut self) -> bool {
        let mut panicked = false;
        for helper in self.helpers[..self.posted].iter().flatten() {
            helper.retract();
            panicked |= helper.collect();
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
/// on this thread; so do pieces no idle helper takes, in order, and pieces
/// whose helper has not started them when this thread is done with its own.
///
/// With `wake` false, helpers asleep are left asleep and their pieces run
/// here: waking one is a system call on this thread, which took 0.8–1.5 µs
/// on the Xeon measured, and 10 µs when the helper had gone to sleep a few
/// tens of µs earlier; a product shorter than that runs faster alone.
pub(super) fn run(parts: usize, wake: bool, f: &(dyn Fn(usize) + Sync)) {
    let mut claimed = Claimed::new(parts.saturating_sub(1), wake);
    // Only the lifetime is erased: `claimed` waits for every posted piece
    // (or takes it back) before this function returns or unwinds, so `f`,
    // and this reference to it, outlive the pieces.
    // SAFETY: a copy of `f` with its lifetime erased (same type otherwise).
    let task: Task = unsafe { *(&raw const f).cast::<Task>() };
    for (k, helper) in claimed.helpers[..claimed.count].iter().flatten().enumerate() {
        helper.post(task, k + 1);
        claimed.posted = k + 1;
    }
    f(0);
    for index in claimed.count + 1..parts {
        f(index);
    }
    // A piece its helper has not started (it may still be waking from
    // sleep) runs here: a wake-up can cost more than the piece.
    for (k, helper) in claimed.helpers[..claimed.posted].iter().flatten().enumerate() {
        if helper.retract() {
            f(k + 1);
        }
    }
    let panicked = claimed.wait();
    LAST_END.store(ticks(), Ordering::Relaxed);
    if panicked {
        drop(claimed);
        resume_unwind(Box::new("a piece of a matrix product panicked on a helper thread"));
    }
}

/// Runs `f` on each of the first `count` of `pieces` (each `Some`), as
/// [`run`] runs its indices: each piece is handed to exactly one call.
///
/// A call reads its piece out of the caller's array without writing there
/// (no lock, no `Option::take`): on a helper, a write would wait for the
/// caller's core to give up the cache line, one more transfer between cores
/// before the piece can start.
pub(super) fn run_each<P: Send>(
    pieces: [Option<P>; MAX_PARTS],
    count: usize,
    wake: bool,
    f: &(dyn Fn(P) + Sync),
) {
    /// The pieces, each moved out by the one call that runs its index.
    struct Slots<P>([UnsafeCell<ManuallyDrop<Option<P>>>; MAX_PARTS]);
    // SAFETY: slot `i` is only read, once, by the call of index `i`, which
    // `run` makes exactly once; `P: Send` lets that call be on another thread.
    unsafe impl<P: Send> Sync for Slots<P> {}
    let slots = &Slots(pieces.map(|p| UnsafeCell::new(ManuallyDrop::new(p))));
    run(count, wake, &|i| {
        // SAFETY: as above: no other call touches slot `i`, and none reads
        // it again, so moving the piece out leaves nothing to drop twice
        // (`ManuallyDrop`; a piece never run, after a panic, is leaked).
        let piece = unsafe { ManuallyDrop::take(&mut *slots.0[i].get()) };
        if let Some(piece) = piece {
            f(piece);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_piece_runs_once() {
        // Asleep or awake, woken or left asleep: every piece once. The pauses
        // let the helpers fall asleep (after `SPIN`) and the last product
        // age past `RECENT`, so that `wake = false` finds them asleep.
        for pause in [0, 200] {
            for wake in [true, false] {
                for parts in 1..=MAX_PARTS {
                    std::thread::sleep(std::time::Duration::from_micros(pause));
                    let seen: [AtomicUsize; MAX_PARTS] = Default::default();
                    run(parts, wake, &|i| {
                        seen[i].fetch_add(1, Ordering::Relaxed);
                    });
                    for (i, s) in seen.iter().enumerate() {
                        assert_eq!(
                            s.load(Ordering::Relaxed),
                            usize::from(i < parts),
                            "{parts} parts, piece {i}, wake {wake}, pause {pause} µs"
                        );
                    }
                }
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
                        run(3, true, &|i| {
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
            let result = catch_unwind(|| run(2, true, &|i| assert_ne!(i, bad, "piece {i} fails")));
            assert!(result.is_err());
        }
        let sum = AtomicUsize::new(0);
        run(2, true, &|i| {
            sum.fetch_add(i + 1, Ordering::Relaxed);
        });
        assert_eq!(sum.load(Ordering::Relaxed), 3);
    }
}
