//! Fuzz target `checkpoint`: see `perceptra_fuzz::checkpoint`.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| perceptra_fuzz::checkpoint(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    perceptra_fuzz::replay_args(perceptra_fuzz::checkpoint);
}
