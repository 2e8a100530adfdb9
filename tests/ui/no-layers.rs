//! A network with an input and nothing else.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
    }
}

fn main() {}
