//! How stored samples become network inputs.
//!
//! Training copies each minibatch's samples, scattered over the data set,
//! into one block; that copy is bound by memory, not by arithmetic. A data
//! set kept in the form its source has (MNIST's pixels are bytes) is a
//! quarter the size of one in `f32`, and its rows are copied and converted
//! faster than `f32` rows are copied: see [`Pixels`].

use nalgebra::SVector;

use crate::{Float, Vector};

/// A sample as a data set stores it, which becomes an input of type `V` when
/// a batch is gathered: `V` itself, or a compact form such as [`Pixels`].
///
/// [`Trainer::fit`](crate::fit::Trainer::fit) and
/// [`evaluate`](crate::fit::evaluate) take a [`Dataset`](crate::Dataset) of
/// any `Sample` of the network's input.
pub trait Sample<V: Vector>: Sync {
    /// Writes the sample as `V`'s scalars into `out`.
    ///
    /// # Panics
    ///
    /// If `out` does not hold `V::LEN` scalars.
    fn write(&self, out: &mut [V::Scalar]);

    /// The samples as one slice of inputs' scalars, if they are stored as
    /// such (then evaluation reads them where they are).
    fn as_scalars(samples: &[Self]) -> Option<&[V::Scalar]>
    where
        Self: Sized,
    {
        let _ = samples;
        None
    }
}

impl<V: Vector> Sample<V> for V {
    #[inline]
    fn write(&self, out: &mut [V::Scalar]) {
        out.copy_from_slice(self.as_slice());
    }

    fn as_scalars(samples: &[V]) -> Option<&[V::Scalar]> {
        bytemuck::try_cast_slice(samples)
            .ok()
            .filter(|flat: &&[V::Scalar]| flat.len() == samples.len() * V::LEN)
    }
}

/// `N` intensities of one byte each, as image files store them; the input
/// they become has `b / 255` (computed in the network's scalar type) for
/// byte `b`, the same values [`mnist::load`](crate::data::mnist::load)
/// gives, in `[0, 1]`.
///
/// MNIST's 60,000 training images take 47 MB as pixels and 188 MB as `f32`.
/// Gathering a batch of them converts each row as it copies it; on the
/// machine of the README's performance section, a row of pixels is copied
/// and converted in about half the time a row of `f32` takes to copy, so an
/// epoch at batch 128 is several percent shorter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Pixels<const N: usize>(pub [u8; N]);

impl<const N: usize> Pixels<N> {
    /// The input these pixels become: `b / 255` for byte `b`.
    pub fn to_vector<T: Float>(&self) -> SVector<T, N> {
        let mut v = SVector::<T, N>::zeros();
        <Self as Sample<SVector<T, N>>>::write(self, v.as_mut_slice());
        v
    }
}

impl<const N: usize> Default for Pixels<N> {
    fn default() -> Self {
        Pixels([0; N])
    }
}

impl<T: Float, const N: usize> Sample<SVector<T, N>> for Pixels<N> {
    #[inline]
    fn write(&self, out: &mut [T]) {
        assert_eq!(out.len(), N, "Pixels::write: {N} pixels into {} scalars", out.len());
        if core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
            let out: &mut [f32] = bytemuck::cast_slice_mut(out);
            // With AVX-512 where the CPU has it: 16 pixels per conversion
            // and division.
            crate::gemm::wide(|| {
                for (o, &b) in out.iter_mut().zip(&self.0) {
                    *o = f32::from(b) / 255.0;
                }
            });
        } else {
            let scale = T::of_usize(255);
            for (o, &b) in out.iter_mut().zip(&self.0) {
                *o = T::of_usize(usize::from(b)) / scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte, then a tail shorter than a vector.
    fn all_bytes<const N: usize>() -> Pixels<N> {
        Pixels(core::array::from_fn(|i| (i * 7 % 256) as u8))
    }

    fn check<T: Float>() {
        let pixels = all_bytes::<{ 256 + 13 }>();
        let v = pixels.to_vector::<T>();
        for (i, (&x, &b)) in v.iter().zip(&pixels.0).enumerate() {
            let want = T::of_usize(usize::from(b)) / T::of_usize(255);
            assert!(x == want, "pixel {i}: {b} became {x:?}, not {want:?}");
        }
        assert_eq!(v[0], T::zero());
        assert_eq!(v[73], T::one(), "pixel 73 is 255");
    }

    #[test]
    fn pixels_become_byte_over_255_in_f32() {
        check::<f32>();
    }

    #[test]
    fn pixels_become_byte_over_255_in_f64() {
        check::<f64>();
    }

    #[test]
    fn vectors_are_their_own_samples() {
        let v = SVector::<f32, 3>::new(1.0, -2.0, 3.5);
        let mut out = [0.0; 3];
        v.write(&mut out);
        assert_eq!(out, [1.0, -2.0, 3.5]);
        let two = [v, v];
        let flat = <SVector<f32, 3> as Sample<SVector<f32, 3>>>::as_scalars(&two).unwrap();
        assert_eq!(flat, [1.0, -2.0, 3.5, 1.0, -2.0, 3.5]);
        assert!(<Pixels<3> as Sample<SVector<f32, 3>>>::as_scalars(&[Pixels([0; 3])]).is_none());
    }

    #[test]
    #[should_panic(expected = "3 pixels into 4 scalars")]
    fn writing_into_the_wrong_length_panics() {
        <Pixels<3> as Sample<SVector<f32, 3>>>::write(&Pixels([1, 2, 3]), &mut [0.0f32; 4]);
    }
}
