//! Batched inference and backpropagation over owned buffers.

use alloc::vec;
use alloc::vec::Vec;

use crate::aligned::AlignedVec;
use crate::{Float, Loss, Mode, Network, Vector};

/// Reusable scratch memory for batched passes.
///
/// It grows to the largest batch it has seen and is then reused, so a
/// training loop allocates only on its first step. It starts on a cache
/// line, and so does each layer's block of activations in it when the
/// scalars before that block are a multiple of 16.
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    buf: AlignedVec<T>,
}

impl<T: Float> Default for Workspace<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Workspace<T> {
    /// An empty workspace; it allocates when first used.
    pub fn new() -> Self {
        Workspace { buf: AlignedVec::default() }
    }

    /// The first `len` scalars, growing the buffer if needed.
    pub(crate) fn take(&mut self, len: usize) -> &mut [T] {
        if self.buf.len() < len {
            self.buf.resize(len);
        }
        &mut self.buf.as_mut_slice()[..len]
    }
}

/// Gradients of every parameter, in the network's flat `state_dict` layout,
/// with the scratch memory backpropagation needs.
///
/// Create it once with [`NetworkExt::zero_grads`] and reuse it:
/// [`NetworkExt::backprop`] adds into it (like PyTorch's `.grad`), and
/// [`Gradients::zero`] clears it without freeing anything.
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    values: AlignedVec<T>,
    workspace: Workspace<T>,
    seed: u64,
    steps: u64,
}

impl<T: Float> Gradients<T> {
    /// Zero gradients for `params` parameters.
    pub fn new(params: usize) -> Self {
        Gradients {
            values: AlignedVec::zeroed(params),
            workspace: Workspace::new(),
            seed: 0,
            steps: 0,
        }
    }

    /// The gradients, in the flat parameter layout.
    pub fn as_slice(&self) -> &[T] {
        self.values.as_slice()
    }

    /// The gradients, mutably (for clipping, say).
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.values.as_mut_slice()
    }

    /// Sets every gradient to zero, keeping the memory.
    pub fn zero(&mut self) {
        crate::optim::zero(self.values.as_mut_slice());
    }

    /// Seeds the random draws of the training passes (dropout masks); each
    /// [`NetworkExt::backprop`] then draws from the next seed of that stream.
    pub fn seed(&mut self, seed: u64) {
        self.seed = seed;
        self.steps = 0;
    }

    /// The mode of the next training pass, advancing the stream.
    pub(crate) fn next_mode(&mut self) -> Mode {
        self.steps += 1;
        Mode::Train { seed: crate::rng::mix(self.seed ^ crate::rng::mix(self.steps)) }
    }

    /// The gradients and the workspace, apart.
    pub(crate) fn parts(&mut self) -> (&mut [T], &mut Workspace<T>) {
        (self.values.as_mut_slice(), &mut self.workspace)
    }
}

