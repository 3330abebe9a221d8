//! The benchmark's logic, at a CI size, so that it cannot rot: the example
//! `bench_cascade` (compiled here as a module) runs at scale 0.01 — 1,000
//! members, 5,000 posts — with batches of 100 rows. Asserted: both
//! databases end with the same rows, and no batch wrote more than 100 rows.
//! Timings are printed, never asserted.

#[path = "../examples/bench_cascade.rs"]
#[allow(dead_code)]
mod bench;

#[test]
fn bench_cascade_smoke() {
    let summary = bench::run(&bench::Config {
        scale: 0.01,
        batch: 100,
        dir: None,
    })
    .expect("benchmark");
    assert!(summary.same_contents, "cascadia and SQLite disagree");
    assert_eq!(summary.rows, 1 + 1_000 + 5_000);
    assert!(summary.max_tx_rows <= 100, "{summary:?}");
    assert!(summary.batches >= 60, "{summary:?}");
    println!("bench smoke: {}", summary.line());
}
