//! Learns XOR, the function a single neuron cannot represent, with a hidden
//! layer of four tanh units. Needs no data:
//!
//! ```text
//! cargo run --release --example xor
//! ```

use perceptra::prelude::*;

network! {
    /// Two inputs, four hidden tanh units, one sigmoid output.
    struct Xor<f64> {
        input: 2,
        Dense(4), Tanh,
        Dense(1), Sigmoid,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let inputs = vec![
        Vector2::new(0.0, 0.0),
        Vector2::new(0.0, 1.0),
        Vector2::new(1.0, 0.0),
        Vector2::new(1.0, 1.0),
    ];
    let targets = vec![Vector1::new(0.0), Vector1::new(1.0), Vector1::new(1.0), Vector1::new(0.0)];
    let data = Dataset::new(inputs, targets)?;

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut net = Xor::new(&mut rng);
    println!("{}\n", net.summary());

    let sgd = Sgd::new(SgdConfig { lr: 0.5, momentum: 0.9, ..SgdConfig::default() })?;
    Trainer::new(BinaryCrossEntropy, sgd)
        .epochs(500)
        .batch_size(4)
        .shuffle(false)
        .progress(Progress::Silent)
        .on_epoch(|r| {
            if r.epoch % 100 == 0 {
                println!("epoch {:>3}: loss {:.5}", r.epoch, r.train_loss);
            }
            Control::Continue
        })
        .fit(&mut net, &data, None)?;

    println!();
    for (x, t) in data.inputs().iter().zip(data.targets()) {
        let y = net.forward(x)[0];
        println!("{} xor {} = {:.3} (target {})", x[0], x[1], y, t[0]);
    }
    Ok(())
}
