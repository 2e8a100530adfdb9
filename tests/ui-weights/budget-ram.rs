//! A model whose activations outgrow the RAM budget it declares.
use perceptra::prelude::*;

network! {
    struct Mnist<f32> {
        input: 784, Dense(512), ReLU, Dense(10),
        flash: 4MiB,
        ram: 4KB,
    }
}

fn main() {}
