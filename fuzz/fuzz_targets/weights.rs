//! Fuzz target `weights`: see `perceptra_fuzz::weights`.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| perceptra_fuzz::weights(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    perceptra_fuzz::replay_args(perceptra_fuzz::weights);
}
