//! Generated code names everything by absolute path: it compiles without the
//! prelude, beside user items that share the runtime's names, and inside a
//! function.

mod no_prelude {
    #![no_implicit_prelude]

    ::perceptra::network! {
        /// Every layer kind, with the prelude gone.
        pub struct Everything<f64> {
            input: 3,
            Dense(4), LeakyReLU(0.1), Dropout(0.2),
            Dense(4 => 4), Sigmoid, Dense(4), Tanh, Dense(4), Softplus,
            Dense(2), Softmax,
        }
    }
}

mod shadowed {
    #![allow(dead_code, non_camel_case_types)]

    // Names the expansion must not pick up from the user's module.
    type Option = ();
    type Result = ();
    type Box = ();
    type Vec = ();
    struct Some;
    struct None;
    struct Dense;
    struct Relu;
    struct Layer;
    struct Saved;
    struct Network;
    struct Mode;
    struct Borrow;
    fn take() {}
    fn take_mut() {}
    fn assert() {}

    use perceptra::network;

    network! {
        pub struct Net { input: 2, Dense(3), ReLU, Dense(1) }
    }

    // A struct named like the generic parameter the expansion uses.
    network! {
        pub struct S<f32> { input: 1, Dense(1) }
    }
}

use perceptra::prelude::*;

#[test]
fn expansions_work_in_hostile_scopes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let net = no_prelude::Everything::new(&mut rng);
    let y = net.forward(&SVector::from([0.1, -0.2, 0.3]));
    assert!((y.sum() - 1.0).abs() < 1e-12, "softmax output sums to {}", y.sum());

    let net = shadowed::Net::new(&mut rng);
    let _ = net.forward(&SVector::from([1.0, 2.0]));
    let s = shadowed::S::new(&mut rng);
    assert_eq!(s.params().len(), 2);
}

#[test]
fn networks_can_be_declared_in_a_function() {
    network! {
        struct Local<f32> { input: 2, Dense(2), ReLU, Dense(1) }
    }
    let net = Local::new(&mut ChaCha8Rng::seed_from_u64(1));
    assert_eq!(Local::PARAMS, 9);
    assert_eq!(net.params().len(), 9);
}
