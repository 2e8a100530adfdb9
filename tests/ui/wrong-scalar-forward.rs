//! Passing `f64` samples to an `f32` network.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 4,
        Dense(2),
    }
}

fn main() {
    let net = Net::new(&mut ChaCha8Rng::seed_from_u64(0));
    let _ = net.forward(&SVector::<f64, 4>::zeros());
}
