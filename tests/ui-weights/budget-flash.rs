//! A model whose parameters outgrow the flash budget it declares.
use perceptra::prelude::*;

network! {
    struct Mnist<f32> {
        input: 784, Dense(128), ReLU, Dense(10),
        flash: 256KiB,
    }
}

fn main() {}
