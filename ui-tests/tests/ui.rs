//! The compile-time checks of `#[derive(Table)]` and `schema![...]`, as
//! trybuild cases: `fail/*.rs` must fail with exactly the `.stderr` beside
//! them, `pass/*.rs` must compile and run.
//!
//! Snapshots are exact rustc output, so the test runs only on the compiler
//! they were recorded with (CI's rustc 1.95); other toolchains skip it.
//! Re-record with `TRYBUILD=overwrite cargo test -p cascadia-ui-tests`, then
//! read every changed `.stderr` as a newcomer would before committing it.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the snapshots are recorded with rustc 1.95"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("fail/*.rs");
    cases.pass("pass/*.rs");
}
