//! The interface every layer kind implements, once, for any width.

use nalgebra::SVector;
use rand::Rng;

use crate::Float;

/// Whether a pass runs for inference or for training.
///
/// Only [`Dropout`](crate::Dropout) behaves differently; it draws its mask from
/// the seed, so that the backward pass can draw the same mask again and a given
/// seed gives the same run however the batch is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Inference: dropout is the identity.
    Eval,
    /// Training, with the seed of this step (and, after [`Mode::layer`], of this layer).
    Train {
        /// Seed of the random draws of this pass.
        seed: u64,
    },
}

impl Mode {
    /// The mode of the layer at `index` in the network: in training, a seed of
    /// its own, derived from the step's seed.
    #[inline]
    #[must_use]
    pub fn layer(self, index: usize) -> Self {
        match self {
            Mode::Eval => Mode::Eval,
            Mode::Train { seed } => {
                Mode::Train { seed: crate::rng::mix(seed ^ crate::rng::mix(index as u64 + 1)) }
            }
        }
    }
}

/// What a batched forward pass keeps for the backward pass: the layer's input
/// and output, and the mode it ran in.
///
/// Batches are column-major `[width, n]` slices: the `n` samples one after the
/// other, each `width` scalars long.
#[derive(Clone, Copy, Debug)]
pub struct Saved<'a, T> {
    /// The layer's input, `[IN, n]`.
    pub x: &'a [T],
    /// The layer's output, `[OUT, n]`.
    pub y: &'a [T],
    /// The mode of the forward pass.
    pub mode: Mode,
}

/// A layer mapping `IN` inputs to `OUT` outputs, with its parameters held
/// elsewhere, in a flat slice.
///
/// Each layer kind implements this once, generic over its widths; `network!`
/// chains the implementations with the widths it has checked. A layer never
/// owns its parameters: it reads them from the slice it is given, so the same
/// code runs over a model on the heap, on the stack or in flash.
///
/// Batched methods take column-major `[width, n]` slices (one sample after the
/// other); `n` is the slice length divided by the width.
pub trait Layer<T: Float, const IN: usize, const OUT: usize> {
    /// Number of scalar parameters, in PyTorch's `state_dict` order.
    const PARAMS: usize;

    /// Scratch scalars the batched passes need (an im2col buffer, say),
    /// whatever the batch size.
    const SCRATCH: usize = 0;

    /// Initialises `params` (`PARAMS` long).
    fn init<R: Rng + ?Sized>(&self, params: &mut [T], rng: &mut R) {
        let _ = (params, rng);
    }

    /// One sample, inference mode, no allocation.
    fn forward(&self, params: &[T], x: &SVector<T, IN>) -> SVector<T, OUT>;

    /// A batch: reads `x` (`[IN, n]`), overwrites `y` (`[OUT, n]`), using
    /// `scratch` (at least `SCRATCH` long, contents unspecified).
    fn forward_batch(&self, params: &[T], x: &[T], y: &mut [T], scratch: &mut [T], mode: Mode);

    /// Backward pass of a batch.
    ///
    /// Given `dy` = ∂L/∂y (`[OUT, n]`), adds ∂L/∂params into `grads`
    /// (`PARAMS` long, accumulating) and, when `dx` is given, overwrites it
    /// with ∂L/∂x (`[IN, n]`), using `scratch` (at least `SCRATCH` long).
    fn backward_batch(
        &self,
        params: &[T],
        saved: Saved<'_, T>,
        dy: &[T],
        dx: Option<&mut [T]>,
        grads: &mut [T],
        scratch: &mut [T],
    );
}
