//! A network without an `input` width.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        Dense(8), ReLU,
        Dense(2),
    }
}

fn main() {}
