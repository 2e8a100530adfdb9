//! Gradient checking: the hand-derived backward passes beside central finite
//! differences.
//!
//! For a scalar function `f` of parameters `θ`, the central difference
//! `(f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h` approximates `∂f/∂θᵢ` with an error of
//! order `h²`. In `f64` with `h = 10⁻⁶` both sides agree to about 10⁻⁹ on
//! smooth functions: a wrong formula shows at once. These checks run in the
//! test suite for every layer, loss and network, and are public so that a
//! learner (or the author of a new layer) can run them too.

use alloc::vec;
use alloc::vec::Vec;

use crate::{Layer, Loss, Mode, NetworkMut, Saved};

/// The step of the central differences.
pub const STEP: f64 = 1e-6;

/// What a gradient is taken with respect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrt {
    /// The parameter at this index of the flat slice.
    Param(usize),
    /// The input scalar at this index of the batch.
    Input(usize),
}

/// One partial derivative, computed both ways.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// With respect to what.
    pub wrt: Wrt,
    /// From the backward pass.
    pub analytic: f64,
    /// From central finite differences.
    pub numeric: f64,
}

impl Comparison {
    /// `|analytic − numeric|`.
    pub fn abs_error(&self) -> f64 {
        (self.analytic - self.numeric).abs()
    }

    /// `|analytic − numeric| / max(|analytic|, |numeric|)`, or 0 when both are 0.
    pub fn rel_error(&self) -> f64 {
        let scale = self.analytic.abs().max(self.numeric.abs());
        if scale == 0.0 { 0.0 } else { self.abs_error() / scale }
    }

    /// Whether the two agree: within `rel` relatively, or within `abs`
    /// absolutely (for derivatives near zero, where the differences' own
    /// rounding dominates).
    pub fn agrees(&self, rel: f64, abs: f64) -> bool {
        self.rel_error() <= rel || self.abs_error() <= abs
    }
}

/// Central difference of `f` in coordinate `i` of `v`, restoring `v`.
fn central(v: &mut [f64], i: usize, mut f: impl FnMut(&[f64]) -> f64) -> f64 {
    let keep = v[i];
    v[i] = keep + STEP;
    let up = f(v);
    v[i] = keep - STEP;
    let down = f(v);
    v[i] = keep;
    (up - down) / (2.0 * STEP)
}

/// Fixed pseudo-random weights in `[-1, 1)`, so the checked function
/// `Σ c·y` depends on every output differently.
fn weights(len: usize) -> Vec<f64> {
    (0..len).map(|i| crate::rng::uniform(0x5eed, i as u64) * 2.0 - 1.0).collect()
}

/// Checks one layer's backward pass on a batch `x` (`[IN, n]`) in `mode`,
/// through the scalar `L = Σ c·y` with fixed weights `c`: every parameter
/// and every input scalar.
pub fn check_layer<L, const IN: usize, const OUT: usize>(
    layer: &L,
    params: &[f64],
    x: &[f64],
    mode: Mode,
) -> Vec<Comparison>
where
    L: Layer<f64, IN, OUT>,
{
    let n = x.len() / IN;
    let c = weights(OUT * n);
    let mut y = vec![0.0; OUT * n];
    let mut scratch = vec![0.0; L::SCRATCH];
    let mut objective = |p: &[f64], x: &[f64]| {
        layer.forward_batch(p, x, &mut y, &mut scratch, mode);
        y.iter().zip(&c).map(|(y, c)| y * c).sum::<f64>()
    };

    let mut out = vec![0.0; OUT * n];
    let mut scratch = vec![0.0; L::SCRATCH];
    layer.forward_batch(params, x, &mut out, &mut scratch, mode);
    let mut dx = vec![0.0; IN * n];
    let mut grads = vec![0.0; params.len()];
    let saved = Saved { x, y: &out, mode };
    layer.backward_batch(params, saved, &c, Some(&mut dx), &mut grads, &mut scratch);

    let (mut p, mut xv) = (params.to_vec(), x.to_vec());
    let mut result = Vec::with_capacity(p.len() + xv.len());
    for (i, &analytic) in grads.iter().enumerate() {
        let numeric = central(&mut p, i, |p| objective(p, x));
        result.push(Comparison { wrt: Wrt::Param(i), analytic, numeric });
    }
    for (i, &analytic) in dx.iter().enumerate() {
        let numeric = central(&mut xv, i, |x| objective(params, x));
        result.push(Comparison { wrt: Wrt::Input(i), analytic, numeric });
    }
    result
}

