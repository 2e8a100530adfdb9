//! A weights file whose tensor has another shape than the declared layer.
//! (Paths are relative to the crate; trybuild builds this file in
//! `target/tests/trybuild/perceptra`, four levels below the repository.)
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 6, Dense(16), ReLU, Dropout(0.2),
        Dense(8), Sigmoid,
        Dense(4), Softmax,
        weights: "../../../../tests/data/torch_mlp.safetensors",
    }
}

fn main() {}
