//! Fuzz target `mnist_labels`: see `perceptra_fuzz::mnist_labels`.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| perceptra_fuzz::mnist_labels(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    perceptra_fuzz::replay_args(perceptra_fuzz::mnist_labels);
}
