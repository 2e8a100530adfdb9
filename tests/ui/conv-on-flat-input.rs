//! A convolution over a flat input.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 784,
        Conv2d(6, kernel = 5),
        Flatten, Dense(10),
    }
}

fn main() {}
