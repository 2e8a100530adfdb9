//! A `Dense` layer after an image shape, without `Flatten`.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
        Dense(10),
    }
}

fn main() {}
