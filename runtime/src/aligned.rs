//! Storage that starts on a 64-byte cache line.
//!
//! The AVX-512 kernels load 64 bytes at a time. From a buffer the allocator
//! placed 16 bytes past a line (as glibc's `malloc` does for every large
//! block), every such load straddles two lines. Measured on a 2-core Zen 4:
//! one core reading 64 rows of 784 weights took 1.87 µs from a buffer on a
//! cache line against 2.09 µs from one 16 bytes past it; one sample through
//! 784-128-10 took 2.81 against 3.02 µs (medians of 12 alternating runs).
//! The parameters, the gradients, the training loop's batch and
//! activations, and the state of the vectorised optimizers (Adam, AdamW,
//! SGD) are therefore kept aligned, all of them: with the parameters and
//! gradients aligned but Adam's moments not, an epoch of 784-256-128-10
//! took 0.46–0.48 s, against 0.41–0.42 s with every buffer aligned and
//! 0.42–0.43 s with none.

#![allow(unsafe_code)]

use core::borrow::{Borrow, BorrowMut};

use bytemuck::{Pod, Zeroable};

use crate::Float;

/// A value stored at an address that is a multiple of 64: the first scalar
/// of an `Aligned<[f32; N]>` starts a cache line.
///
/// `Box<Aligned<[T; N]>>` is the storage `network!` models use by default
/// (`Mnist::new`). It borrows as the `[T; N]` inside, so it is a storage
/// like any other: `Mnist::from_params(storage)`, `into_params()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C, align(64))]
pub struct Aligned<A>(pub A);

// SAFETY: `Aligned<A>` is `A` followed by padding; if all-zero bytes are a
// valid `A`, they are a valid `Aligned<A>`.
unsafe impl<A: Zeroable> Zeroable for Aligned<A> {}

// SAFETY: `Float` is sealed to `f32` and `f64`, so `[T; 16]` is 64 or 128
// bytes: a multiple of the alignment, hence no padding, and every bit
// pattern is a valid `[T; 16]`, hence a valid `Aligned<[T; 16]>`.
unsafe impl<T: Float> Pod for Aligned<[T; 16]> {}

impl<T, const N: usize> Borrow<[T; N]> for Aligned<[T; N]> {
    fn borrow(&self) -> &[T; N] {
        &self.0
    }
}

impl<T, const N: usize> BorrowMut<[T; N]> for Aligned<[T; N]> {
    fn borrow_mut(&mut self) -> &mut [T; N] {
        &mut self.0
    }
}

#[cfg(feature = "alloc")]
impl<T, const N: usize> Borrow<[T; N]> for alloc::boxed::Box<Aligned<[T; N]>> {
    fn borrow(&self) -> &[T; N] {
        &self.0
    }
}

#[cfg(feature = "alloc")]
impl<T, const N: usize> BorrowMut<[T; N]> for alloc::boxed::Box<Aligned<[T; N]>> {
    fn borrow_mut(&mut self) -> &mut [T; N] {
        &mut self.0
    }
}

/// `N` zero scalars on the heap, on a cache line, never on the stack (a
/// 784-512-512-10 model is 2.6 MB).
#[cfg(feature = "alloc")]
pub(crate) fn zeroed_box<T: Float, const N: usize>() -> alloc::boxed::Box<Aligned<[T; N]>> {
    bytemuck::allocation::zeroed_box()
}

/// A growable run of scalars whose first one starts a cache line: the
/// runtime's buffers of gradients, activations and batches.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
pub(crate) struct AlignedVec<T> {
    chunks: alloc::vec::Vec<Aligned<[T; 16]>>,
    len: usize,
}

#[cfg(feature = "alloc")]
impl<T: Float> AlignedVec<T> {
    /// `len` zeros.
    pub(crate) fn zeroed(len: usize) -> Self {
        let mut v = Self::default();
        v.resize(len);
        v
    }

    /// Sets the length to `len`; scalars past the old length are zero.
    pub(crate) fn resize(&mut self, len: usize) {
        if len > self.len {
            // Clear what a shrink left behind before growing over it.
            let old = self.len;
            self.len = len.min(self.chunks.len() * 16);
            self.as_mut_slice()[old..].fill(T::zero());
            self.chunks.resize(len.div_ceil(16), Aligned([T::zero(); 16]));
        }
        self.len = len;
    }

    /// A copy of `values`.
    pub(crate) fn from_slice(values: &[T]) -> Self {
        let mut v = Self::zeroed(values.len());
        v.as_mut_slice().copy_from_slice(values);
        v
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        &bytemuck::cast_slice(&self.chunks)[..self.len]
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut bytemuck::cast_slice_mut(&mut self.chunks)[..self.len]
    }
}

#[cfg(feature = "alloc")]
impl<T: Float> Default for AlignedVec<T> {
    fn default() -> Self {
        AlignedVec { chunks: alloc::vec::Vec::new(), len: 0 }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    fn line(p: *const u8) -> usize {
        p as usize % 64
    }

    #[test]
    fn boxes_start_on_a_line_and_borrow_their_array() {
        let mut b = zeroed_box::<f32, 1001>();
        assert_eq!(line(b.0.as_ptr().cast()), 0);
        assert!(b.0.iter().all(|&x| x == 0.0));
        let a: &mut [f32; 1001] = b.borrow_mut();
        a[1000] = 2.0;
        let a: &[f32; 1001] = b.borrow();
        assert_eq!(a[1000], 2.0);
        let d = zeroed_box::<f64, 3>();
        assert_eq!(line(d.0.as_ptr().cast()), 0);
        // A network without parameters (a lone softmax) has an empty box.
        let e = zeroed_box::<f32, 0>();
        assert!(e.0.is_empty());
    }

    #[test]
    fn vectors_start_on_a_line_and_grow_with_zeros() {
        let mut v = AlignedVec::<f32>::zeroed(5);
        assert_eq!(v.as_slice(), [0.0; 5]);
        v.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        // Shrinking keeps the front; growing again brings zeros, not the
        // old values, even within the same chunk.
        v.resize(2);
        assert_eq!(v.as_slice(), [1.0, 2.0]);
        v.resize(40);
        assert_eq!(v.len(), 40);
        assert_eq!(v.as_slice()[..2], [1.0, 2.0]);
        assert!(v.as_slice()[2..].iter().all(|&x| x == 0.0));
        assert_eq!(line(v.as_slice().as_ptr().cast()), 0);
        let c = v.clone();
        assert_eq!(c.as_slice(), v.as_slice());
        assert_eq!(line(c.as_slice().as_ptr().cast()), 0);
        let mut d = AlignedVec::<f64>::default();
        assert!(d.as_slice().is_empty());
        d.resize(17);
        assert_eq!(line(d.as_slice().as_ptr().cast()), 0);
        assert_eq!(d.as_slice(), [0.0; 17]);
    }
}
