//! Synthetic two-dimensional classification sets, for trying networks out:
//! Gaussian [`blobs`], two interleaved half-circles ([`moons`]), [`spirals`]
//! and the [`xor`] problem.
//!
//! Each function takes a seed and is deterministic: the same arguments give
//! the same dataset (draws come from ChaCha8, Gaussian noise from the
//! Box–Muller transform of its uniform draws; only the last bit of a
//! logarithm or cosine may differ between platforms' math libraries). Each has a
//! `_with` twin that draws from a caller's [`Rng`] instead. The samples come
//! shuffled, as scikit-learn's `make_*` functions return them, so that a
//! [`split_off`](crate::data::Dataset::split_off) keeps every class on both
//! sides.
//!
//! Class sizes are as even as they can be: of `n` samples in `k` classes,
//! the first `n % k` classes have `n / k + 1` samples and the others `n / k`.

use alloc::vec::Vec;
use core::f64::consts::PI;

use nalgebra::{ComplexField, SVector};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Float;
use crate::data::Dataset;

/// A point of the plane.
pub type Point<T> = SVector<T, 2>;

/// The box in which [`Centers::Random`] draws centers: `[-10, 10]` on each
/// axis, scikit-learn's `center_box`.
pub const CENTER_BOX: (f64, f64) = (-10.0, 10.0);

/// Where the [`blobs`] are centred.
#[derive(Clone, Debug, PartialEq)]
pub enum Centers {
    /// This many centers, drawn uniformly in [`CENTER_BOX`].
    Random(usize),
    /// These centers.
    At(Vec<[f64; 2]>),
}

impl From<usize> for Centers {
    fn from(k: usize) -> Centers {
        Centers::Random(k)
    }
}

impl From<Vec<[f64; 2]>> for Centers {
    fn from(centers: Vec<[f64; 2]>) -> Centers {
        Centers::At(centers)
    }
}

/// `n` points in Gaussian blobs of standard deviation `std` (on each axis)
/// around `centers`, labelled by blob: like scikit-learn's `make_blobs`.
///
/// `centers` is a [`Centers`], a number of random centers (`3`) or a
/// `Vec<[f64; 2]>`. With no centers, the dataset is empty. A negative `std`
/// counts as its absolute value.
pub fn blobs<T: Float>(
    n: usize,
    centers: impl Into<Centers>,
    std: f64,
    seed: u64,
) -> Dataset<Point<T>, usize> {
    blobs_with(&mut ChaCha8Rng::seed_from_u64(seed), n, centers, std)
}

/// [`blobs`], drawing from `rng`.
pub fn blobs_with<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    centers: impl Into<Centers>,
    std: f64,
) -> Dataset<Point<T>, usize> {
    let centers = match centers.into() {
        Centers::At(centers) => centers,
        Centers::Random(k) => {
            let (low, high) = CENTER_BOX;
            (0..k)
                .map(|_| {
                    let x = low + (high - low) * rng.random::<f64>();
                    let y = low + (high - low) * rng.random::<f64>();
                    [x, y]
                })
                .collect()
        }
    };
    let std = std.abs();
    let mut samples = Vec::with_capacity(if centers.is_empty() { 0 } else { n });
    for (label, &[cx, cy]) in centers.iter().enumerate() {
        for _ in 0..class_size(n, centers.len(), label) {
            let [gx, gy] = gaussian_pair(rng);
            samples.push(([cx + std * gx, cy + std * gy], label));
        }
    }
    finish(rng, samples)
}

/// `n` points on two interleaved half-circles of radius 1 (class 0 the
/// upper one, centred at the origin; class 1 the lower, centred at
/// `(1, 0.5)`), evenly spaced along each, with Gaussian noise of standard
/// deviation `noise` added to each coordinate: like scikit-learn's
/// `make_moons`.
pub fn moons<T: Float>(n: usize, noise: f64, seed: u64) -> Dataset<Point<T>, usize> {
    moons_with(&mut ChaCha8Rng::seed_from_u64(seed), n, noise)
}

