//! A `no_std` library without an allocator that declares networks, bakes
//! weights in and classifies: `.ci/run` builds it for `thumbv7em-none-eabihf`,
//! `thumbv6m-none-eabi` and `riscv32imac-unknown-none-elf`.

#![no_std]

use perceptra::nalgebra::SVector;

perceptra::network! {
    /// The firmware's MNIST perceptron, weights in flash.
    pub struct Mnist<f32> {
        input: 784, Dense(128), ReLU, Dense(10),
        weights: "../../firmware/mnist.safetensors",
    }

    /// A small convolutional network, weights in a `static` array.
    pub struct Tiny<f32> {
        input: [1, 8, 8],
        Conv2d(2, kernel = 3), ReLU, MaxPool2d(2),
        Flatten, Dense(3), Softmax,
    }
}

/// The digit an image shows, by the baked model.
pub fn classify(pixels: &[f32; 784]) -> usize {
    Mnist::baked().forward(&SVector::from_column_slice(pixels)).argmax().0
}

static TINY_WEIGHTS: [f32; Tiny::PARAMS] = [0.125; Tiny::PARAMS];

/// The small network over weights in a `static`.
pub fn tiny(image: &[f32; 64]) -> [f32; 3] {
    let net = Tiny::from_params(&TINY_WEIGHTS);
    net.forward(&SVector::from_column_slice(image)).into()
}
