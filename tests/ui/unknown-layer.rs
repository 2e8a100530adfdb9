//! Misspelt layers get the closest name; names from PyTorch get ours.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dens(8), Relu,
        Linear(2),
    }
}

fn main() {}
