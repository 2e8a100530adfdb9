//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`.

use nalgebra::ComplexField;

use crate::Float;

/// Rescales `grads` so that their Euclidean norm is at most about
/// `max_norm`, as `torch.nn.utils.clip_grad_norm_(…, max_norm, norm_type=2)`,
/// and returns their norm from before.
///
/// With the total norm `‖g‖ = √(Σ gᵢ²)`, computed in `f64` (PyTorch computes
/// it in the gradients' type, so `f32` results may differ in the last bits):
///
/// ```text
/// c = max_norm / (‖g‖ + 10⁻⁶)
/// g ← c g    if c < 1
/// ```
///
/// so a norm just below `max_norm` (within 10⁻⁶) is scaled by slightly less
/// than 1, as in PyTorch.
///
/// A non-finite norm is returned, and scales the gradients as PyTorch does
/// (its default `error_if_nonfinite=False`): a NaN norm makes every gradient
/// NaN; an infinite norm makes `c = 0`, so finite gradients become 0 and
/// infinite ones NaN. A training loop should check the returned norm with
/// `is_finite` and skip the step when it is not.
///
/// # Panics
/// If `max_norm` is negative or NaN.
pub fn clip_grad_norm<T: Float>(grads: &mut [T], max_norm: f64) -> f64 {
    assert!(max_norm >= 0.0, "clip_grad_norm: the maximum norm {max_norm} must be at least 0");
    let sum_sq: f64 = grads.iter().map(|&g| g.as_f64() * g.as_f64()).sum();
    let total = ComplexField::sqrt(sum_sq);
    let coef = max_norm / (total + 1e-6);
    // `torch.clamp(coef, max=1.0)`, which keeps a NaN.
    if coef < 1.0 || coef.is_nan() {
        let coef = T::of_f64(coef);
        for g in grads.iter_mut() {
            *g *= coef;
        }
    }
    total
}

/// Clamps every gradient to `[−clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`:
///
/// ```text
/// gᵢ ← min(max(gᵢ, −c), c)
/// ```
///
/// A NaN gradient stays NaN, as with `torch.clamp`.
///
/// # Panics
/// If `clip_value` is negative or NaN.
pub fn clip_grad_value<T: Float>(grads: &mut [T], clip_value: f64) {
    assert!(clip_value >= 0.0, "clip_grad_value: the clip value {clip_value} must be at least 0");
    let hi = T::of_f64(clip_value);
    let lo = -hi;
    for g in grads.iter_mut() {
        if *g > hi {
            *g = hi;
        } else if *g < lo {
            *g = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_all_close;

    #[test]
    fn large_norms_are_scaled_down() {
        // ‖(3, 4)‖ = 5; c = 1 / (5 + 10⁻⁶).
        let mut g = [3.0, -4.0];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert_eq!(norm, 5.0);
        let c = 1.0 / (5.0 + 1e-6);
        assert_eq!(g, [3.0 * c, -4.0 * c]);
        // The norm after is just below the maximum.
        let after = (g[0] * g[0] + g[1] * g[1]).sqrt();
        assert!(after < 1.0 && after > 1.0 - 1e-6);
        // f32: the norm is computed in f64.
        let mut g = [3.0f32, -4.0, 0.0];
        assert_eq!(clip_grad_norm(&mut g, 2.5), 5.0);
        assert_all_close(&g, &[1.5, -2.0, 0.0], 1e-6);
    }

    #[test]
    fn small_norms_are_kept() {
        let mut g = [0.3, 0.4];
        assert_all_close(&[clip_grad_norm(&mut g, 1.0)], &[0.5], 1e-15);
        assert_eq!(g, [0.3, 0.4]);
        // Below the maximum by more than 10⁻⁶: c > 1, kept.
        let mut g = [0.5 - 2e-6];
        clip_grad_norm(&mut g, 0.5);
        assert_eq!(g, [0.5 - 2e-6]);
        // Nothing to clip.
        let mut g: [f64; 0] = [];
        assert_eq!(clip_grad_norm(&mut g, 1.0), 0.0);
        let mut g = [0.0, 0.0];
        assert_eq!(clip_grad_norm(&mut g, 0.0), 0.0);
        assert_eq!(g, [0.0, 0.0]);
    }

    #[test]
    fn norms_just_below_the_maximum_are_scaled_as_in_pytorch() {
        // ‖g‖ = 1 − 10⁻⁷ ≤ 1, but c = 1 / (1 + 9 · 10⁻⁷) < 1.
        let mut g = [1.0 - 1e-7];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert_eq!(norm, 1.0 - 1e-7);
        assert_eq!(g, [(1.0 - 1e-7) * (1.0 / (1.0 - 1e-7 + 1e-6))]);
        assert!(g[0] < 1.0 - 1e-7);
    }

    #[test]
    fn non_finite_norms_scale_as_in_pytorch() {
        // Infinite norm: c = 0, so finite gradients become 0 and the infinite one NaN.
        let mut g = [1.0, f64::INFINITY, -2.0];
        assert_eq!(clip_grad_norm(&mut g, 1.0), f64::INFINITY);
        assert_eq!(g[0], 0.0);
        assert!(g[1].is_nan());
        assert_eq!(g[2], 0.0);
        // NaN norm: every gradient NaN.
        let mut g = [1.0f32, f32::NAN];
        assert!(clip_grad_norm(&mut g, 1.0).is_nan());
        assert!(g.iter().all(|x| x.is_nan()));
        // A norm overflowing f64 is infinite too.
        let mut g = [1e200, 1e200];
        assert_eq!(clip_grad_norm(&mut g, 1.0), f64::INFINITY);
        assert_eq!(g, [0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "clip_grad_norm: the maximum norm -1 must be at least 0")]
    fn negative_maximum_norm_panics() {
        clip_grad_norm(&mut [1.0], -1.0);
    }

    #[test]
    fn values_are_clamped() {
        let mut g = [-3.0, -0.5, 0.0, 0.5, 3.0, f64::INFINITY, f64::NEG_INFINITY];
        clip_grad_value(&mut g, 1.0);
        assert_eq!(g, [-1.0, -0.5, 0.0, 0.5, 1.0, 1.0, -1.0]);
        let mut g = [f64::NAN, 2.0];
        clip_grad_value(&mut g, 1.0);
        assert!(g[0].is_nan());
        assert_eq!(g[1], 1.0);
        let mut g = [0.25f32, -0.75];
        clip_grad_value(&mut g, 0.5);
        assert_eq!(g, [0.25, -0.5]);
        let mut g = [0.25, -0.75];
        clip_grad_value(&mut g, 0.0);
        assert_eq!(g, [0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "clip_grad_value: the clip value NaN must be at least 0")]
    fn nan_clip_value_panics() {
        clip_grad_value(&mut [1.0], f64::NAN);
    }
}
