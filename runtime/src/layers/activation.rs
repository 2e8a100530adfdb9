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
        if x >= T::zero() { T::one() } else { T::zero() }
    }

    #[inline(always)]
    fn derivative(&self, _x: T, _y: T) -> T {
        T::zero()
    }
}

/// Exponential linear unit, like `nn.ELU(alpha)`: `y = x` for `x > 0`,
/// `α (eˣ − 1)` otherwise.
///
/// `∂y/∂x` is 1 for `x > 0` and `α eˣ = y + α` otherwise (α at `x = 0`, as
/// in PyTorch).
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
    fn derivative(&self, x: T, y: T) -> T {
        if x > T::zero() { T::one() } else { y + T::of_f64(self.alpha) }
    }
}

/// The bionodal root unit with parameter `r > 0`:
///
/// ```text
/// f(z) = (r² z + 1)^(1/r) − 1/r   for z ≥ 0
/// f(z) = e^(r z) − 1/r            for z < 0
/// ```
///
/// Both pieces meet at `f(0) = 1 − 1/r` with the same slope `r`; the root
/// grows slower than linearly for large `z`, the exponential tends to `−1/r`.
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
}
