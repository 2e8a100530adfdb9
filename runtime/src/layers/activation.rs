use nalgebra::SVector;

use crate::{Float, Layer, Mode, Saved};

/// An activation applied to each element on its own.
///
/// `derivative` gives `∂y/∂x` from the input and the output, whichever is
/// cheaper; the backward pass is then `∂L/∂x = ∂L/∂y · ∂y/∂x` element by element.
pub(crate) trait Elementwise<T: Float> {
    fn apply(&self, x: T) -> T;
    fn derivative(&self, x: T, y: T) -> T;
}

/// Implements [`Layer`] for an [`Elementwise`] activation, for any width.
macro_rules! elementwise_layer {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: Float, const N: usize> Layer<T, N, N> for $ty {
            const PARAMS: usize = 0;

            #[inline]
            fn forward(&self, _params: &[T], x: &SVector<T, N>) -> SVector<T, N> {
                x.map(|v| Elementwise::apply(self, v))
            }

            fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _scratch: &mut [T], _mode: Mode) {
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = Elementwise::apply(self, x);
                }
            }

            fn backward_batch(
                &self,
                _params: &[T],
                saved: Saved<'_, T>,
                dy: &[T],
                dx: Option<&mut [T]>,
                _grads: &mut [T],
                _scratch: &mut [T],
            ) {
                let Some(dx) = dx else { return };
                for (((dx, &dy), &x), &y) in dx.iter_mut().zip(dy).zip(saved.x).zip(saved.y) {
                    *dx = dy * Elementwise::derivative(self, x, y);
                }
            }
        }
    )*};
}

/// Rectified linear unit: `y = max(x, 0)`, like `nn.ReLU`.
///
/// `∂y/∂x` is 1 for `x > 0` and 0 otherwise (0 at `x = 0`, as in PyTorch).
/// NaN passes through, so a diverging run shows instead of hiding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl<T: Float> Elementwise<T> for Relu {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        if x < T::zero() { T::zero() } else { x }
    }

    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
}

/// Leaky ReLU: `y = x` for `x > 0`, `slope · x` otherwise, like `nn.LeakyReLU`.
///
/// `∂y/∂x` is 1 for `x > 0` and `slope` otherwise (including `x = 0`, as in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for negative inputs (PyTorch's `negative_slope`, default 0.01).
    pub slope: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self { slope: 0.01 }
    }
}

impl<T: Float> Elementwise<T> for LeakyRelu {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        if x > T::zero() { x } else { T::of_f64(self.slope) * x }
    }

    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        if x > T::zero() { T::one() } else { T::of_f64(self.slope) }
    }
}

/// The logistic sigmoid: `y = 1 / (1 + e^(−x))`, like `nn.Sigmoid`.
///
/// Computed without overflow for any `x`; `∂y/∂x = y (1 − y)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

/// `1 / (1 + e^(−x))` without overflow: `e^(−|x|)` is in `(0, 1]`.
#[inline(always)]
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    let e = (-x.abs()).exp();
    if x >= T::zero() { T::one() / (T::one() + e) } else { e / (T::one() + e) }
}

impl<T: Float> Elementwise<T> for Sigmoid {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        sigmoid(x)
    }

    #[inline(always)]
    fn derivative(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
}

/// Hyperbolic tangent: `y = tanh x`, like `nn.Tanh`; `∂y/∂x = 1 − y²`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl<T: Float> Elementwise<T> for Tanh {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        x.tanh()
    }

    #[inline(always)]
    fn derivative(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

/// Softplus: `y = ln(1 + eˣ)`, like `nn.Softplus` (β = 1).
///
/// Computed as `max(x, 0) + ln(1 + e^(−|x|))`, finite for any finite `x`
/// (PyTorch switches to `y = x` above 20; the two differ by under 3·10⁻⁹).
/// `∂y/∂x = sigmoid(x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softplus;

impl<T: Float> Elementwise<T> for Softplus {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }

    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        sigmoid(x)
    }
}

