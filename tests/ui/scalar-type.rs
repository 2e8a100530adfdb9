//! A scalar type other than `f32` or `f64`.
use perceptra::prelude::*;

network! {
    struct Net<i32> {
        input: 4,
        Dense(2),
    }
}

fn main() {}
