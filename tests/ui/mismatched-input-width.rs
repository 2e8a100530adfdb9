//! An explicit input width on the first layer that differs from `input`.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 784,
        Dense(768 => 10),
    }
}

fn main() {}
