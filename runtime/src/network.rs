//! The trait `network!` implements, and the static description of a model.

use nalgebra::SVector;
use rand::Rng;

use crate::{Float, Mode, Summary};

/// A fixed-size vector of scalars: the input or output of a network.
///
/// Implemented for `SVector<T, N>`; it lets generic code (losses, the
/// training loop) see a sample as a slice.
pub trait Vector: Copy + Send + Sync + bytemuck::Pod + 'static {
    /// The scalar type.
    type Scalar: Float;
    /// The number of scalars.
    const LEN: usize;
    /// The scalars in order.
    fn as_slice(&self) -> &[Self::Scalar];
    /// The scalars in order, mutably.
    fn as_mut_slice(&mut self) -> &mut [Self::Scalar];
    /// A vector of zeros.
    fn zeros() -> Self;
}

impl<T: Float, const N: usize> Vector for SVector<T, N> {
    type Scalar = T;
    const LEN: usize = N;

    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        self.as_slice()
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }

    #[inline(always)]
    fn zeros() -> Self {
        SVector::zeros()
    }
}

/// One named parameter tensor of a layer, as a PyTorch `state_dict` has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The `state_dict` key, e.g. `"0.weight"`.
    pub name: &'static str,
    /// PyTorch's shape, outer dimension first (a `Dense` weight is `[out, in]`).
    pub shape: &'static [usize],
    /// Where the tensor starts in the flat parameter slice.
    pub offset: usize,
    /// Its number of scalars (the product of `shape`).
    pub len: usize,
}

/// One layer of a declared network, as the macro checked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// The layer's position in the declaration: its index in an equivalent
    /// PyTorch `nn.Sequential`, and the prefix of its tensors' names.
    pub index: usize,
    /// The layer kind as written, e.g. `"Dense"`.
    pub kind: &'static str,
    /// The layer with its resolved arguments, e.g. `"Dense(784 => 128)"`.
    pub label: &'static str,
    /// The shape of its output for one sample.
    pub output: &'static [usize],
    /// Its number of scalar parameters.
    pub params: usize,
    /// Its parameter tensors, in `state_dict` order.
    pub tensors: &'static [TensorInfo],
}

/// A network declared with `network!`.
///
/// Parameters live in one flat slice of `PARAMS` scalars, in the order of the
/// equivalent PyTorch `nn.Sequential`'s `state_dict` (per `Dense`: the weight
/// `[out, in]` row-major, then the bias). Optimizers, weight files and weights
/// baked into flash all use that one layout.
///
/// The `*_slices` methods are the building blocks the rest of the runtime
/// (batched inference, backpropagation, the training loop) is written with;
/// [`NetworkExt`](crate::NetworkExt) wraps them in a friendlier interface.
/// Batches are column-major: `n` samples one after the other.
pub trait Network {
    /// `f32` or `f64`, as declared.
    type Scalar: Float;
    /// One input sample: `SVector<Scalar, INPUT>`.
    type Input: Vector<Scalar = Self::Scalar>;
    /// One output: `SVector<Scalar, OUTPUT>`.
    type Output: Vector<Scalar = Self::Scalar>;

    /// The declared name.
    const NAME: &'static str;
    /// Scalars in one input sample.
    const INPUT: usize;
    /// The declared shape of one input sample: `[784]` or `[1, 28, 28]`
    /// (channels, height, width).
    const INPUT_SHAPE: &'static [usize];
    /// Scalars in one output.
    const OUTPUT: usize;
    /// Scalars in the flat parameter slice.
    const PARAMS: usize;
    /// Scalars per sample that [`Network::forward_slices`] stores: the sum of
    /// every layer's output width.
    const ACTIVATIONS: usize;
    /// The widest layer output.
    const WIDEST: usize;
    /// Scratch scalars the layers themselves need in a batched pass (im2col
    /// buffers), whatever the batch size.
    const SCRATCH: usize;
    /// The most scalars one inference holds at once (a layer's input and
    /// output side by side): the activation memory [`Network::forward`]
    /// needs beyond its call frames.
    const PEAK_ACTIVATIONS: usize;
    /// The layers, in order.
    const LAYERS: &'static [LayerInfo];

    /// All parameters, `PARAMS` long, in `state_dict` order.
    fn params(&self) -> &[Self::Scalar];

    /// Initialises a flat parameter slice the way PyTorch initialises the
    /// equivalent `nn.Sequential` (for `Dense`: uniform in `±1/√in`).
    fn init_params<R: Rng + ?Sized>(params: &mut [Self::Scalar], rng: &mut R);

    /// One sample through the network in inference mode, with no allocation.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// A batch through the network.
    ///
    /// `x` is `[INPUT, n]`; `acts` (at least [`Network::forward_len`]`(n)`
    /// long) receives every layer's output, layer after layer, each
    /// `[width, n]` (see [`Network::outputs`]); what follows them is scratch.
    fn forward_slices(&self, x: &[Self::Scalar], acts: &mut [Self::Scalar], mode: Mode);

    /// The backward pass of a batch that [`Network::forward_slices`] ran.
    ///
    /// `scratch` is at least [`Network::backward_len`]`(n)` long and starts
    /// with ∂L/∂y (`[OUTPUT, n]`); its contents are destroyed. Adds ∂L/∂params into
    /// `grads` (`PARAMS` long, accumulating, like PyTorch's `.grad`), and when
    /// `dx` is given overwrites it with ∂L/∂x (`[INPUT, n]`). `mode` must be
    /// the forward pass's.
    fn backward_slices(
        &self,
        x: &[Self::Scalar],
        acts: &[Self::Scalar],
        scratch: &mut [Self::Scalar],
        grads: &mut [Self::Scalar],
        dx: Option<&mut [Self::Scalar]>,
        mode: Mode,
    );

    /// Scalars `acts` needs for a forward pass of `n` samples.
    fn forward_len(n: usize) -> usize {
        Self::ACTIVATIONS * n + Self::SCRATCH
    }

    /// Scalars `scratch` needs for a backward pass of `n` samples.
    fn backward_len(n: usize) -> usize {
        2 * Self::WIDEST * n + Self::SCRATCH
    }

    /// The network's outputs (`[OUTPUT, n]`) in `acts` after a forward pass
    /// of `n` samples.
    fn outputs(acts: &[Self::Scalar], n: usize) -> &[Self::Scalar] {
        &acts[(Self::ACTIVATIONS - Self::OUTPUT) * n..Self::ACTIVATIONS * n]
    }

    /// A Keras-like table of the layers, their output shapes and parameter counts.
    fn summary(&self) -> Summary {
        Summary::of::<Self>()
    }
}

/// A network whose parameters can be changed: one that owns them, or
/// borrows them mutably.
pub trait NetworkMut: Network {
    /// All parameters, mutably, in `state_dict` order.
    fn params_mut(&mut self) -> &mut [Self::Scalar];
}
