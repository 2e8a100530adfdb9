//! Small kernels for one sample, written so that the compiler keeps them in
//! registers and vectorises them on any target; on a Cortex-M with a
//! single-precision FPU, the `f32` dot product is a few lines of assembly.

#![allow(unsafe_code)]

use crate::Float;

/// Lanes of independent partial sums in [`dot`].
const LANES: usize = 8;

/// `Σᵢ aᵢ bᵢ` over the common length, in `LANES` independent partial sums
/// added at the end: the loop has no dependency from one step to the next,
/// so it vectorises on desktops and pairs loads with multiply-adds on a
/// Cortex-M (two `vldm` and eight `vmla` per eight terms).
///
/// The order of the additions is fixed and no fused multiply-add is used, so
/// every target (and the Cortex-M assembly below) computes the same bits.
#[inline(always)]
pub(crate) fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    if core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        let d = arm::dot(bytemuck::cast_slice(a), bytemuck::cast_slice(b));
        return T::of_f64(f64::from(d));
    }
    let n = a.len().min(b.len());
    let (a_chunks, a_rest) = a[..n].as_chunks::<LANES>();
    let (b_chunks, b_rest) = b[..n].as_chunks::<LANES>();
    let mut acc = [T::zero(); LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    for (k, (&x, &y)) in a_rest.iter().zip(b_rest).enumerate() {
        acc[k] += x * y;
    }
    // A pairwise sum of the lanes.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] += acc[k + width];
        }
    }
    acc[0]
}

/// `y ← W·x + b` for a row-major `W` of `y.len()` rows by `x.len()` columns:
/// one sample through a dense layer. `y` is only written.
///
/// With `f32` on an x86-64 with AVX-512 (detected at run time) this is the
/// batched forward product ([`gemm_bias`](crate::gemm::gemm_bias)) on a
/// batch of one, so a sample gives the same bits alone as in a batch; where
/// that product is shared between cores, a helper neither waits for `b` nor
/// reads `y` from the caller's cache, it only writes its rows. Elsewhere,
/// one [`dot`] per row.
#[inline]
pub(crate) fn matvec_bias<T: Float>(w: &[T], x: &[T], b: &[T], y: &mut [T]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if crate::gemm::fast_f32::<T>() {
        use crate::gemm::{Mat, MatMut, gemm_bias};
        let (rows, cols) = (y.len(), x.len());
        gemm_bias(
            Mat::row_major(w, rows, cols),
            Mat::col_major(x, cols, 1),
            b,
            MatMut::col_major(y, rows, 1),
        );
        return;
    }
    for ((y, row), &b) in y.iter_mut().zip(w.chunks_exact(x.len())).zip(b) {
        *y = dot(row, x) + b;
    }
}

/// The `f32` dot product for Cortex-M cores with an FPU (`eabihf`).
///
/// LLVM loads each scalar with its own `vldr`; this loop loads eight of each
/// operand with one `vldm` and accumulates with eight `vmla`: 12 instructions
/// per 8 terms instead of about 26. `vmla` rounds the product and then the
/// sum, like a multiplication followed by an addition, and each lane sums
/// the same terms in the same order as the portable [`dot`], so both give the
/// same bits.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod arm {
    use super::LANES;

    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let blocks = n / LANES;
        let mut acc = [0.0f32; LANES];
        if blocks > 0 {
            // SAFETY: the loop reads `8 · blocks ≤ n` scalars from each of `a`
            // and `b` (both at least `n` long) and writes only `acc`, 8
            // scalars; every register it changes is declared, and s16–s23,
            // which the ABI asks callees to keep, are saved by the compiler.
            unsafe {
                core::arch::asm!(
                    "vldmia {acc}, {{s16-s23}}",
                    "2:",
                    "vldmia {a}!, {{s0-s7}}",
                    "vldmia {b}!, {{s8-s15}}",
                    "vmla.f32 s16, s0, s8",
                    "vmla.f32 s17, s1, s9",
                    "vmla.f32 s18, s2, s10",
                    "vmla.f32 s19, s3, s11",
                    "vmla.f32 s20, s4, s12",
                    "vmla.f32 s21, s5, s13",
                    "vmla.f32 s22, s6, s14",
                    "vmla.f32 s23, s7, s15",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    "vstmia {acc}, {{s16-s23}}",
                    acc = in(reg) acc.as_mut_ptr(),
                    a = inout(reg) a.as_ptr() => _,
                    b = inout(reg) b.as_ptr() => _,
                    n = inout(reg) blocks => _,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                    out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                    out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                    out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                    out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                    out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                    options(nostack),
                );
            }
        }
        let done = blocks * LANES;
        for (k, (&x, &y)) in a[done..n].iter().zip(&b[done..n]).enumerate() {
            acc[k] += x * y;
        }
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for k in 0..width {
                acc[k] += acc[k + width];
            }
        }
        acc[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_agrees_with_the_definition_at_every_length() {
        for n in 0..40 {
            let a: alloc::vec::Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
            let b: alloc::vec::Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - want).abs() < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn dot_uses_the_shorter_length() {
        assert_eq!(dot(&[1.0f32, 2.0, 3.0], &[4.0, 5.0]), 14.0);
    }
}
