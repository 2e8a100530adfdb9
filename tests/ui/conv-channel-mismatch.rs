//! An explicit input channel count that differs from what reaches the layer.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5), ReLU,
        Conv2d(16 => 32, kernel = 3),
        Flatten, Dense(10),
    }
}

fn main() {}
