//! Budgets are sizes in bytes, with an optional unit.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4, Dense(2),
        flash: 64kb,
        ram: "8 KiB",
    }
}

fn main() {}