/// The Heaviside step: `y = 1` for `x ≥ 0`, `y = 0` below, the activation
/// of Rosenblatt's perceptron.
///
/// Its derivative is zero almost everywhere (and undefined at 0), so
/// backpropagation passes no gradient through it: a network with a `Step`
/// learns only in the layers after it. Train a single step neuron with the
/// perceptron rule instead (see `examples/perceptron.rs`), or use `Sigmoid`
/// for a smooth stand-in. The backward pass here returns the derivative
/// almost everywhere: 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step;

impl<T: Float> Elementwise<T> for Step {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        // NaN passes through, as with ReLU: a diverging run shows.
        if x >= T::zero() {
            T::one()
        } else if x < T::zero() {
            T::zero()
        } else {
            x
        }
    }

    #[inline(always)]
    fn derivative(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// Exponential linear unit, like `nn.ELU(alpha)`: `y = x` for `x > 0`,
/// `α (eˣ − 1)` otherwise.
///
/// `∂y/∂x` is 1 for `x > 0` and `α eˣ` otherwise (α at `x = 0`, as in
/// PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// `α`, the value the output tends to for very negative inputs is `−α`
    /// (PyTorch's default 1).
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl<T: Float> Elementwise<T> for Elu {
    #[inline(always)]
    fn apply(&self, x: T) -> T {
        if x > T::zero() { x } else { T::of_f64(self.alpha) * x.exp_m1() }
    }

    #[inline(always)]
    fn derivative(&self, x: T, _y: T) -> T {
        // From `x`, not `y + α`, which loses precision far below 0.
        if x > T::zero() { T::one() } else { T::of_f64(self.alpha) * x.exp() }
    }
}

/// The bionodal root unit with parameter `r > 0`:
///
/// ```text
/// f(z) = (r² z + 1)^(1/r) − 1/r   for z ≥ 0
/// f(z) = e^(r z) − 1/r            for z < 0
/// ```
///
/// Both pieces meet at `f(0) = 1 − 1/r` with the same slope `r`; for large
/// `z` the root grows like `z^(1/r)` (slower than linearly when `r > 1`),
/// and for very negative `z` the exponential tends to `−1/r`.
/// `∂f/∂z = r (r² z + 1)^(1/r − 1)` for `z ≥ 0` and `r e^(r z)` below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bru {
    /// `r`, finite and above 0 (the declaration's argument).
    pub r: f64,
}

impl<T: Float> Elementwise<T> for Bru {
    #[inline(always)]
    fn apply(&self, z: T) -> T {
        let r = T::of_f64(self.r);
        let inv = T::one() / r;
        if z >= T::zero() { (r * r * z + T::one()).powf(inv) - inv } else { (r * z).exp() - inv }
    }

    #[inline(always)]
    fn derivative(&self, z: T, _y: T) -> T {
        let r = T::of_f64(self.r);
        if z >= T::zero() {
            r * (r * r * z + T::one()).powf(T::one() / r - T::one())
        } else {
            r * (r * z).exp()
        }
    }
}

