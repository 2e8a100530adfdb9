//! `input` declared twice.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        input: 8,
        Dense(2),
    }
}

fn main() {}
