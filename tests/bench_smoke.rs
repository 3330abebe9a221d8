//! The benchmark's logic at a CI size, so that it cannot rot: the example
//! `bench_cascade` (compiled here as a module) runs every shape at scale
//! 0.01 with batches of 100 rows. Asserted, per shape: the three end states
//! (SQLite's own action, the ceiling loop, cascadia) are identical and free
//! of orphans, every side changed exactly the rows the shape says, and no
//! batched transaction wrote more than 100 rows. Timings are printed, never
//! asserted.

#[path = "../examples/bench_cascade/main.rs"]
#[allow(dead_code)]
mod bench;

use bench::{Backend, Config, ShapeName};
use cascadia::Budget;

/// Rows per transaction in every smoke run.
const BATCH: u64 = 100;

/// Runs `shape` at scale 0.01 and checks it; `rows` is what it must change.
fn smoke(shape: ShapeName, rows: u64) {
    smoke_with(shape, rows, Config::default().bytes);
}

/// As [`smoke`], with cascadia's byte budget `bytes` (`None`: rows only).
fn smoke_with(shape: ShapeName, rows: u64, bytes: Option<u64>) {
    let config = Config {
        shapes: vec![shape],
        scale: 0.01,
        batch: BATCH,
        bytes,
        ..Config::default()
    };
    let summary = bench::measure_shape(shape, &config).expect("benchmark");
    println!("bench smoke: {}", summary.line());
    println!("bench smoke: {}", summary.details());
    let states = &summary.end_states;
    assert_eq!(states.ceiling, states.native, "ceiling vs SQLite");
    assert_eq!(states.cascadia, states.native, "cascadia vs SQLite");
    assert_eq!(summary.rows(), rows);
    assert_eq!(summary.native.rows, rows, "native");
    assert_eq!(summary.ceiling.stats.rows, rows, "ceiling");
    assert_eq!(summary.cascadia.outcome.rows_written(), rows, "cascadia");
    if summary.one_transaction {
        assert_eq!(summary.cascadia.max_tx_rows, rows);
    } else {
        assert!(summary.cascadia.max_tx_rows <= BATCH, "{summary:?}");
        assert!(summary.ceiling.stats.max_tx_rows <= BATCH, "{summary:?}");
        assert!(summary.cascadia.batches >= rows / BATCH, "{summary:?}");
    }
    // Everything else the benchmark checks: per-table counts, orphans.
    summary.check().expect("the three runs agree");
}

#[test]
fn fanout() {
    // 1 team, 1,000 members, 5,000 posts.
    smoke(ShapeName::Fanout, 1 + 1_000 + 5_000);
}

#[test]
fn fanout_with_rows_only() {
    // As `fanout`, with no byte budget: the writes read no row sizes.
    smoke_with(ShapeName::Fanout, 1 + 1_000 + 5_000, None);
}

#[test]
fn chain() {
    // Fan-out round(10 × 0.01^(1/6)) = 5, six levels: 5^0 + … + 5^6.
    smoke(ShapeName::Chain, (0..=6).map(|d| 5u64.pow(d)).sum());
}

#[test]
fn set_null() {
    // The parent deleted, 5,000 children nulled.
    smoke(ShapeName::SetNull, 1 + 5_000);
}

#[test]
fn many_roots() {
    // 100 roots and their 1,000 children.
    smoke(ShapeName::ManyRoots, 100 + 1_000);
}

#[test]
fn key_update() {
    // The parent's key and its 1,000 children, in one transaction.
    smoke(ShapeName::KeyUpdate, 1 + 1_000);
}

/// The options as the command line gives them.
fn parse(args: &[&str]) -> Result<Config, bench::Failure> {
    bench::parse_args(args.iter().map(|arg| arg.to_string()))
}

#[test]
fn options() {
    let config = parse(&["--shape", "all", "--scale", "0.5", "--batch", "200"]).expect("options");
    assert_eq!(config.shapes, ShapeName::ALL);
    assert_eq!((config.scale, config.batch), (0.5, 200));
    assert_eq!(parse(&[]).expect("defaults").shapes, [ShapeName::Fanout]);
    assert!(parse(&["--shape", "nope"]).is_err());
    assert!(parse(&["--backend", "oracle"]).is_err());
    assert!(parse(&["--backend", "postgres", "--shape", "chain"]).is_err());
    assert!(parse(&["--scale", "0"]).is_err());
    // The byte budget: the library's by default, a number, or none.
    assert_eq!(
        parse(&[]).expect("defaults").budget(),
        Budget::DEFAULT.rows_written(1_000)
    );
    assert_eq!(
        parse(&["--bytes", "5000"]).expect("bytes").bytes,
        Some(5_000)
    );
    assert_eq!(
        parse(&["--bytes", "none"])
            .expect("none")
            .budget()
            .bytes_written,
        None
    );
    assert!(parse(&["--bytes", "lots"]).is_err());
    // A batch smaller than a parent with its children is refused up front.
    let small = Config {
        batch: 3,
        ..Config::default()
    };
    assert!(bench::measure_shape(ShapeName::Fanout, &small).is_err());
}

/// `--backend postgres` at a CI size: the three end states (PostgreSQL's
/// own cascade, the plpgsql loop, cascadia) must match, and 1, 2 and 4
/// workers must each drain the four queued jobs (checked inside the run).
#[test]
fn postgres_fanout_and_worker_scaling() {
    let config = Config {
        scale: 0.01,
        batch: BATCH,
        backend: Backend::Postgres,
        ..Config::default()
    };
    bench::run_postgres(&config).expect("PostgreSQL benchmark");
}
