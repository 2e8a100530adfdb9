//! Fuzz target `mnist_images`: see `perceptra_fuzz::mnist_images`.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| perceptra_fuzz::mnist_images(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    perceptra_fuzz::replay_args(perceptra_fuzz::mnist_images);
}
