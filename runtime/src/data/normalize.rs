//! Feature scaling: [`Standardize`] (zero mean, unit variance), [`MinMax`]
//! (onto `[0, 1]`) and [`scale`] (by a constant).
//!
//! A scaler is fitted on the training inputs and then applied, unchanged, to
//! the training, validation and test inputs alike, so that all are scaled
//! the same way:
//!
//! ```
//! use perceptra_runtime::data::{Dataset, Standardize};
//! use perceptra_runtime::nalgebra::SVector;
//!
//! let train = Dataset::new(vec![SVector::from([1.0f32, 10.0]), SVector::from([3.0, 10.0])], vec![0, 1])?;
//! let scaler = Standardize::fit(train.inputs());
//! let train = scaler.apply_dataset(train);
//! assert_eq!(train.inputs()[0], SVector::from([-1.0, 0.0]));
//! # Ok::<(), perceptra_runtime::data::LengthMismatch>(())
//! ```
//!
//! Statistics are computed, and stored, in `f64` whatever the inputs' type,
//! and each scaled value is computed in `f64` and then rounded once to `T`.
//! A feature that is constant in the data fitted on (zero variance or zero
//! range) is only shifted, never divided by zero: it becomes 0 on that data.
//! Inputs are expected to be finite; a NaN or infinity spreads to its
//! feature's statistics.

use nalgebra::SVector;

use crate::Float;
use crate::data::Dataset;

/// Standardisation: each feature shifted by its mean and divided by its
/// standard deviation, as fitted (scikit-learn's `StandardScaler`).
///
/// The standard deviation is the population one (dividing by `n`, not
/// `n - 1`). A constant feature has `std` 0 and `mean` exactly its value,
/// and is only shifted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardize<const N: usize> {
    /// Each feature's mean.
    pub mean: SVector<f64, N>,
    /// Each feature's standard deviation (0 for a constant feature).
    pub std: SVector<f64, N>,
}

impl<const N: usize> Standardize<N> {
    /// Each feature's mean and standard deviation over `inputs`, computed in
    /// `f64` in two passes. Fitted on no inputs, it is the identity (mean 0,
    /// standard deviation 0).
    pub fn fit<T: Float>(inputs: &[SVector<T, N>]) -> Self {
        let zero = SVector::<f64, N>::zeros();
        if inputs.is_empty() {
            return Standardize { mean: zero, std: zero };
        }
        let n = inputs.len() as f64;
        let (low, high) = bounds(inputs);
        let mut mean = zero;
        for x in inputs {
            for (m, v) in mean.iter_mut().zip(x.iter()) {
                *m += v.as_f64();
            }
        }
        mean /= n;
        let mut var = zero;
        for x in inputs {
            for ((s, v), m) in var.iter_mut().zip(x.iter()).zip(mean.iter()) {
                let d = v.as_f64() - m;
                *s += d * d;
            }
        }
        let mut std = var.map(|s| nalgebra::ComplexField::sqrt(s / n));
        // A constant feature: exactly its value, and no spread.
        for (((m, s), lo), hi) in
            mean.iter_mut().zip(std.iter_mut()).zip(low.iter()).zip(high.iter())
        {
            if lo == hi {
                *m = *lo;
                *s = 0.0;
            }
        }
        Standardize { mean, std }
    }

    /// Scales `inputs` in place: `(x - mean) / std`, or `x - mean` where
    /// `std` is 0.
    pub fn apply<T: Float>(&self, inputs: &mut [SVector<T, N>]) {
        for x in inputs {
            *x = self.transform(x);
        }
    }

    /// One input, scaled.
    pub fn transform<T: Float>(&self, x: &SVector<T, N>) -> SVector<T, N> {
        SVector::from_fn(|i, _| {
            let (m, s) = (self.mean[i], self.std[i]);
            let d = x[i].as_f64() - m;
            T::of_f64(if s > 0.0 { d / s } else { d })
        })
    }

    /// The dataset with its inputs scaled and its targets unchanged.
    pub fn apply_dataset<T: Float, Y>(
        &self,
        dataset: Dataset<SVector<T, N>, Y>,
    ) -> Dataset<SVector<T, N>, Y> {
        map_inputs(dataset, |x| self.transform(x))
    }
}

