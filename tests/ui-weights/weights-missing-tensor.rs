//! A weights file for a network with fewer layers than declared.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 6, Dense(16), ReLU, Dropout(0.2), Dense(16), Sigmoid, Dense(4), Softmax,
        Dense(2),
        weights: "../../../../tests/data/torch_mlp.safetensors",
    }
}

fn main() {}
