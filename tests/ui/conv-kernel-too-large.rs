//! A convolution kernel larger than its padded input.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: [1, 28, 28],
        Conv2d(6, kernel = 5), MaxPool2d(2),
        Conv2d(16, kernel = 5), MaxPool2d(2),
        Conv2d(32, kernel = 7, padding = 1),
        Flatten, Dense(10),
    }
}

fn main() {}
