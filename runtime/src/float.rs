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

    /// Zero, with this value's sign, for a subnormal; the value otherwise.
    /// Bit operations only: no floating-point arithmetic on the subnormal.
    fn flush_subnormal(self) -> Self;
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

    #[inline(always)]
    fn flush_subnormal(self) -> Self {
        let bits = self.to_bits();
        if bits & 0x7f80_0000 == 0 { f32::from_bits(bits & 0x8000_0000) } else { self }
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

    #[inline(always)]
    fn flush_subnormal(self) -> Self {
        let bits = self.to_bits();
        if bits & 0x7ff0_0000_0000_0000 == 0 { f64::from_bits(bits & (1 << 63)) } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::Float;

    #[test]
    fn only_subnormals_are_flushed() {
        let tiny32 = f32::MIN_POSITIVE / 2.0;
        assert_eq!(tiny32.flush_subnormal().to_bits(), 0.0f32.to_bits());
        assert_eq!((-tiny32).flush_subnormal().to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32::from_bits(1).flush_subnormal().to_bits(), 0);
        for x in [0.0f32, -0.0, f32::MIN_POSITIVE, -f32::MIN_POSITIVE, 1.5, f32::INFINITY, f32::MAX]
        {
            assert_eq!(x.flush_subnormal().to_bits(), x.to_bits(), "{x}");
        }
        assert!(f32::NAN.flush_subnormal().is_nan());
        let tiny64 = f64::MIN_POSITIVE / 2.0;
        assert_eq!(tiny64.flush_subnormal().to_bits(), 0.0f64.to_bits());
        assert_eq!((-tiny64).flush_subnormal().to_bits(), (-0.0f64).to_bits());
        for x in [0.0f64, -0.0, f64::MIN_POSITIVE, -1e300, f64::NEG_INFINITY] {
            assert_eq!(x.flush_subnormal().to_bits(), x.to_bits(), "{x}");
        }
        assert!(f64::NAN.flush_subnormal().is_nan());
    }
}