/// Min–max scaling: each feature mapped linearly so that its minimum, as
/// fitted, becomes 0 and its maximum 1 (scikit-learn's `MinMaxScaler`).
///
/// Values outside the fitted range (in test data) land outside `[0, 1]`;
/// they are not clipped. A constant feature has `min == max` and is only
/// shifted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinMax<const N: usize> {
    /// Each feature's minimum.
    pub min: SVector<f64, N>,
    /// Each feature's maximum.
    pub max: SVector<f64, N>,
}

impl<const N: usize> MinMax<N> {
    /// Each feature's minimum and maximum over `inputs`. Fitted on no
    /// inputs, it is the identity (minimum and maximum 0).
    pub fn fit<T: Float>(inputs: &[SVector<T, N>]) -> Self {
        if inputs.is_empty() {
            let zero = SVector::<f64, N>::zeros();
            return MinMax { min: zero, max: zero };
        }
        let (min, max) = bounds(inputs);
        MinMax { min, max }
    }

    /// Scales `inputs` in place: `(x - min) / (max - min)`, or `x - min`
    /// where `max == min`.
    pub fn apply<T: Float>(&self, inputs: &mut [SVector<T, N>]) {
        for x in inputs {
            *x = self.transform(x);
        }
    }

    /// One input, scaled.
    pub fn transform<T: Float>(&self, x: &SVector<T, N>) -> SVector<T, N> {
        SVector::from_fn(|i, _| {
            let (lo, hi) = (self.min[i], self.max[i]);
            let d = x[i].as_f64() - lo;
            T::of_f64(if hi > lo { d / (hi - lo) } else { d })
        })
    }

    /// The dataset with its inputs scaled and its targets unchanged.
    pub fn apply_dataset<T: Float, Y>(
        &self,
        dataset: Dataset<SVector<T, N>, Y>,
    ) -> Dataset<SVector<T, N>, Y> {
        map_inputs(dataset, |x| self.transform(x))
    }
}

/// Multiplies every value of `inputs` by `factor`, in `f64`: `scale(&mut
/// pixels, 1.0 / 255.0)`.
pub fn scale<T: Float, const N: usize>(inputs: &mut [SVector<T, N>], factor: f64) {
    for x in inputs {
        for v in x.iter_mut() {
            *v = T::of_f64(v.as_f64() * factor);
        }
    }
}

