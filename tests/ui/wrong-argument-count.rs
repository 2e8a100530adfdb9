//! Too many, too few and unexpected arguments.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(8, 4), ReLU(1),
        Dense,
        LeakyReLU(alpha = 0.1),
    }
}

fn main() {}
