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

            fn forward_batch(&self, _params: &[T], x: &[T], y: &mut [T], _mode: Mode) {
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

elementwise_layer!(Relu, LeakyRelu, Sigmoid, Tanh, Softplus);
