//! A weights path that names no file, and one that is not safetensors.
use perceptra::prelude::*;

network! {
    struct Missing<f32> {
        input: 6, Dense(4),
        weights: "no-such-weights.safetensors",
    }

    struct NotSafetensors<f32> {
        input: 6, Dense(4),
        weights: "../../../../tests/data/torch_mlp.json",
    }
}

fn main() {}
