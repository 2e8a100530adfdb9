//! Helpers shared by the unit tests: comparisons that print both sides,
//! and fixed pseudo-random inputs.

use alloc::vec::Vec;

use crate::Float;
use crate::gradcheck::{Comparison, assert_agree};

/// Relative tolerance of the gradient checks in `f64`.
pub(crate) const GRAD_REL: f64 = 1e-6;
/// Absolute tolerance of the gradient checks in `f64` (for derivatives near 0).
pub(crate) const GRAD_ABS: f64 = 1e-9;

/// Asserts that `actual` is within `tol` of `expected`, relatively:
/// `|actual − expected| ≤ tol · |expected|`. Equal values (zeros, infinities)
/// always pass; NaN never does.
#[track_caller]
pub(crate) fn assert_close<T: Float>(actual: T, expected: f64, tol: f64) {
    let a = actual.as_f64();
    let ok = a == expected || (a - expected).abs() <= tol * expected.abs();
    assert!(
        ok,
        "expected {expected:e}, got {a:e} (difference {:e}, relative tolerance {tol:e})",
        (a - expected).abs()
    );
}

/// [`assert_close`] element by element, naming the first element that differs.
#[track_caller]
pub(crate) fn assert_all_close<T: Float>(actual: &[T], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths differ: {actual:?} vs {expected:?}");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let a = a.as_f64();
        let ok = a == e || (a - e).abs() <= tol * e.abs();
        assert!(
            ok,
            "element {i}: expected {e:e}, got {a:e} (relative tolerance {tol:e})\n  \
             expected {expected:?}\n  actual   {actual:?}"
        );
    }
}

/// A gradient check at the tolerances of the test suite: relative 1e-6 or
/// absolute 1e-9.
#[track_caller]
pub(crate) fn assert_grads(what: &str, comparisons: &[Comparison]) {
    assert_agree(what, comparisons, GRAD_REL, GRAD_ABS);
}

/// `len` fixed pseudo-random values, uniform in `[lo, hi)`.
pub(crate) fn values(len: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|i| lo + (hi - lo) * crate::rng::uniform(seed, i as u64)).collect()
}

/// `len` fixed pseudo-random values in `±[0.1, 2)`: away from the kinks at 0.
pub(crate) fn away_from_zero(len: usize, seed: u64) -> Vec<f64> {
    values(len, seed, -1.0, 1.0)
        .into_iter()
        .map(|u| if u < 0.0 { -0.1 + 1.9 * u } else { 0.1 + 1.9 * u })
        .collect()
}
