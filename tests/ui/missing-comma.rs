//! Layers must be separated by commas.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(8) ReLU,
        Dense(2),
    }
}

fn main() {}
