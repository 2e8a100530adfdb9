//! The expansion compiles without a single warning under strict lints, and
//! CI runs clippy over it with `-D warnings`.

#![deny(warnings, missing_docs, unused_qualifications, unreachable_pub, rust_2018_idioms)]
#![deny(clippy::all)]

use perceptra::prelude::*;

network! {
    /// A documented network: `missing_docs` needs nothing more from the user.
    pub struct Linted<f32> {
        input: 4,
        Dense(8), ReLU, Dropout(0.5),
        Dense(8 => 3), Softmax,
    }
}

network! {
    /// Private networks raise no dead-code warnings for unused methods.
    struct Quiet<f64> { input: 1, Dense(1) }
}

#[test]
fn lints_pass() {
    let net = Linted::new(&mut ChaCha8Rng::seed_from_u64(0));
    assert_eq!(net.forward(&SVector::zeros()).len(), 3);
    let _ = Quiet::PARAMS;
}