/// Checks a whole network's backward pass, with `loss` on a batch: the
/// gradient of the batch's mean loss with respect to every parameter and
/// every input scalar. Dropout runs in training mode with a fixed seed, so
/// that every evaluation draws the same mask.
pub fn check_network<N, L>(
    net: &mut N,
    inputs: &[N::Input],
    targets: &[L::Target],
    loss: &L,
) -> Vec<Comparison>
where
    N: NetworkMut<Scalar = f64>,
    L: Loss<N::Output>,
{
    let n = targets.len();
    let mode = Mode::Train { seed: 0x5eed };
    let mut acts = vec![0.0; N::forward_len(n)];
    let mean_loss = |net: &N, x: &[f64], acts: &mut [f64]| {
        net.forward_slices(x, acts, mode);
        loss.loss(N::outputs(acts, n), targets)
    };

    let x: Vec<f64> = bytemuck::cast_slice(inputs).to_vec();
    net.forward_slices(&x, &mut acts, mode);
    let mut scratch = vec![0.0; N::backward_len(n)];
    let y = N::outputs(&acts, n);
    loss.loss_grad(y, targets, &mut scratch[..N::OUTPUT * n]);
    let mut grads = vec![0.0; N::PARAMS];
    let mut dx = vec![0.0; x.len()];
    net.backward_slices(&x, &acts, &mut scratch, &mut grads, Some(&mut dx), mode);

    let mut result = Vec::with_capacity(N::PARAMS + x.len());
    for (i, &analytic) in grads.iter().enumerate() {
        let keep = net.params_mut()[i];
        net.params_mut()[i] = keep + STEP;
        let up = mean_loss(net, &x, &mut acts);
        net.params_mut()[i] = keep - STEP;
        let down = mean_loss(net, &x, &mut acts);
        net.params_mut()[i] = keep;
        let numeric = (up - down) / (2.0 * STEP);
        result.push(Comparison { wrt: Wrt::Param(i), analytic, numeric });
    }
    let mut xv = x.clone();
    for (i, &analytic) in dx.iter().enumerate() {
        let numeric = central(&mut xv, i, |x| mean_loss(net, x, &mut acts));
        result.push(Comparison { wrt: Wrt::Input(i), analytic, numeric });
    }
    result
}

/// Checks a loss's gradient on a batch of outputs `y` (`[N, n]`).
pub fn check_loss<O, L>(loss: &L, y: &[f64], targets: &[L::Target]) -> Vec<Comparison>
where
    O: crate::Vector<Scalar = f64>,
    L: Loss<O>,
{
    let mut dy = vec![0.0; y.len()];
    loss.loss_grad(y, targets, &mut dy);
    let mut yv = y.to_vec();
    (0..y.len())
        .map(|i| {
            let numeric = central(&mut yv, i, |y| loss.loss(y, targets));
            Comparison { wrt: Wrt::Input(i), analytic: dy[i], numeric }
        })
        .collect()
}

/// Asserts that every comparison agrees within `rel` relatively or `abs`
/// absolutely, naming the worst one otherwise.
#[track_caller]
pub fn assert_agree(what: &str, comparisons: &[Comparison], rel: f64, abs: f64) {
    assert!(!comparisons.is_empty(), "{what}: nothing was checked");
    if let Some(bad) = comparisons.iter().find(|c| !c.agrees(rel, abs)) {
        panic!(
            "{what}: gradient wrt {:?} is {:e} by backprop but {:e} by finite differences \
             (relative error {:e}, absolute {:e})",
            bad.wrt,
            bad.analytic,
            bad.numeric,
            bad.rel_error(),
            bad.abs_error()
        );
    }
}
