//! The layer kinds, each written once for any width.

mod activation;
mod dense;
mod dropout;
mod softmax;

pub(crate) use activation::sigmoid;
pub use activation::{LeakyRelu, Relu, Sigmoid, Softplus, Tanh};
pub use dense::Dense;
pub use dropout::Dropout;
pub use softmax::Softmax;
pub(crate) use softmax::softmax_into;