/// Each feature's minimum and maximum over `inputs`, which is not empty.
fn bounds<T: Float, const N: usize>(
    inputs: &[SVector<T, N>],
) -> (SVector<f64, N>, SVector<f64, N>) {
    let mut low = SVector::<f64, N>::repeat(f64::INFINITY);
    let mut high = SVector::<f64, N>::repeat(f64::NEG_INFINITY);
    for x in inputs {
        for ((lo, hi), v) in low.iter_mut().zip(high.iter_mut()).zip(x.iter()) {
            let v = v.as_f64();
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }
    (low, high)
}

/// The dataset with `f` applied to each input.
fn map_inputs<T: Float, Y, const N: usize>(
    dataset: Dataset<SVector<T, N>, Y>,
    f: impl Fn(&SVector<T, N>) -> SVector<T, N>,
) -> Dataset<SVector<T, N>, Y> {
    let (mut inputs, targets) = dataset.into_parts();
    for x in &mut inputs {
        *x = f(x);
    }
    Dataset::new(inputs, targets).expect("as many inputs as before")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn v(a: f64, b: f64, c: f64) -> SVector<f64, 3> {
        SVector::from([a, b, c])
    }

    #[test]
    fn standardize_literals() {
        // Feature 0: 1, 2, 3, 4 → mean 2.5, std √1.25. Feature 1: constant.
        // Feature 2: -2, 2, -2, 2 → mean 0, std 2.
        let mut inputs =
            vec![v(1.0, 7.0, -2.0), v(2.0, 7.0, 2.0), v(3.0, 7.0, -2.0), v(4.0, 7.0, 2.0)];
        let s = Standardize::fit(&inputs);
        assert_eq!(s.mean, v(2.5, 7.0, 0.0));
        assert!((s.std[0] - 1.25f64.sqrt()).abs() < 1e-15);
        assert_eq!(s.std[1], 0.0);
        assert_eq!(s.std[2], 2.0);
        s.apply(&mut inputs);
        let r = 1.25f64.sqrt();
        let expected = [
            v(-1.5 / r, 0.0, -1.0),
            v(-0.5 / r, 0.0, 1.0),
            v(0.5 / r, 0.0, -1.0),
            v(1.5 / r, 0.0, 1.0),
        ];
        for (x, e) in inputs.iter().zip(&expected) {
            assert!((x - e).norm() < 1e-12, "{x} {e}");
        }
        // The scaled data has mean 0 and standard deviation 1 (0 for the constant).
        let again = Standardize::fit(&inputs);
        assert!(again.mean.norm() < 1e-12);
        assert!((again.std - v(1.0, 0.0, 1.0)).norm() < 1e-12);
        // New data, outside the fitted range: the constant feature is only shifted.
        assert_eq!(s.transform(&v(2.5, 9.0, 4.0)), v(0.0, 2.0, 2.0));
    }

    #[test]
    fn constant_features_become_exactly_zero_even_when_the_mean_rounds() {
        // 0.1 ten times: the sum is not exactly 1, the mean not exactly 0.1.
        let mut inputs = vec![SVector::from([0.1f32]); 10];
        let s = Standardize::fit(&inputs);
        assert_eq!(s.std[0], 0.0);
        s.apply(&mut inputs);
        assert!(inputs.iter().all(|x| x[0] == 0.0));
        let mut inputs = vec![SVector::from([0.1f32]); 10];
        MinMax::fit(&inputs).apply(&mut inputs);
        assert!(inputs.iter().all(|x| x[0] == 0.0));
    }

    #[test]
    fn statistics_in_f64() {
        // In f32, 1e8 + 1 rounds to 1e8; the mean is computed in f64 from the
        // values as given.
        let inputs = [SVector::from([1e8f32]), SVector::from([1e8f32 + 8.0])];
        let s = Standardize::fit(&inputs);
        assert_eq!(s.mean[0], 1e8 + 4.0);
        assert_eq!(s.std[0], 4.0);
        let out: Vec<f32> = inputs.iter().map(|x| s.transform(x)[0]).collect();
        assert_eq!(out, [-1.0, 1.0]);
    }

    #[test]
    fn min_max_literals() {
        let mut inputs = vec![v(1.0, 5.0, -1.0), v(3.0, 5.0, 1.0), v(2.0, 5.0, 0.0)];
        let m = MinMax::fit(&inputs);
        assert_eq!(m.min, v(1.0, 5.0, -1.0));
        assert_eq!(m.max, v(3.0, 5.0, 1.0));
        m.apply(&mut inputs);
        assert_eq!(inputs, vec![v(0.0, 0.0, 0.0), v(1.0, 0.0, 1.0), v(0.5, 0.0, 0.5)]);
        // Outside the range: not clipped.
        assert_eq!(m.transform(&v(5.0, 6.0, 3.0)), v(2.0, 1.0, 2.0));
    }

    #[test]
    fn empty_fits_are_the_identity() {
        let s = Standardize::<2>::fit::<f32>(&[]);
        let m = MinMax::<2>::fit::<f32>(&[]);
        let x = SVector::from([3.0f32, -4.0]);
        assert_eq!(s.transform(&x), x);
        assert_eq!(m.transform(&x), x);
    }

    #[test]
    fn scale_and_datasets() {
        let mut inputs = vec![SVector::from([255.0f32, 51.0]), SVector::from([0.0, 127.5])];
        scale(&mut inputs, 1.0 / 255.0);
        assert_eq!(inputs, vec![SVector::from([1.0, 0.2]), SVector::from([0.0, 0.5])]);
        let data =
            Dataset::new(vec![SVector::from([2.0f64]), SVector::from([4.0])], vec!['a', 'b'])
                .unwrap();
        let s = Standardize::fit(data.inputs());
        let m = MinMax::fit(data.inputs());
        let scaled = s.apply_dataset(data.clone());
        assert_eq!(scaled.inputs(), &[SVector::from([-1.0]), SVector::from([1.0])]);
        assert_eq!(scaled.targets(), &['a', 'b']);
        assert_eq!(m.apply_dataset(data).inputs(), &[SVector::from([0.0]), SVector::from([1.0])]);
    }
}
