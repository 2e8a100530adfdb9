//! Rosenblatt's perceptron, then the multilayer network that goes beyond it.
//!
//! ```text
//! cargo run --release --example perceptron
//! ```
//!
//! 1. One neuron with a step activation, `y = step(w·x + b)`, trained with
//!    the perceptron learning rule
//!
//!    ```text
//!    w ← w + η (t − y) x        b ← b + η (t − y)
//!    ```
//!
//!    learns AND and OR: the rule is guaranteed to converge when a line
//!    separates the two classes (the perceptron convergence theorem).
//! 2. The same neuron on XOR never classifies all four inputs: no line puts
//!    (0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other.
//! 3. Backpropagation cannot rescue the step: its derivative is zero, so no
//!    gradient reaches the weights.
//! 4. A hidden layer with a smooth activation, trained by backpropagation and
//!    gradient descent, learns XOR.

use perceptra::prelude::*;

network! {
    /// Rosenblatt's perceptron: one neuron, `step(w·x + b)`.
    struct Neuron<f64> {
        input: 2,
        Dense(1), Step,
    }

    /// Two layers: four tanh units, then one sigmoid unit.
    struct TwoLayer<f64> {
        input: 2,
        Dense(4), Tanh,
        Dense(1), Sigmoid,
    }
}

/// The four inputs of a two-input truth table.
const INPUTS: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];

/// The learning rate `η` of the perceptron rule.
const ETA: f64 = 0.1;

/// Epochs the rule is given before we declare it has failed.
const MAX_EPOCHS: usize = 100;

/// A two-input Boolean function.
type Gate = fn(bool, bool) -> bool;

/// The truth table of a gate as targets.
fn targets(gate: Gate) -> [f64; 4] {
    INPUTS.map(|[a, b]| f64::from(u8::from(gate(a == 1.0, b == 1.0))))
}

/// How many of the four inputs the neuron classifies correctly.
fn correct(neuron: &Neuron, t: &[f64; 4]) -> usize {
    INPUTS.iter().zip(t).filter(|(x, t)| neuron.forward(&Vector2::from(**x))[0] == **t).count()
}

/// One epoch of the perceptron rule, sample by sample; returns the number of
/// updates (misclassified samples).
fn perceptron_epoch(neuron: &mut Neuron, t: &[f64; 4]) -> usize {
    let mut updates = 0;
    for (x, &t) in INPUTS.iter().zip(t) {
        let y = neuron.forward(&Vector2::from(*x))[0];
        let error = t - y; // −1, 0 or +1
        if error != 0.0 {
            // The flat layout of `Dense(2 => 1)`: the weight row [w₁, w₂], then the bias.
            let p = neuron.params_mut();
            p[0] += ETA * error * x[0];
            p[1] += ETA * error * x[1];
            p[2] += ETA * error;
            updates += 1;
        }
    }
    updates
}

/// Trains a fresh neuron on a gate with the perceptron rule: `Some(epochs)`
/// once an epoch makes no mistake, `None` after `MAX_EPOCHS`. Also returns
/// the best number of inputs it got right at the end of an epoch.
fn train_perceptron(neuron: &mut Neuron, t: &[f64; 4]) -> (Option<usize>, usize) {
    let mut best = correct(neuron, t);
    for epoch in 1..=MAX_EPOCHS {
        let updates = perceptron_epoch(neuron, t);
        best = best.max(correct(neuron, t));
        if updates == 0 {
            return (Some(epoch), best);
        }
    }
    (None, best)
}

/// ` + 0.14` or ` − 0.30`.
fn term(v: f64) -> String {
    format!(" {} {:.2}", if v < 0.0 { '−' } else { '+' }, v.abs())
}

fn print_neuron(neuron: &Neuron) {
    let p = neuron.params();
    println!("  w = [{:+.2}, {:+.2}], b = {:+.2}", p[0], p[1], p[2]);
    println!(
        "  decision line: {:.2}·x₁{}·x₂{} = 0 (outputs 1 on and above it)",
        p[0],
        term(p[1]),
        term(p[2])
    );
}

