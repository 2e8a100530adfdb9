//! Compile errors users see: one mistake per file in `tests/ui`, each with the
//! `.stderr` it must produce. Regenerate with `TRYBUILD=overwrite` and read the
//! diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // Weight files are found relative to the crate being compiled, which for
    // trybuild is `target/tests/trybuild/perceptra`: these tests reach the
    // repository's files from there, so they need the default target directory.
    if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        t.compile_fail("tests/ui-weights/*.rs");
    } else {
        eprintln!("skipping tests/ui-weights: CARGO_TARGET_DIR moves trybuild's crate");
    }
}