/// One training pass over a batch: forward in `mode`, the loss and its
/// gradient, backward into `grads`. Returns the batch's mean loss and the
/// network's outputs (`[OUTPUT, n]`, in the workspace).
pub(crate) fn train_pass<'w, N, L>(
    net: &N,
    x: &[N::Scalar],
    targets: &[L::Target],
    loss: &L,
    grads: &mut [N::Scalar],
    ws: &'w mut Workspace<N::Scalar>,
    mode: Mode,
) -> (N::Scalar, &'w [N::Scalar])
where
    N: Network + ?Sized,
    L: Loss<N::Output>,
{
    let n = targets.len();
    assert_eq!(
        x.len(),
        N::INPUT * n,
        "backprop: {} inputs for {n} targets",
        x.len() / N::INPUT.max(1)
    );
    assert_eq!(
        grads.len(),
        N::PARAMS,
        "backprop: gradients for {} parameters, the network has {}",
        grads.len(),
        N::PARAMS
    );
    let buf = ws.take(N::forward_len(n) + N::backward_len(n));
    let (acts, scratch) = buf.split_at_mut(N::forward_len(n));
    net.forward_slices(x, acts, mode);
    let value = loss.loss_grad(N::outputs(acts, n), targets, &mut scratch[..N::OUTPUT * n]);
    net.backward_slices(x, acts, scratch, grads, None, mode);
    (value, N::outputs(buf, n))
}

/// Batched inference and backpropagation for every [`Network`].
pub trait NetworkExt: Network {
    /// Zero gradients for this network, to pass to [`NetworkExt::backprop`].
    fn zero_grads(&self) -> Gradients<Self::Scalar> {
        Gradients::new(Self::PARAMS)
    }

    /// Runs a batch forward in training mode and backward: returns the
    /// batch's mean loss and adds the gradient of that mean into `grads`
    /// (accumulating, like PyTorch's `.grad`).
    ///
    /// Dropout is active; its masks come from the stream seeded with
    /// [`Gradients::seed`]. An empty batch returns 0 and adds nothing.
    ///
    /// # Panics
    /// If `inputs` and `targets` differ in length, or `grads` belongs to a
    /// network of another size.
    fn backprop<L: Loss<Self::Output>>(
        &self,
        inputs: &[Self::Input],
        targets: &[L::Target],
        loss: &L,
        grads: &mut Gradients<Self::Scalar>,
    ) -> Self::Scalar {
        assert_eq!(
            inputs.len(),
            targets.len(),
            "backprop: {} inputs but {} targets",
            inputs.len(),
            targets.len()
        );
        if inputs.is_empty() {
            return nalgebra::zero();
        }
        let mode = grads.next_mode();
        let (values, ws) = grads.parts();
        train_pass(self, bytemuck::cast_slice(inputs), targets, loss, values, ws, mode).0
    }

    /// Runs every input through the network in inference mode.
    fn forward_batch(&self, inputs: &[Self::Input]) -> Vec<Self::Output> {
        let mut outputs = vec![Self::Output::zeros(); inputs.len()];
        self.forward_batch_into(inputs, &mut outputs, &mut Workspace::new());
        outputs
    }

    /// Runs every input through the network in inference mode into
    /// `outputs`, reusing `workspace`: after the first call with a given
    /// batch size, no allocation.
    ///
    /// # Panics
    /// If `outputs` and `inputs` differ in length.
    fn forward_batch_into(
        &self,
        inputs: &[Self::Input],
        outputs: &mut [Self::Output],
        workspace: &mut Workspace<Self::Scalar>,
    ) {
        assert_eq!(
            inputs.len(),
            outputs.len(),
            "forward_batch: {} inputs but {} outputs",
            inputs.len(),
            outputs.len()
        );
        // Chunks bound the workspace and keep each layer's output in cache.
        const CHUNK: usize = 256;
        let x: &[Self::Scalar] = bytemuck::cast_slice(inputs);
        let y: &mut [Self::Scalar] = bytemuck::cast_slice_mut(outputs);
        let chunk = CHUNK.min(inputs.len()).max(1);
        let acts = workspace.take(Self::forward_len(chunk));
        for (x, y) in x.chunks(chunk * Self::INPUT).zip(y.chunks_mut(chunk * Self::OUTPUT)) {
            let n = x.len() / Self::INPUT;
            self.forward_slices(x, acts, Mode::Eval);
            y.copy_from_slice(Self::outputs(acts, n));
        }
    }
}

impl<N: Network + ?Sized> NetworkExt for N {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_grows_and_keeps_its_memory() {
        let mut ws = Workspace::<f64>::new();
        ws.take(3).copy_from_slice(&[1.0, 2.0, 3.0]);
        let grown = ws.take(5);
        assert_eq!(grown.len(), 5);
        assert_eq!(grown[..3], [1.0, 2.0, 3.0]);
        assert_eq!(ws.take(2), [1.0, 2.0]);
    }

    #[test]
    fn gradients_start_at_zero_and_zero_keeps_the_length() {
        let mut g = Gradients::<f32>::new(4);
        assert_eq!(g.as_slice(), [0.0; 4]);
        g.as_mut_slice().copy_from_slice(&[1.0, -2.0, 3.0, 4.0]);
        assert_eq!(g.as_slice(), [1.0, -2.0, 3.0, 4.0]);
        g.zero();
        assert_eq!(g.as_slice(), [0.0; 4]);
    }

    fn modes(g: &mut Gradients<f64>, n: usize) -> Vec<Mode> {
        (0..n).map(|_| g.next_mode()).collect()
    }

    #[test]
    fn training_passes_draw_from_a_seeded_stream() {
        let mut a = Gradients::<f64>::new(1);
        let mut b = Gradients::<f64>::new(1);
        a.seed(5);
        b.seed(5);
        let first = modes(&mut a, 10);
        assert_eq!(first, modes(&mut b, 10), "same seed, different streams");
        assert!(first.iter().all(|m| matches!(m, Mode::Train { .. })));
        for (i, m) in first.iter().enumerate() {
            assert!(!first[..i].contains(m), "step {i} repeats an earlier seed");
        }
        // Re-seeding restarts the stream; another seed gives another one.
        a.seed(5);
        assert_eq!(modes(&mut a, 10), first);
        a.seed(6);
        let other = modes(&mut a, 10);
        assert!(other.iter().zip(&first).all(|(x, y)| x != y));
    }
}
