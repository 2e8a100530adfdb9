//! `input` declared after the layers it feeds.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        Dense(2),
        input: 4,
    }
}

fn main() {}
