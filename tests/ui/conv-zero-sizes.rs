//! Zero channels, a zero kernel and a zero stride.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: [1, 28, 28],
        Conv2d(0, kernel = 3),
        Conv2d(4, kernel = 0),
        Conv2d(4, kernel = 3, stride = 0),
        MaxPool2d(2, stride = 0),
        Flatten, Dense(10),
    }
}

fn main() {}
