//! A layer of width zero, and an input of width zero.
use perceptra::prelude::*;

network! {
    struct Empty<f32> {
        input: 0,
        Dense(0),
    }
}

fn main() {}
