//! The MNIST perceptron of `examples/mnist.rs` on a Cortex-M4, with its
//! weights baked into flash: classifies 16 real MNIST test digits, prints each
//! prediction over semihosting and exits QEMU with status 0 (1 on a panic or
//! a fault, so that a failure never hangs).
//!
//! ```text
//! cargo run --release          # from firmware/: builds, then runs in QEMU
//! ```
//!
//! It also measures itself: the stack an inference uses (painted and
//! scanned) and, between `bench_start` and `bench_stop`, the instructions of
//! one inference (counted by `../shared/tools/insn_count.c`).

#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use perceptra::prelude::*;

perceptra::network! {
    /// 784 pixels, 128 hidden units, 10 logits: trained by
    /// `cargo run --release --example mnist -- --model small --optimizer sgd --lr 0.1
    /// --batch-size 32 --epochs 10 --cosine false --save firmware/mnist.safetensors`.
    struct Mnist<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(10),
        weights: "mnist.safetensors",
        // The budget of a microcontroller with 512 KiB of flash and 64 KiB of
        // RAM: a larger model does not compile.
        flash: 448KiB,
        ram: 8KiB,
    }
}

/// 16 MNIST test digits: a label byte, then 784 pixels, each.
static DIGITS: &[u8] = include_bytes!("../digits.bin");

static mut MARK_START: u32 = 0;
static mut MARK_STOP: u32 = 0;

/// Marks the start of a measured inference (its address is the counter's
/// `start`); the body differs from `bench_stop`'s so the two are not merged.
#[unsafe(no_mangle)]
#[inline(never)]
fn bench_start() {
    // SAFETY: a single-threaded program writing its own static.
    unsafe { core::ptr::write_volatile(addr_of_mut!(MARK_START), 1) }
}

/// Marks the end of a measured inference.
#[unsafe(no_mangle)]
#[inline(never)]
fn bench_stop() {
    // SAFETY: a single-threaded program writing its own static.
    unsafe { core::ptr::write_volatile(addr_of_mut!(MARK_STOP), 2) }
}

/// The stack pointer now.
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp) };
    sp
}

const PAINT: u32 = 0xDEAD_BEEF;
/// Bytes of stack painted below the caller's frame: far more than an
/// inference may use.
const PAINTED: usize = 64 * 1024;

/// Fills `PAINTED` bytes below the current frame with a pattern.
#[inline(never)]
fn paint_stack() -> usize {
    let top = stack_pointer() - 256;
    let bottom = top - PAINTED;
    for a in (bottom..top).step_by(4) {
        // SAFETY: RAM below the stack pointer is unused (4 MiB of RAM, and
        // nothing but the stack grows down from its end).
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
    }
    top
}

/// The stack used since reset: from its start (the end of RAM) to the
/// deepest byte of the painted region written since `paint_stack`.
fn stack_used(top: usize) -> usize {
    unsafe extern "C" {
        /// The initial stack pointer, from cortex-m-rt's linker script.
        static _stack_start: u32;
    }
    let bottom = top - PAINTED;
    let mut a = bottom;
    // SAFETY: reads the region `paint_stack` wrote.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    addr_of!(_stack_start) as usize - a
}

#[entry]
fn main() -> ! {
    let net = Mnist::baked();
    let top = paint_stack();
    for (i, digit) in DIGITS.chunks_exact(785).enumerate() {
        // The host's conversion, operation for operation (`examples/embedded_reference.rs`).
        let x =
            SVector::<f32, 784>::from_iterator(digit[1..].iter().map(|&p| f32::from(p) / 255.0));
        bench_start();
        let y = core::hint::black_box(net.forward(core::hint::black_box(&x)));
        bench_stop();
        let (predicted, _) = y.argmax();
        hprintln!("digit {}: predicted {}, label {}", i, predicted, digit[0]);
        if i == 0 {
            // The bits, to compare with the host's exactly.
            let bits = y.map(f32::to_bits);
            hprintln!("logits of digit 0: {:08x?}", bits.as_slice());
        }
    }
    // SAFETY: reads the markers, to keep them.
    let _ = unsafe { (addr_of!(MARK_START).read_volatile(), addr_of!(MARK_STOP).read_volatile()) };
    hprintln!("stack: {} bytes at most", stack_used(top));
    hprintln!("parameters: {} bytes in flash", Mnist::PARAMS * 4);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("hard fault at pc {:#010x}", frame.pc());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
