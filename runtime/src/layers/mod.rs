//! The layer kinds, each written once for any width.

mod activation;
mod conv;
mod dense;
mod dropout;
mod flatten;
mod pool;
mod softmax;

pub(crate) use activation::sigmoid;
pub use activation::{Bru, Elu, LeakyRelu, Relu, Sigmoid, Softplus, Step, Tanh};
pub use conv::Conv2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use pool::{AvgPool2d, MaxPool2d};
pub use softmax::Softmax;
pub(crate) use softmax::softmax_into;
