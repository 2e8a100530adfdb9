//! Backpropagation verified: the gradient of a small network's loss,
//! computed by the backward pass, beside central finite differences,
//! parameter by parameter.
//!
//! ```text
//! cargo run --release --example gradient_check
//! ```
//!
//! For each parameter `θᵢ`, the finite difference
//!
//! ```text
//! ∂L/∂θᵢ ≈ (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h,   h = 10⁻⁶
//! ```
//!
//! needs two forward passes and no calculus; it is accurate to about
//! `h² ≈ 10⁻¹²` plus rounding, some 10⁻¹⁰ in `f64`. Backpropagation gets all
//! the derivatives at once from one backward pass. If both agree to a
//! relative 10⁻⁶ (or, for derivatives near 0, an absolute 10⁻⁹), the
//! backward pass is right; a wrong formula shows as errors of order 1.

use perceptra::gradcheck::{Comparison, Wrt, check_network};
use perceptra::nalgebra::SMatrix;
use perceptra::prelude::*;
use perceptra::rand::RngExt;

network! {
    /// 3 inputs, 4 tanh units, 2 logits (cross-entropy applies the softmax).
    struct Small<f64> {
        input: 3,
        Dense(4), Tanh,
        Dense(2),
    }

    /// The same check runs on any network: here the newer activations.
    struct Newer<f64> {
        input: 3,
        Dense(4), Elu(0.5),
        Dense(4), Bru(2.0),
        Dense(2),
    }
}

/// The agreement asked of each derivative, as in perceptra's test suite.
const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

/// `"0.weight[2, 1]"`: the PyTorch name of parameter `i` of network `N`,
/// with its index in the tensor.
fn param_name<N: Network>(i: usize) -> String {
    for layer in N::LAYERS {
        for t in layer.tensors {
            if (t.offset..t.offset + t.len).contains(&i) {
                // Row-major: the last dimension varies fastest.
                let mut k = i - t.offset;
                let mut index = vec![0; t.shape.len()];
                for (d, &size) in t.shape.iter().enumerate().rev() {
                    index[d] = k % size;
                    k /= size;
                }
                let index: Vec<String> = index.iter().map(ToString::to_string).collect();
                return format!("{}[{}]", t.name, index.join(", "));
            }
        }
    }
    format!("param[{i}]")
}

fn verdict(c: &Comparison) -> &'static str {
    if c.agrees(REL, ABS) { "ok" } else { "WRONG" }
}

/// A batch of `n` inputs uniform in `[-2, 2)` and their classes.
fn batch(n: usize, seed: u64) -> (Vec<Vector3<f64>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..n).map(|_| Vector3::from_fn(|_, _| rng.random_range(-2.0..2.0))).collect();
    let t = (0..n).map(|_| rng.random_range(0..2)).collect();
    (x, t)
}

fn summary_line(what: &str, comparisons: &[Comparison]) -> bool {
    let worst = comparisons.iter().map(Comparison::rel_error).fold(0.0, f64::max);
    let bad = comparisons.iter().filter(|c| !c.agrees(REL, ABS)).count();
    let params = comparisons.iter().filter(|c| matches!(c.wrt, Wrt::Param(_))).count();
    let inputs = comparisons.len() - params;
    if bad == 0 {
        let inputs = if inputs == 0 { String::new() } else { format!(" and {inputs} input") };
        println!(
            "{what}: all {params} parameter{inputs} derivatives agree \
             (largest relative error {worst:.1e}): backpropagation is right"
        );
    } else {
        println!(
            "{what}: {bad} of {} derivatives disagree: the backward pass is wrong",
            comparisons.len()
        );
    }
    bad == 0
}

