//! Dropout probabilities outside [0, 1).
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(8), Dropout(1.0),
        Dense(8), Dropout(-0.2),
        Dense(2),
    }
}

fn main() {}
