#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use perceptra_macros::network;
pub use perceptra_runtime::*;

pub mod guide;

/// What most programs need: `use perceptra::prelude::*;`.
///
/// The `network!` macro, the traits whose methods generated networks have,
/// the losses, `Sgd` and `Adam`, the `Trainer` and its settings, nalgebra's
/// vector types and a seedable random generator.
pub mod prelude {
    pub use crate::nalgebra::{SVector, Vector1, Vector2, Vector3, Vector4};
    pub use crate::network;
    pub use crate::rand::SeedableRng;
    pub use crate::rand_chacha::ChaCha8Rng;
    #[cfg(feature = "alloc")]
    pub use crate::{
        Adam, AdamConfig, AdamW, AdamWConfig, Dataset, Gradients, NetworkExt, Optimizer, Sgd,
        SgdConfig,
    };
    pub use crate::{
        BceWithLogits, BinaryCrossEntropy, CrossEntropy, Loss, Mse, Network, NetworkMut,
    };
    #[cfg(feature = "std")]
    pub use crate::{
        Checkpoints, Control, EarlyStopping, Metric, Progress, Trainer, WeightsExt, evaluate,
    };
}
