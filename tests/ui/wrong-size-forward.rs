//! Passing a vector of the wrong size to `forward`.
use perceptra::prelude::*;

network! {
    struct Net<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(10),
    }
}

fn main() {
    let net = Net::new(&mut ChaCha8Rng::seed_from_u64(0));
    let x = SVector::<f32, 10>::zeros();
    let _ = net.forward(&x);
}
