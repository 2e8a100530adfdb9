//! Compile errors users see: one mistake per file in `tests/ui`, each with the
//! `.stderr` it must produce. Regenerate with `TRYBUILD=overwrite` and read the
//! diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
