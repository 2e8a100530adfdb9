//! A pooling window that does not fit the image that reaches it.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: [3, 8, 8],
        Conv2d(8, kernel = 3), MaxPool2d(2),
        AvgPool2d(4),
        Flatten, Dense(10),
    }
}

fn main() {}
