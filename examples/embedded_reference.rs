//! The host's side of the firmware test: classifies the digits the firmware
//! carries (`firmware/digits.bin`) with the weights it carries
//! (`firmware/mnist.safetensors`) and prints the lines the firmware prints,
//! so that the two can be compared. With `--write-digits`, first writes
//! `firmware/digits.bin` from the MNIST test set.
//!
//! ```text
//! cargo run --release --example embedded_reference
//! MNIST_DIR=../shared/data/mnist cargo run --release --example embedded_reference -- --write-digits
//! ```
//!
//! `digits.bin` is the first 16 test images: for each, its label byte, then
//! its 784 pixels (0 to 255, row by row).

use std::error::Error;
use std::path::{Path, PathBuf};

use perceptra::data::mnist;
use perceptra::prelude::*;

network! {
    /// The same network as in `firmware/src/main.rs`.
    struct Mnist<f32> { input: 784, Dense(128), ReLU, Dense(10) }
}

/// Digits the firmware classifies.
const DIGITS: usize = 16;

fn write_digits(path: &Path) -> Result<(), Box<dyn Error>> {
    let dir =
        std::env::var_os(mnist::DIR_VAR).map_or_else(|| PathBuf::from("data/mnist"), PathBuf::from);
    let images = mnist::read_idx_file(&dir.join("t10k-images-idx3-ubyte.gz"))?;
    let labels = mnist::read_idx_file(&dir.join("t10k-labels-idx1-ubyte.gz"))?;
    let (images, labels) = (&images[16..], &labels[8..]);
    let mut out = Vec::with_capacity(DIGITS * 785);
    for i in 0..DIGITS {
        out.push(labels[i]);
        out.extend_from_slice(&images[i * 784..(i + 1) * 784]);
    }
    perceptra::weights::write_atomic(path, &out)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let firmware = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware");
    if std::env::args().any(|a| a == "--write-digits") {
        write_digits(&firmware.join("digits.bin"))?;
    }
    let mut net = Mnist::new(&mut ChaCha8Rng::seed_from_u64(0));
    net.load_weights(firmware.join("mnist.safetensors"))?;
    let digits = std::fs::read(firmware.join("digits.bin"))?;
    for (i, digit) in digits.chunks_exact(785).enumerate() {
        // The firmware's conversion, operation for operation.
        let x =
            SVector::<f32, 784>::from_iterator(digit[1..].iter().map(|&p| f32::from(p) / 255.0));
        let y = net.forward(&x);
        let (predicted, _) = y.argmax();
        println!("digit {i}: predicted {predicted}, label {}", digit[0]);
        if i == 0 {
            // The bits: the firmware prints the same on a host without AVX-512.
            let bits = y.map(f32::to_bits);
            println!("logits of digit 0: {:08x?}", bits.as_slice());
        }
    }
    Ok(())
}
