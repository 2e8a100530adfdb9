use nalgebra::{Const, Dyn, MatrixView, MatrixViewMut, SVector, SVectorView, U1};
use rand::{Rng, RngExt};

use crate::{Float, Layer, Mode, Saved};

/// A fully connected layer: `y = W x + b`, like PyTorch's `nn.Linear`.
///
/// | | shape |
/// | --- | --- |
/// | input `x` | `[IN]` |
/// | weight `W` | `[OUT, IN]`, row-major |
/// | bias `b` | `[OUT]` |
/// | output `y` | `[OUT]` |
///
/// Parameters are `IN·OUT + OUT` scalars: the weight row by row, then the bias
/// (PyTorch's `weight` then `bias`). Row-major `[OUT, IN]` is column-major
/// `[IN, OUT]`, so the kernels read `Wᵀ` with no copy.
///
/// Backward, for a batch `X` (`[IN, n]`) and `∂L/∂Y` (`[OUT, n]`):
/// `∂L/∂W = ∂L/∂Y · Xᵀ`, `∂L/∂b = Σ_columns ∂L/∂Y`, `∂L/∂X = Wᵀ · ∂L/∂Y`.
///
/// Initialisation is PyTorch's default for `nn.Linear`: weight and bias
/// uniform in `±1/√IN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dense;

/// `Wᵀ` as a column-major `[IN, OUT]` view of the row-major weight.
#[inline(always)]
fn weight_t<T: Float, const IN: usize, const OUT: usize>(
    params: &[T],
) -> MatrixView<'_, T, Const<IN>, Const<OUT>> {
    MatrixView::from_slice_generic(&params[..IN * OUT], Const::<IN>, Const::<OUT>)
}

/// `W` as an `[OUT, IN]` view (row stride `IN`, column stride 1).
#[inline(always)]
fn weight<T: Float, const IN: usize, const OUT: usize>(
    params: &[T],
) -> MatrixView<'_, T, Const<OUT>, Const<IN>, Const<IN>, U1> {
    MatrixView::from_slice_with_strides_generic(
        &params[..IN * OUT],
        Const::<OUT>,
        Const::<IN>,
        Const::<IN>,
        U1,
    )
}

#[inline(always)]
fn bias<T: Float, const IN: usize, const OUT: usize>(params: &[T]) -> SVectorView<'_, T, OUT> {
    SVectorView::from_slice(&params[IN * OUT..IN * OUT + OUT])
}

impl<T: Float, const IN: usize, const OUT: usize> Layer<T, IN, OUT> for Dense {
    const PARAMS: usize = IN * OUT + OUT;

    fn init<R: Rng + ?Sized>(&self, params: &mut [T], rng: &mut R) {
        let bound = 1.0 / nalgebra::ComplexField::sqrt(IN as f64);
        for p in &mut params[..IN * OUT + OUT] {
            *p = T::of_f64((rng.random::<f64>() * 2.0 - 1.0) * bound);
        }
    }

    #[inline]
    fn forward(&self, params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT> {
        weight_t::<T, IN, OUT>(params).tr_mul(x) + bias::<T, IN, OUT>(params)
    }

    fn forward_batch(&self, params: &[T], x: &[T], y: &mut [T], _mode: Mode) {
        let n = x.len() / IN;
        let x = MatrixView::from_slice_generic(x, Const::<IN>, Dyn(n));
        let mut y = MatrixViewMut::from_slice_generic(y, Const::<OUT>, Dyn(n));
        let b = bias::<T, IN, OUT>(params);
        for mut column in y.column_iter_mut() {
            column.copy_from(&b);
        }
        y.gemm(T::one(), &weight::<T, IN, OUT>(params), &x, T::one());
    }

    fn backward_batch(
        &self,
        params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        grads: &mut [T],
    ) {
        let n = dy.len() / OUT;
        let dy = MatrixView::from_slice_generic(dy, Const::<OUT>, Dyn(n));
        let (dw, db) = grads[..IN * OUT + OUT].split_at_mut(IN * OUT);
        // ∂L/∂W += ∂L/∂Y · Xᵀ, written through a row-major view of the gradient.
        let xt = MatrixView::from_slice_with_strides_generic(
            saved.x,
            Dyn(n),
            Const::<IN>,
            Const::<IN>,
            U1,
        );
        let mut dw = MatrixViewMut::from_slice_with_strides_generic(
            dw,
            Const::<OUT>,
            Const::<IN>,
            Const::<IN>,
            U1,
        );
        dw.gemm(T::one(), &dy, &xt, T::one());
        // ∂L/∂b += Σ over the batch of ∂L/∂Y.
        let mut db = MatrixViewMut::from_slice_generic(db, Const::<OUT>, U1);
        for column in dy.column_iter() {
            db += column;
        }
        // ∂L/∂X = Wᵀ · ∂L/∂Y.
        if let Some(dx) = dx {
            let mut dx = MatrixViewMut::from_slice_generic(dx, Const::<IN>, Dyn(n));
            dx.gemm(T::one(), &weight_t::<T, IN, OUT>(params), &dy, T::zero());
        }
    }
}