/// [`moons`], drawing from `rng`.
pub fn moons_with<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    noise: f64,
) -> Dataset<Point<T>, usize> {
    let noise = noise.abs();
    let mut samples = Vec::with_capacity(n);
    for label in 0..2 {
        let m = class_size(n, 2, label);
        for i in 0..m {
            let t = PI * fraction(i, m);
            let (c, s) = (ComplexField::cos(t), ComplexField::sin(t));
            let [x, y] = if label == 0 { [c, s] } else { [1.0 - c, 0.5 - s] };
            let [gx, gy] = gaussian_pair(rng);
            samples.push(([x + noise * gx, y + noise * gy], label));
        }
    }
    finish(rng, samples)
}

/// `n` points on `classes` interleaved spiral arms, one per class, with
/// Gaussian noise of standard deviation `noise` added to each coordinate.
///
/// Arm `j` makes one turn outwards from the origin: its `i`-th of `m` points
/// is at radius `r = (i + 1) / m` and angle `2π j / classes + 2π r`. With no
/// classes, the dataset is empty.
pub fn spirals<T: Float>(
    n: usize,
    classes: usize,
    noise: f64,
    seed: u64,
) -> Dataset<Point<T>, usize> {
    spirals_with(&mut ChaCha8Rng::seed_from_u64(seed), n, classes, noise)
}

/// [`spirals`], drawing from `rng`.
pub fn spirals_with<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    classes: usize,
    noise: f64,
) -> Dataset<Point<T>, usize> {
    let noise = noise.abs();
    let mut samples = Vec::with_capacity(if classes == 0 { 0 } else { n });
    for label in 0..classes {
        let m = class_size(n, classes, label);
        for i in 0..m {
            let r = (i as f64 + 1.0) / m as f64;
            let angle = 2.0 * PI * (label as f64 / classes as f64 + r);
            let [gx, gy] = gaussian_pair(rng);
            let x = r * ComplexField::cos(angle) + noise * gx;
            let y = r * ComplexField::sin(angle) + noise * gy;
            samples.push(([x, y], label));
        }
    }
    finish(rng, samples)
}

/// `n` points in four Gaussian clusters of standard deviation `noise` at
/// the corners `(±1, ±1)`, labelled 1 where the signs of the corner's
/// coordinates differ (x XOR y) and 0 where they agree.
///
/// The clusters are as even as they can be (in the order `(1, 1)`,
/// `(-1, -1)`, `(1, -1)`, `(-1, 1)`), so class 0 has `n / 2` points or
/// one more. With `noise` 0, the points are the four corners exactly.
pub fn xor<T: Float>(n: usize, noise: f64, seed: u64) -> Dataset<Point<T>, usize> {
    xor_with(&mut ChaCha8Rng::seed_from_u64(seed), n, noise)
}

/// [`xor`], drawing from `rng`.
pub fn xor_with<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    noise: f64,
) -> Dataset<Point<T>, usize> {
    const CORNERS: [([f64; 2], usize); 4] =
        [([1.0, 1.0], 0), ([-1.0, -1.0], 0), ([1.0, -1.0], 1), ([-1.0, 1.0], 1)];
    let noise = noise.abs();
    let mut samples = Vec::with_capacity(n);
    for (k, &([cx, cy], label)) in CORNERS.iter().enumerate() {
        for _ in 0..class_size(n, CORNERS.len(), k) {
            let [gx, gy] = gaussian_pair(rng);
            samples.push(([cx + noise * gx, cy + noise * gy], label));
        }
    }
    finish(rng, samples)
}

/// The size of group `k` of `n` samples split into `groups` groups.
fn class_size(n: usize, groups: usize, k: usize) -> usize {
    match groups {
        0 => 0,
        _ => n / groups + usize::from(k < n % groups),
    }
}

/// `i / (m - 1)`, or 0 if `m ≤ 1`: `m` evenly spaced values from 0 to 1.
fn fraction(i: usize, m: usize) -> f64 {
    if m > 1 { i as f64 / (m - 1) as f64 } else { 0.0 }
}