elementwise_layer!(Relu, LeakyRelu, Sigmoid, Tanh, Softplus, Step, Elu, Bru);

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::gradcheck::check_layer;
    use crate::testing::{assert_close, assert_grads, away_from_zero, values};

    /// Relative tolerance of literal values: a few ulps.
    const TOL64: f64 = 1e-14;
    const TOL32: f64 = 1e-6;

    /// The layer on each of `xs`, through `forward_batch`, checking that
    /// `forward` gives the same.
    fn apply<T: Float, L: Layer<T, 1, 1>>(layer: &L, xs: &[f64]) -> Vec<T> {
        let x: Vec<T> = xs.iter().map(|&v| T::of_f64(v)).collect();
        let mut y = vec![T::zero(); x.len()];
        layer.forward_batch(&[], &x, &mut y, &mut [], Mode::Eval);
        for (&x, &y) in x.iter().zip(&y) {
            let single = layer.forward(&[], &SVector::from([x]))[0];
            assert!(
                single == y || (single.as_f64().is_nan() && y.as_f64().is_nan()),
                "at {x}: forward {single}, forward_batch {y}"
            );
        }
        y
    }

    /// `∂y/∂x` at each of `xs`, through `backward_batch` with `∂L/∂y = 1`.
    fn derivative<T: Float, L: Layer<T, 1, 1>>(layer: &L, xs: &[f64]) -> Vec<T> {
        let x: Vec<T> = xs.iter().map(|&v| T::of_f64(v)).collect();
        let y = apply::<T, L>(layer, xs);
        let ones = vec![T::one(); x.len()];
        let mut dx = vec![T::of_f64(f64::NAN); x.len()];
        let saved = Saved { x: &x, y: &y, mode: Mode::Eval };
        layer.backward_batch(&[], saved, &ones, Some(&mut dx), &mut [], &mut []);
        dx
    }

    /// Checks `f(x) = y` for each `(x, y)` in both precisions.
    #[track_caller]
    fn check_values<L: Layer<f32, 1, 1> + Layer<f64, 1, 1>>(layer: &L, cases: &[(f64, f64)]) {
        let xs: Vec<f64> = cases.iter().map(|c| c.0).collect();
        let y64 = apply::<f64, L>(layer, &xs);
        let y32 = apply::<f32, L>(layer, &xs);
        for (&(x, expected), (&a, &b)) in cases.iter().zip(y64.iter().zip(&y32)) {
            assert!(a.is_finite() && b.is_finite(), "at {x}: f64 {a}, f32 {b}");
            assert_close(a, expected, TOL64);
            // f32 rounds the expected value itself first (it may flush to 0).
            assert_close(b, f64::from(expected as f32), TOL32);
        }
    }

    #[track_caller]
    fn check_derivatives<L: Layer<f32, 1, 1> + Layer<f64, 1, 1>>(layer: &L, cases: &[(f64, f64)]) {
        let xs: Vec<f64> = cases.iter().map(|c| c.0).collect();
        let d64 = derivative::<f64, L>(layer, &xs);
        let d32 = derivative::<f32, L>(layer, &xs);
        for (&(x, expected), (&a, &b)) in cases.iter().zip(d64.iter().zip(&d32)) {
            assert!(a.is_finite() && b.is_finite(), "derivative at {x}: f64 {a}, f32 {b}");
            assert_close(a, expected, TOL64);
            assert_close(b, f64::from(expected as f32), 1e-5);
        }
    }

    /// Checks the backward pass of a width-5 layer on 4 samples.
    #[track_caller]
    fn gradcheck<L: Layer<f64, 5, 5>>(what: &str, layer: &L, x: &[f64]) {
        let comparisons = check_layer::<L, 5, 5>(layer, &[], x, Mode::Eval);
        assert_eq!(comparisons.len(), x.len());
        assert_grads(what, &comparisons);
    }

    const EXTREMES: [f64; 6] = [88.0, -88.0, 710.0, -710.0, 1e4, -1e4];

    #[test]
    fn relu_values() {
        check_values(
            &Relu,
            &[(-2.0, 0.0), (0.0, 0.0), (3.5, 3.5), (1e4, 1e4), (-1e4, 0.0), (710.0, 710.0)],
        );
        assert_eq!(
            apply::<f64, _>(&Relu, &[f64::INFINITY, f64::NEG_INFINITY]),
            [f64::INFINITY, 0.0]
        );
    }

    #[test]
    fn relu_passes_nan_through() {
        assert!(apply::<f64, _>(&Relu, &[f64::NAN])[0].is_nan());
        assert!(apply::<f32, _>(&Relu, &[f64::NAN])[0].is_nan());
        assert!(apply::<f64, _>(&LeakyRelu::default(), &[f64::NAN])[0].is_nan());
    }

    #[test]
    fn relu_derivative_is_zero_at_zero() {
        // PyTorch: ∂relu/∂x at 0 is 0.
        check_derivatives(&Relu, &[(-2.0, 0.0), (0.0, 0.0), (-0.0, 0.0), (1e-30, 1.0), (3.5, 1.0)]);
    }

    #[test]
    fn leaky_relu_values() {
        let layer = LeakyRelu { slope: 0.01 };
        assert_eq!(LeakyRelu::default(), layer);
        check_values(
            &layer,
            &[(-2.0, -0.02), (0.0, 0.0), (3.0, 3.0), (-1e4, -100.0), (1e4, 1e4), (-710.0, -7.1)],
        );
        check_values(&LeakyRelu { slope: 0.2 }, &[(-2.0, -0.4), (5.0, 5.0), (-1e4, -2000.0)]);
    }

    #[test]
    fn leaky_relu_derivative_is_the_slope_at_zero() {
        // PyTorch: ∂leaky_relu/∂x at 0 is negative_slope.
        check_derivatives(&LeakyRelu { slope: 0.01 }, &[(-2.0, 0.01), (0.0, 0.01), (3.0, 1.0)]);
        check_derivatives(&LeakyRelu { slope: 0.2 }, &[(-2.0, 0.2), (0.0, 0.2), (1e4, 1.0)]);
    }

    #[test]
    fn sigmoid_values() {
        check_values(
            &Sigmoid,
            &[
                (0.0, 0.5),
                (1.0, 0.7310585786300049),
                (-1.0, 0.2689414213699951),
                (2.5, 0.9241418199787564),
                (-3.0, 0.04742587317756678),
                (30.0, 0.9999999999999064),
                (88.0, 1.0),
                (-88.0, 6.054601895401186e-39),
                (710.0, 1.0),
                (-710.0, 4.47628622567513e-309),
                (1e4, 1.0),
                (-1e4, 0.0),
            ],
        );
        // Exactly 1 and 0 at ±10⁴ (e^(−10⁴) underflows to 0).
        assert_eq!(apply::<f64, _>(&Sigmoid, &[1e4, -1e4]), [1.0, 0.0]);
        assert_eq!(apply::<f32, _>(&Sigmoid, &[1e4, -1e4]), [1.0, 0.0]);
    }

    #[test]
    fn sigmoid_derivative() {
        check_derivatives(
            &Sigmoid,
            &[
                (0.0, 0.25),
                (1.0, 0.19661193324148185),
                (-3.0, 0.04517665973091213),
                (1e4, 0.0),
                (-1e4, 0.0),
            ],
        );
    }

    #[test]
    fn tanh_values() {
        check_values(
            &Tanh,
            &[
                (0.0, 0.0),
                (0.5, 0.46211715726000974),
                (-2.0, -0.9640275800758169),
                (0.1, 0.09966799462495582),
                (20.0, 1.0),
                (88.0, 1.0),
                (-88.0, -1.0),
                (710.0, 1.0),
                (-710.0, -1.0),
                (1e4, 1.0),
                (-1e4, -1.0),
            ],
        );
        check_derivatives(
            &Tanh,
            &[(0.0, 1.0), (0.5, 0.7864477329659274), (-2.0, 0.07065082485316447), (1e4, 0.0)],
        );
    }

    #[test]
    fn softplus_values() {
        check_values(
            &Softplus,
            &[
                (0.0, core::f64::consts::LN_2),
                (1.0, 1.3132616875182228),
                (-1.0, 0.3132616875182228),
                (2.5, 2.5788897342925496),
                (-3.0, 0.04858735157374206),
                (20.0, 20.000000002061153),
                // PyTorch returns x itself above 20; ln(1 + e⁻³⁰) is 9·10⁻¹⁴.
                (30.0, 30.0),
                (88.0, 88.0),
                (-88.0, 6.054601895401186e-39),
                (710.0, 710.0),
                (-710.0, 4.47628622567513e-309),
                (1e4, 1e4),
                (-1e4, 0.0),
            ],
        );
        // The derivative is the sigmoid.
        check_derivatives(
            &Softplus,
            &[
                (0.0, 0.5),
                (1.0, 0.7310585786300049),
                (-3.0, 0.04742587317756678),
                (1e4, 1.0),
                (-1e4, 0.0),
            ],
        );
    }

    #[test]
    fn extremes_give_finite_derivatives() {
        for x in EXTREMES {
            let xs = [x];
            for d in [
                derivative::<f64, _>(&Sigmoid, &xs)[0],
                derivative::<f64, _>(&Tanh, &xs)[0],
                derivative::<f64, _>(&Softplus, &xs)[0],
                derivative::<f64, _>(&Relu, &xs)[0],
                derivative::<f64, _>(&LeakyRelu::default(), &xs)[0],
            ] {
                assert!(d.is_finite() && (0.0..=1.0).contains(&d), "derivative at {x}: {d}");
            }
            for d in [
                derivative::<f32, _>(&Sigmoid, &xs)[0],
                derivative::<f32, _>(&Tanh, &xs)[0],
                derivative::<f32, _>(&Softplus, &xs)[0],
            ] {
                assert!(d.is_finite() && (0.0..=1.0).contains(&d), "derivative at {x}: {d}");
            }
        }
    }

    #[test]
    fn backward_without_dx_does_nothing() {
        let x = [1.0, -1.0];
        let y = apply::<f64, _>(&Sigmoid, &x);
        Layer::<f64, 1, 1>::backward_batch(
            &Sigmoid,
            &[],
            Saved { x: &x, y: &y, mode: Mode::Eval },
            &[1.0, 1.0],
            None,
            &mut [],
            &mut [],
        );
    }

    #[test]
    fn gradient_checks() {
        // Inputs at least 0.1 away from the kinks of ReLU and LeakyReLU.
        let kinked = away_from_zero(20, 11);
        gradcheck("ReLU", &Relu, &kinked);
        gradcheck("LeakyReLU(0.01)", &LeakyRelu { slope: 0.01 }, &kinked);
        gradcheck("LeakyReLU(0.2)", &LeakyRelu { slope: 0.2 }, &kinked);
        let smooth = values(20, 12, -4.0, 4.0);
        gradcheck("Sigmoid", &Sigmoid, &smooth);
        gradcheck("Tanh", &Tanh, &smooth);
        gradcheck("Softplus", &Softplus, &smooth);
    }

    #[test]
    fn step_values() {
        // The Heaviside step of the perceptron: 1 from 0 on (−0 included), 0 below.
        check_values(
            &Step,
            &[
                (-2.0, 0.0),
                (-1e-30, 0.0),
                (0.0, 1.0),
                (-0.0, 1.0),
                (1e-30, 1.0),
                (3.5, 1.0),
                (88.0, 1.0),
                (-88.0, 0.0),
                (710.0, 1.0),
                (-710.0, 0.0),
                (1e4, 1.0),
                (-1e4, 0.0),
            ],
        );
        assert_eq!(apply::<f64, _>(&Step, &[f64::INFINITY, f64::NEG_INFINITY]), [1.0, 0.0]);
        // NaN passes through, as with ReLU, so that a diverging run shows.
        assert!(apply::<f32, _>(&Step, &[f64::NAN])[0].is_nan());
    }

    #[test]
    fn step_derivative_is_zero_everywhere() {
        // Zero almost everywhere, and taken as 0 at the jump too: no gradient
        // flows back through a step.
        let xs = [-1e4, -710.0, -88.0, -2.0, -1e-30, -0.0, 0.0, 1e-30, 3.5, 88.0, 710.0, 1e4];
        let cases: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 0.0)).collect();
        check_derivatives(&Step, &cases);
    }

    #[test]
    fn elu_values() {
        let layer = Elu { alpha: 1.0 };
        assert_eq!(Elu::default(), layer);
        check_values(
            &layer,
            &[
                (1.5, 1.5),
                (0.0, 0.0),
                (1e-30, 1e-30),
                // α (eˣ − 1), through `exp_m1`: exact for tiny x too.
                (-1e-30, -1e-30),
                (-0.5, -0.3934693402873666),
                (-1.0, -0.6321205588285577),
                (-2.0, -0.8646647167633873),
                (-3.0, -0.950212931632136),
                (88.0, 88.0),
                (-88.0, -1.0),
                (710.0, 710.0),
                (-710.0, -1.0),
                (1e4, 1e4),
                (-1e4, -1.0),
            ],
        );
        check_values(
            &Elu { alpha: 0.5 },
            &[
                (2.0, 2.0),
                (0.0, 0.0),
                (-1.0, -0.31606027941427883),
                (-2.0, -0.43233235838169365),
                (-88.0, -0.5),
                (-1e4, -0.5),
                (1e4, 1e4),
            ],
        );
        check_values(&Elu { alpha: 2.0 }, &[(-1.0, -1.2642411176571153), (-1e4, -2.0), (3.0, 3.0)]);
        assert!(apply::<f64, _>(&layer, &[f64::NAN])[0].is_nan());
        assert_eq!(apply::<f64, _>(&layer, &[f64::NEG_INFINITY]), [-1.0]);
    }

    #[test]
    fn elu_derivative_is_alpha_at_zero() {
        // PyTorch: ∂elu/∂x at 0 is α (the left-hand slope α e⁰), 1 above 0.
        check_derivatives(
            &Elu { alpha: 1.0 },
            &[
                (0.0, 1.0),
                (-0.0, 1.0),
                (1e-30, 1.0),
                (2.0, 1.0),
                (1e4, 1.0),
                (-0.5, 0.6065306597126334),
                (-1.0, 0.36787944117144233),
                (-2.0, 0.1353352832366127),
                (-3.0, 0.049787068367863944),
            ],
        );
        check_derivatives(
            &Elu { alpha: 0.5 },
            &[
                (0.0, 0.5),
                (1e-30, 1.0),
                (3.0, 1.0),
                (-1.0, 0.18393972058572117),
                (-2.0, 0.06766764161830635),
            ],
        );
        check_derivatives(
            &Elu { alpha: 2.0 },
            &[(0.0, 2.0), (-1.0, 0.7357588823428847), (5.0, 1.0)],
        );
    }

    #[test]
    fn elu_derivative_far_below_zero() {
        // α eˣ is computed as y + α, which is exact to the rounding of y: far
        // below 0 the derivative is tiny, and right to about 10⁻¹⁶ absolutely
        // (at −88 it is 6·10⁻³⁹; the sum rounds it to 0).
        for alpha in [0.5, 1.0, 2.0] {
            let layer = Elu { alpha };
            for x in [-20.0, -40.0, -88.0, -710.0, -1e4] {
                let d = derivative::<f64, _>(&layer, &[x])[0];
                let exact = alpha * x.exp();
                assert!(d >= 0.0 && (d - exact).abs() <= 1e-15, "α = {alpha}, x = {x}: {d}");
                let d = derivative::<f32, _>(&layer, &[x])[0];
                assert!(d >= 0.0 && f64::from(d) <= 1e-6, "f32, α = {alpha}, x = {x}: {d}");
            }
        }
    }

    #[test]
    fn bru_is_elu_at_r_1() {
        // r = 1: (z + 1)¹ − 1 = z above 0 and eᶻ − 1 below: ELU with α = 1.
        let bru = Bru { r: 1.0 };
        let cases = [
            (0.0, 0.0),
            (1.0, 1.0),
            (2.5, 2.5),
            (-0.5, -0.3934693402873666),
            (-1.0, -0.6321205588285577),
            (-3.0, -0.950212931632136),
            (88.0, 88.0),
            (-88.0, -1.0),
            (710.0, 710.0),
            (-710.0, -1.0),
            (1e4, 1e4),
            (-1e4, -1.0),
        ];
        check_values(&bru, &cases);
        check_derivatives(
            &bru,
            &[
                (0.0, 1.0),
                (1.0, 1.0),
                (1e4, 1.0),
                (-0.5, 0.6065306597126334),
                (-1.0, 0.36787944117144233),
                (-3.0, 0.049787068367863944),
                (-88.0, 6.054601895401186e-39),
                (-1e4, 0.0),
            ],
        );
        let z = values(200, 31, -6.0, 6.0);
        let (b, e) = (apply::<f64, _>(&bru, &z), apply::<f64, _>(&Elu::default(), &z));
        for ((z, b), e) in z.iter().zip(&b).zip(&e) {
            // eᶻ − 1 and exp_m1 differ by the rounding of eᶻ.
            assert!((b - e).abs() <= 4e-16, "at {z}: Bru(1) {b}, Elu(1) {e}");
        }
    }

    #[test]
    fn bru_values() {
        // r = 2: √(4z + 1) − ½ above 0, e^(2z) − ½ below; f(0) = ½.
        check_values(
            &Bru { r: 2.0 },
            &[
                (0.0, 0.5),
                (1.0, 1.7360679774997898),
                (2.5, 2.8166247903554),
                (-0.5, -0.13212055882855767),
                (-1.0, -0.3646647167633873),
                (-3.0, -0.4975212478233336),
                (88.0, 18.288294228055936),
                (-88.0, -0.5),
                (710.0, 52.801031884945715),
                (-710.0, -0.5),
                (1e4, 199.5024999843752),
                (-1e4, -0.5),
            ],
        );
        // r = ½: (z/4 + 1)² − 2 above 0 (faster than linear), e^(z/2) − 2 below; f(0) = −1.
        check_values(
            &Bru { r: 0.5 },
            &[
                (0.0, -1.0),
                (1.0, -0.4375),
                (2.5, 0.640625),
                (-0.5, -1.2211992169285952),
                (-1.0, -1.3934693402873666),
                (-3.0, -1.77686983985157),
                (88.0, 527.0),
                (-88.0, -2.0),
                (710.0, 31860.25),
                (-710.0, -2.0),
                (1e4, 6254999.0),
                (-1e4, -2.0),
            ],
        );
        // r = 3: the cube root ∛(9z + 1) − ⅓.
        check_values(
            &Bru { r: 3.0 },
            &[
                (0.0, 0.6666666666666666),
                (1.0, 1.8211013566985503),
                (2.5, 2.5309938246578856),
                (-1.0, -0.28354626496546936),
                (-3.0, -0.33320992352924667),
                (88.0, 8.922689041409857),
                (710.0, 18.224314939343206),
                (1e4, 44.48088010957716),
                (-1e4, -0.3333333333333333),
            ],
        );
        assert!(apply::<f64, _>(&Bru { r: 2.0 }, &[f64::NAN])[0].is_nan());
    }

    #[test]
    fn bru_derivatives() {
        // r (r² z + 1)^(1/r − 1) from 0 on, r e^(r z) below: r at 0 from both sides.
        check_derivatives(
            &Bru { r: 2.0 },
            &[
                (0.0, 2.0),
                (1.0, 0.8944271909999159),
                (2.5, 0.6030226891555273),
                (-0.5, 0.7357588823428847),
                (-1.0, 0.2706705664732254),
                (-3.0, 0.004957504353332717),
                (88.0, 0.1064492590824699),
                (-88.0, 7.331640822359126e-77),
                (710.0, 0.03752272571977875),
                (-710.0, 0.0),
                (1e4, 0.009999875002343702),
                (-1e4, 0.0),
            ],
        );
        check_derivatives(
            &Bru { r: 0.5 },
            &[
                (0.0, 0.5),
                (1.0, 0.625),
                (2.5, 0.8125),
                (-0.5, 0.38940039153570244),
                (-1.0, 0.3032653298563167),
                (-3.0, 0.11156508007421491),
                (88.0, 11.5),
                (-88.0, 3.8905661205668983e-20),
                (710.0, 89.25),
                (1e4, 1250.5),
                (-1e4, 0.0),
            ],
        );
        check_derivatives(
            &Bru { r: 3.0 },
            &[
                (0.0, 3.0),
                (1.0, 0.6463304070095651),
                (2.5, 0.36565878612653857),
                (-0.5, 0.6693904804452895),
                (-1.0, 0.14936120510359183),
                (-3.0, 0.00037022941226003863),
                (88.0, 0.03501647808856188),
                (710.0, 0.00871114767924106),
                (1e4, 0.0014937905170912711),
                (-1e4, 0.0),
            ],
        );
    }

    #[test]
    fn bru_is_continuous_with_a_continuous_slope_at_zero() {
        for r in [0.5, 1.0, 2.0, 3.0, 10.0] {
            let layer = Bru { r };
            let f = apply::<f64, _>(&layer, &[-1e-9, 0.0, 1e-9]);
            let d = derivative::<f64, _>(&layer, &[-1e-9, 0.0, 1e-9]);
            assert_close(f[1], 1.0 - 1.0 / r, 1e-15);
            for i in [0, 2] {
                assert!((f[i] - f[1]).abs() <= 1.1e-9 * r, "r = {r}: f {f:?}");
                assert_close(d[i], r, 1e-7);
            }
            assert_close(d[1], r, 1e-15);
        }
    }

    #[test]
    fn new_activations_have_finite_derivatives_at_the_extremes() {
        for x in EXTREMES {
            let xs = [x];
            let layers64 = [
                derivative::<f64, _>(&Step, &xs)[0],
                derivative::<f64, _>(&Elu::default(), &xs)[0],
                derivative::<f64, _>(&Elu { alpha: 0.5 }, &xs)[0],
                derivative::<f64, _>(&Bru { r: 1.0 }, &xs)[0],
                derivative::<f64, _>(&Bru { r: 2.0 }, &xs)[0],
                derivative::<f64, _>(&Bru { r: 3.0 }, &xs)[0],
            ];
            for d in layers64 {
                assert!(d.is_finite() && (0.0..=3.0).contains(&d), "derivative at {x}: {d}");
            }
            let layers32 = [
                derivative::<f32, _>(&Step, &xs)[0],
                derivative::<f32, _>(&Elu::default(), &xs)[0],
                derivative::<f32, _>(&Bru { r: 2.0 }, &xs)[0],
                derivative::<f32, _>(&Bru { r: 0.5 }, &xs)[0],
            ];
            for d in layers32 {
                assert!(d.is_finite() && d >= 0.0, "f32 derivative at {x}: {d}");
            }
        }
    }

    #[test]
    fn new_activations_gradient_checks() {
        // Step: 0 both ways, away from the jump.
        let kinked = away_from_zero(20, 21);
        gradcheck("Step", &Step, &kinked);
        // ELU's slope jumps at 0 unless α = 1.
        gradcheck("Elu(1)", &Elu { alpha: 1.0 }, &kinked);
        gradcheck("Elu(0.5)", &Elu { alpha: 0.5 }, &kinked);
        gradcheck("Elu(2)", &Elu { alpha: 2.0 }, &kinked);
        gradcheck("Elu(1), smooth inputs", &Elu { alpha: 1.0 }, &values(20, 22, -4.0, 4.0));
        // BRU's slope is r on both sides of 0. Far below 0 the slope r e^(r z)
        // is tiny beside the outputs' offset −1/r, whose rounding then
        // dominates the differences: stay above −2.
        let smooth = values(20, 23, -2.0, 4.0);
        for r in [0.5, 1.0, 1.5, 2.0, 3.0] {
            gradcheck(&alloc::format!("Bru({r})"), &Bru { r }, &smooth);
            gradcheck(&alloc::format!("Bru({r}), away from 0"), &Bru { r }, &kinked);
        }
    }
}
