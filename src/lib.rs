#![no_std]
#![doc = include_str!("../README.md")]

pub use perceptra_macros::network;
pub use perceptra_runtime::*;

/// What most programs need: `use perceptra::prelude::*;`.
pub mod prelude {
    pub use crate::nalgebra::{SVector, Vector1, Vector2};
    pub use crate::rand::SeedableRng;
    pub use crate::rand_chacha::ChaCha8Rng;

    #[cfg(feature = "alloc")]
    pub use crate::data::Dataset;
    pub use crate::network;
    pub use crate::{
        BceWithLogits, BinaryCrossEntropy, CrossEntropy, Loss, Mse, Network, NetworkMut, nalgebra,
        rand, rand_chacha,
    };
    #[cfg(feature = "alloc")]
    pub use crate::{Gradients, NetworkExt, Optimizer, Sgd, SgdConfig};
    #[cfg(feature = "std")]
    pub use crate::{TrainConfig, evaluate, train};
}