/// Prints the truth table with the outputs to `digits` decimals, marking errors.
fn print_table(name: &str, t: &[f64; 4], digits: usize, output: impl Fn(&Vector2<f64>) -> f64) {
    println!("  x₁ x₂ | target | {name}");
    for (x, t) in INPUTS.iter().zip(t) {
        let y = output(&Vector2::from(*x));
        let mark = if (y > 0.5) == (*t > 0.5) { "" } else { "   ✗" };
        println!("   {}  {} |   {}    | {y:.digits$}{mark}", x[0], x[1], t);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    println!("{}\n", Neuron::new(&mut rng).summary());

    // 1. AND and OR: linearly separable, the rule converges.
    let gates: [(&str, Gate); 2] = [("AND", |a, b| a && b), ("OR", |a, b| a || b)];
    for (name, gate) in gates {
        let t = targets(gate);
        let mut neuron = Neuron::new(&mut rng);
        let (epochs, _) = train_perceptron(&mut neuron, &t);
        match epochs {
            Some(e) => println!("{name}: the perceptron rule (η = {ETA}) converged in {e} epochs"),
            None => println!("{name}: no convergence in {MAX_EPOCHS} epochs"),
        }
        print_neuron(&neuron);
        print_table(name, &t, 0, |x| neuron.forward(x)[0]);
        println!();
    }

    // 2. XOR: not linearly separable, the rule cycles for ever.
    let xor = targets(|a, b| a != b);
    let mut neuron = Neuron::new(&mut rng);
    let (epochs, best) = train_perceptron(&mut neuron, &xor);
    assert!(epochs.is_none(), "a single neuron cannot learn XOR");
    println!(
        "XOR: after {MAX_EPOCHS} epochs the perceptron never classified all four inputs \
         (at best {best} of 4): XOR is not linearly separable"
    );
    print_neuron(&neuron);
    print_table("XOR", &xor, 0, |x| neuron.forward(x)[0]);
    println!();

    // 3. Backpropagation through a step: the gradient is zero.
    let inputs: Vec<Vector2<f64>> = INPUTS.iter().map(|x| Vector2::from(*x)).collect();
    let xor_targets: Vec<Vector1<f64>> = xor.iter().map(|&t| Vector1::new(t)).collect();
    let mut grads = neuron.zero_grads();
    let loss = neuron.backprop(&inputs, &xor_targets, &Mse, &mut grads);
    println!(
        "Backpropagation through Step: MSE {loss:.2}, ∂L/∂[w₁, w₂, b] = {:?}; the step's \
         derivative is 0, so gradient descent cannot train it\n",
        grads.as_slice()
    );

    // 4. A hidden layer and a smooth activation: backpropagation learns XOR.
    let data = Dataset::new(inputs, xor_targets)?;
    let mut net = TwoLayer::new(&mut ChaCha8Rng::seed_from_u64(1));
    println!("{}\n", net.summary());
    let epochs = 2000;
    let sgd = Sgd::with_lr(1.0)?;
    let history = Trainer::new(BinaryCrossEntropy, sgd)
        .epochs(epochs)
        .batch_size(4) // full batch: one gradient-descent step per epoch
        .shuffle(false)
        .progress(Progress::Silent)
        .on_epoch(move |r| {
            if r.epoch == 1 || r.epoch % 250 == 0 {
                let acc = 100.0 * r.train_accuracy.unwrap_or(0.0);
                println!("epoch {:>4}: loss {:.4}, accuracy {acc:.0}%", r.epoch, r.train_loss);
            }
            Control::Continue
        })
        .fit(&mut net, &data, None)?;
    let last = history.last().map_or(f64::NAN, |r| r.train_loss);
    println!(
        "\nXOR by backpropagation ({epochs} steps of full-batch SGD, lr 1, final loss {last:.4}):"
    );
    print_table("network", &xor, 3, |x| net.forward(x)[0]);
    Ok(())
}
