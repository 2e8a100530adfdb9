//! The scalar types a network can be declared with: `f32` and `f64`.

use core::fmt::{Debug, Display};

use nalgebra::RealField;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar a network computes in: `f32` or `f64`.
///
/// Everything in the runtime is generic over this trait. It is sealed: the
/// layers' numerics (stable softmax, clamped logarithms, tolerances in the
/// tests) are written for IEEE binary32 and binary64 and nothing else.
pub trait Float:
    RealField
    + Copy
    + Default
    + Debug
    + Display
    + bytemuck::Pod
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The Rust name of the type, as written in a `network!` declaration.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn of_f64(x: f64) -> Self;

    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;

    /// Converts a count to this type (rounding above 2^24 for `f32`).
    fn of_usize(n: usize) -> Self;

    /// Is this value neither infinite nor NaN?
    fn finite(self) -> bool;
}

impl Float for f32 {
    const NAME: &'static str = "f32";

    #[inline(always)]
    fn of_f64(x: f64) -> Self {
        x as f32
    }

    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline(always)]
    fn of_usize(n: usize) -> Self {
        n as f32
    }

    #[inline(always)]
    fn finite(self) -> bool {
        self.is_finite()
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";

    #[inline(always)]
    fn of_f64(x: f64) -> Self {
        x
    }

    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }

    #[inline(always)]
    fn of_usize(n: usize) -> Self {
        n as f64
    }

    #[inline(always)]
    fn finite(self) -> bool {
        self.is_finite()
    }
}