/// Backpropagation for `Small` written out by hand with nalgebra, the way
/// course notes derive it, as Jacobian products from the loss back:
///
/// ```text
/// z₁ = W₁x + b₁   h = tanh z₁   z₂ = W₂h + b₂   L = mean −log softmax(z₂)_t
/// ∂L/∂z₂ = (softmax(z₂) − onehot(t)) / n
/// ∂L/∂W₂ = ∂L/∂z₂ hᵀ      ∂L/∂b₂ = ∂L/∂z₂      ∂L/∂h = W₂ᵀ ∂L/∂z₂
/// ∂L/∂z₁ = ∂L/∂h ⊙ (1 − h²)
/// ∂L/∂W₁ = ∂L/∂z₁ xᵀ      ∂L/∂b₁ = ∂L/∂z₁
/// ```
///
/// With `forget_tanh`, the factor `1 − h²` is left out: a typical bug.
fn by_hand(params: &[f64], x: &[Vector3<f64>], t: &[usize], forget_tanh: bool) -> Vec<f64> {
    let w1 = SMatrix::<f64, 4, 3>::from_row_slice(&params[0..12]);
    let b1 = SVector::<f64, 4>::from_column_slice(&params[12..16]);
    let w2 = SMatrix::<f64, 2, 4>::from_row_slice(&params[16..24]);
    let b2 = SVector::<f64, 2>::from_column_slice(&params[24..26]);
    let (mut dw1, mut db1) = (SMatrix::<f64, 4, 3>::zeros(), SVector::<f64, 4>::zeros());
    let (mut dw2, mut db2) = (SMatrix::<f64, 2, 4>::zeros(), SVector::<f64, 2>::zeros());
    let n = x.len() as f64;
    for (x, &t) in x.iter().zip(t) {
        let h = (w1 * x + b1).map(f64::tanh);
        let z2 = w2 * h + b2;
        let e = z2.map(|z| (z - z2.max()).exp());
        let mut dz2 = e / e.sum();
        dz2[t] -= 1.0;
        dz2 /= n;
        dw2 += dz2 * h.transpose();
        db2 += dz2;
        let dh = w2.transpose() * dz2;
        let dz1 = if forget_tanh { dh } else { dh.component_mul(&h.map(|h| 1.0 - h * h)) };
        dw1 += dz1 * x.transpose();
        db1 += dz1;
    }
    // Flatten in the network's layout: each weight row by row, then its bias.
    let mut grads = Vec::with_capacity(26);
    grads.extend(dw1.transpose().iter());
    grads.extend(db1.iter());
    grads.extend(dw2.transpose().iter());
    grads.extend(db2.iter());
    grads
}

fn main() {
    let mut net = Small::new(&mut ChaCha8Rng::seed_from_u64(0));
    println!("{}\n", net.summary());
    let (x, t) = batch(4, 1);
    println!(
        "A batch of {} inputs with classes {t:?}; L = mean cross-entropy of the logits\n",
        x.len()
    );

    let comparisons = check_network(&mut net, &x, &t, &CrossEntropy);

    println!(
        "{:<16} {:>17} {:>17} {:>10}  verdict",
        "parameter", "backprop ∂L/∂θ", "finite diff.", "rel. error"
    );
    for c in &comparisons {
        if let Wrt::Param(i) = c.wrt {
            println!(
                "{:<16} {:>17.10} {:>17.10} {:>10.1e}  {}",
                param_name::<Small>(i),
                c.analytic,
                c.numeric,
                c.rel_error(),
                verdict(c)
            );
        }
    }

    // The gradient with respect to the inputs comes out of the same pass
    // (what adversarial examples and saliency maps use).
    println!(
        "\n{:<16} {:>17} {:>17} {:>10}  verdict",
        "input", "backprop ∂L/∂x", "finite diff.", "rel. error"
    );
    for c in &comparisons {
        if let Wrt::Input(i) = c.wrt {
            println!(
                "{:<16} {:>17.10} {:>17.10} {:>10.1e}  {}",
                format!("x[{}][{}]", i / 3, i % 3),
                c.analytic,
                c.numeric,
                c.rel_error(),
                verdict(c)
            );
        }
    }
    println!();
    let mut ok = summary_line("Small (3-4-2, Tanh, CrossEntropy)", &comparisons);

    // The same gradient derived by hand, and the same with a bug.
    let numeric: Vec<f64> = comparisons.iter().take(Small::PARAMS).map(|c| c.numeric).collect();
    for (what, forget) in [("by hand", false), ("by hand, without tanh's 1 − h²", true)] {
        let grads = by_hand(net.params(), &x, &t, forget);
        let hand: Vec<Comparison> = grads
            .iter()
            .zip(&numeric)
            .enumerate()
            .map(|(i, (&analytic, &numeric))| Comparison { wrt: Wrt::Param(i), analytic, numeric })
            .collect();
        let wrong: Vec<&Comparison> = hand.iter().filter(|c| !c.agrees(REL, ABS)).collect();
        let agreed = match wrong.first() {
            None => summary_line(&format!("Small {what}"), &hand),
            Some(c) => {
                let Wrt::Param(i) = c.wrt else { unreachable!() };
                println!(
                    "Small {what}: {} of {} parameter derivatives disagree, e.g. {}: {:.10} \
                     against {:.10} (relative error {:.1e}): the check catches the bug",
                    wrong.len(),
                    hand.len(),
                    param_name::<Small>(i),
                    c.analytic,
                    c.numeric,
                    c.rel_error()
                );
                false
            }
        };
        // The buggy variant is meant to fail.
        ok &= agreed != forget;
    }

    let mut newer = Newer::new(&mut ChaCha8Rng::seed_from_u64(0));
    let comparisons = check_network(&mut newer, &x, &t, &CrossEntropy);
    ok &= summary_line("Newer (3-4-4-2, Elu(0.5), Bru(2), CrossEntropy)", &comparisons);
    if !ok {
        std::process::exit(1);
    }
}
