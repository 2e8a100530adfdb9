//! Sizes whose parameter count overflows `usize`.
use perceptra::prelude::*;

network! {
    struct Huge<f32> {
        input: 18446744073709551615,
        Dense(18446744073709551615),
    }
}

fn main() {}
