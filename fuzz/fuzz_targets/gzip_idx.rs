//! Fuzz target `gzip_idx`: see `perceptra_fuzz::gzip_idx`.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| perceptra_fuzz::gzip_idx(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    perceptra_fuzz::replay_args(perceptra_fuzz::gzip_idx);
}