/// Two independent standard normal draws, by the Box–Muller transform.
fn gaussian_pair<R: Rng + ?Sized>(rng: &mut R) -> [f64; 2] {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    let r = ComplexField::sqrt(-2.0 * ComplexField::ln(u1));
    let theta = 2.0 * PI * u2;
    [r * ComplexField::cos(theta), r * ComplexField::sin(theta)]
}

/// Shuffles the samples and makes a dataset of them.
fn finish<T: Float, R: Rng + ?Sized>(
    rng: &mut R,
    mut samples: Vec<([f64; 2], usize)>,
) -> Dataset<Point<T>, usize> {
    samples.shuffle(rng);
    let (inputs, targets): (Vec<_>, Vec<_>) = samples
        .into_iter()
        .map(|([x, y], label)| (Point::new(T::of_f64(x), T::of_f64(y)), label))
        .unzip();
    Dataset::new(inputs, targets).expect("one target per input")
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::vec;

    fn counts(data: &Dataset<Point<f64>, usize>, classes: usize) -> Vec<usize> {
        let mut seen = vec![0; classes];
        for &label in data.targets() {
            seen[label] += 1;
        }
        seen
    }

    fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
        let n = values.clone().count() as f64;
        let mean = values.clone().sum::<f64>() / n;
        let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn sizes_and_balance() {
        let data = blobs::<f64>(301, 3, 1.0, 1);
        assert_eq!(data.len(), 301);
        assert_eq!(counts(&data, 3), [101, 100, 100]);
        let data = moons::<f64>(101, 0.1, 1);
        assert_eq!(counts(&data, 2), [51, 50]);
        let data = spirals::<f64>(100, 3, 0.0, 1);
        assert_eq!(counts(&data, 3), [34, 33, 33]);
        let data = xor::<f64>(10, 0.1, 1);
        assert_eq!(counts(&data, 2), [6, 4]);
        let data = blobs::<f32>(7, vec![[0.0, 0.0], [1.0, 1.0]], 0.5, 1);
        assert_eq!(data.targets().iter().filter(|&&l| l == 0).count(), 4);
        // Degenerate: nothing to draw.
        assert!(blobs::<f32>(10, 0, 1.0, 1).is_empty());
        assert!(blobs::<f32>(10, Vec::new(), 1.0, 1).is_empty());
        assert!(spirals::<f32>(10, 0, 1.0, 1).is_empty());
        assert!(moons::<f32>(0, 1.0, 1).is_empty());
        assert_eq!(moons::<f32>(1, 0.0, 1).targets(), &[0]);
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(blobs::<f32>(50, 4, 1.0, 9), blobs::<f32>(50, 4, 1.0, 9));
        assert_ne!(blobs::<f32>(50, 4, 1.0, 9), blobs::<f32>(50, 4, 1.0, 10));
        assert_eq!(moons::<f64>(50, 0.2, 3), moons::<f64>(50, 0.2, 3));
        assert_ne!(moons::<f64>(50, 0.2, 3), moons::<f64>(50, 0.2, 4));
        assert_eq!(spirals::<f64>(60, 3, 0.1, 3), spirals::<f64>(60, 3, 0.1, 3));
        assert_ne!(spirals::<f64>(60, 3, 0.1, 3), spirals::<f64>(60, 3, 0.1, 5));
        assert_eq!(xor::<f64>(40, 0.3, 3), xor::<f64>(40, 0.3, 3));
        assert_ne!(xor::<f64>(40, 0.3, 3), xor::<f64>(40, 0.3, 4));
        // The `_with` twins with the same generator give the same sets.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        assert_eq!(blobs_with::<f32, _>(&mut rng, 50, 4, 1.0), blobs::<f32>(50, 4, 1.0, 9));
        // f32 is f64 rounded.
        let a = xor::<f32>(20, 0.3, 3);
        let b = xor::<f64>(20, 0.3, 3);
        for (x, y) in a.inputs().iter().zip(b.inputs()) {
            assert_eq!(*x, y.map(|v| v as f32));
        }
    }

    #[test]
    fn blobs_have_the_requested_means_and_spreads() {
        let centers = vec![[2.0, -3.0], [-5.0, 7.0]];
        let std = 0.5;
        let data = blobs::<f64>(20_000, centers.clone(), std, 42);
        for (label, center) in centers.iter().enumerate() {
            let points: Vec<&Point<f64>> = data
                .inputs()
                .iter()
                .zip(data.targets())
                .filter(|(_, l)| **l == label)
                .map(|(p, _)| p)
                .collect();
            assert_eq!(points.len(), 10_000);
            for axis in 0..2 {
                let (mean, sd) = mean_std(points.iter().map(|p| p[axis]));
                // The standard error of the mean is 0.5 / 100 = 0.005.
                assert!((mean - center[axis]).abs() < 0.02, "{label} {axis}: {mean}");
                assert!((sd - std).abs() < 0.02, "{label} {axis}: {sd}");
            }
        }
        // Random centers lie in the box, and their blobs around them.
        let data = blobs::<f64>(3_000, 3, 0.1, 7);
        for label in 0..3 {
            let points: Vec<&Point<f64>> = data
                .inputs()
                .iter()
                .zip(data.targets())
                .filter(|(_, l)| **l == label)
                .map(|(p, _)| p)
                .collect();
            let (mx, sx) = mean_std(points.iter().map(|p| p[0]));
            let (my, sy) = mean_std(points.iter().map(|p| p[1]));
            assert!((-10.0..=10.0).contains(&mx) && (-10.0..=10.0).contains(&my));
            assert!((sx - 0.1).abs() < 0.01 && (sy - 0.1).abs() < 0.01, "{sx} {sy}");
        }
    }

    #[test]
    fn gaussian_draws_are_standard_normal() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let draws: Vec<f64> = (0..50_000).flat_map(|_| gaussian_pair(&mut rng)).collect();
        let (mean, sd) = mean_std(draws.iter().copied());
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((sd - 1.0).abs() < 0.01, "{sd}");
        let within = draws.iter().filter(|x| x.abs() < 1.0).count() as f64 / draws.len() as f64;
        assert!((within - 0.6827).abs() < 0.01, "{within}");
        assert!(draws.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn shapes_without_noise() {
        // Moons: on the unit half-circles.
        let data = moons::<f64>(100, 0.0, 1);
        for (p, &label) in data.inputs().iter().zip(data.targets()) {
            let (cx, cy) = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-12);
            assert!(if label == 0 { p[1] >= -1e-12 } else { p[1] <= 0.5 + 1e-12 });
        }
        // XOR: the four corners, labelled by the signs.
        let data = xor::<f64>(20, 0.0, 1);
        for (p, &label) in data.inputs().iter().zip(data.targets()) {
            assert_eq!(p[0].abs(), 1.0);
            assert_eq!(p[1].abs(), 1.0);
            assert_eq!(label, usize::from((p[0] > 0.0) != (p[1] > 0.0)));
        }
        // XOR with noise: most points keep the sign of their corner.
        let data = xor::<f64>(4_000, 0.3, 1);
        let agree = data
            .inputs()
            .iter()
            .zip(data.targets())
            .filter(|(p, l)| **l == usize::from((p[0] > 0.0) != (p[1] > 0.0)))
            .count();
        assert!(agree > 3_800, "{agree}");
        // Spirals: radii in (0, 1], the outermost point of each arm at its angle.
        let data = spirals::<f64>(300, 3, 0.0, 1);
        for p in data.inputs() {
            let r = p.norm();
            assert!(r > 0.0 && r <= 1.0 + 1e-12);
        }
        for label in 0..3 {
            let outer = data
                .inputs()
                .iter()
                .zip(data.targets())
                .filter(|(_, l)| **l == label)
                .map(|(p, _)| *p)
                .max_by(|a, b| a.norm().total_cmp(&b.norm()))
                .unwrap();
            let angle = 2.0 * PI * label as f64 / 3.0;
            assert!(
                (outer[0] - angle.cos()).abs() < 1e-12 && (outer[1] - angle.sin()).abs() < 1e-12
            );
        }
    }

    #[test]
    fn shuffled() {
        let data = blobs::<f64>(100, 2, 1.0, 3);
        // Not all of class 0 first.
        assert!(data.targets()[..50].contains(&1));
    }
}
