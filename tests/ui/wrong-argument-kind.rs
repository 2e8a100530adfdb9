//! Arguments of the wrong kind: a float width, a named constant, a string
//! probability.
use perceptra::prelude::*;

const HIDDEN: usize = 8;

network! {
    struct Net<f32> {
        input: 4,
        Dense(2.5), ReLU,
        Dense(HIDDEN),
        Dropout("half"),
        Dense(2),
    }
}

fn main() {}
