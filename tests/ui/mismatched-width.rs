//! An explicit input width that differs from what the layer before produces.
use perceptra::prelude::*;

network! {
    pub struct Mnist<f32> {
        input: 784,
        Dense(64), ReLU,
        Dense(128 => 10),
    }
}

fn main() {}
