//! Differential test of batched deletes against `sync` deletes.
//!
//! The generator of `differential.rs` (random schemas with every action,
//! composite and unique keys, self-references and cycles, nullable columns,
//! defaults) makes a case; its delete runs
//! - in `sync` mode (one transaction) on a SQLite store and on a memory
//!   store — already held to SQLite's native actions by `differential.rs`;
//! - in batched mode with tiny budgets (1–3 rows written, a few rows read
//!   and bytes written, or no byte limit, per transaction, frames of 1–3
//!   rows), so that most
//!   deletes take many batches, on a SQLite store (foreign keys declared
//!   without actions, SQLite's enforcement on) and on a memory store.
//!
//! After **every committed batch**, the observer runs SQLite's `PRAGMA
//! foreign_key_check` (SQLite store) and `check_integrity` (memory store):
//! no orphan may ever be visible. At the end, batched and sync must agree:
//! the same contents and the same counts, or both refused — and a refused
//! batched delete must have changed nothing and left no job (every refusal
//! comes from the check pass, before the first batch).
//!
//! Cases: `CASCADIA_BATCHED_CASES` (default 2,000; updates of the generator
//! are skipped and counted).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cascadia::{
    Budget, Database, DeleteOptions, IntegrityOptions, MemoryStore, Outcome, Progress,
    ProgressEvent, Row, SqliteOptions, SqliteStore,
};
use common::generate::{Case, Op, build, load_store, seed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

type Contents = Vec<Vec<Row>>;

fn contents(db: &Database) -> Contents {
    db.schema()
        .tables()
        .map(|t| {
            let mut rows = db.rows(&t.name).expect("rows");
            rows.sort();
            rows
        })
        .collect()
}

fn orphans(store: &SqliteStore) -> usize {
    store
        .with_connection_mut(|conn| {
            Ok(conn
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |_| Ok(()))?
                .count())
        })
        .expect("foreign_key_check")
}

#[derive(Debug, PartialEq)]
enum Result {
    Ok(Contents, Outcome),
    Refused,
}

fn strip_job(mut outcome: Outcome) -> Outcome {
    outcome.job = None;
    outcome
}

/// Runs the case's delete with `options` on `db`; `batches` collects, per
/// committed batch, (rows written, orphans seen right after the commit).
fn run(
    case: &Case,
    db: &Database,
    options: DeleteOptions,
) -> std::result::Result<Result, TestCaseError> {
    let Op::Delete { table, keys } = &case.op else {
        unreachable!()
    };
    let name = case
        .schema
        .tables()
        .nth(*table)
        .expect("table")
        .name
        .clone();
    let before = contents(db);
    match db.delete_rows(&name, keys, &options) {
        Ok(outcome) => Ok(Result::Ok(contents(db), strip_job(outcome))),
        Err(error) => {
            prop_assert!(
                error.is_foreign_key()
                    || error.is_unique()
                    || matches!(error, cascadia::Error::TooManyRows { .. }),
                "unexpected error {error}\n{case:?}"
            );
            prop_assert_eq!(
                &contents(db),
                &before,
                "a refused delete changed rows ({})\n{:?}",
                error,
                case
            );
            prop_assert!(db.jobs().expect("jobs").is_empty(), "a job is left");
            Ok(Result::Refused)
        }
    }
}

/// Whether some table reaches itself through foreign keys (then rows may
/// form a data cycle).
fn has_cycle(schema: &cascadia::Schema) -> bool {
    let tables: Vec<String> = schema.tables().map(|t| t.name.to_string()).collect();
    tables.iter().any(|start| {
        let mut seen = vec![start.clone()];
        let mut stack = vec![start.clone()];
        while let Some(parent) = stack.pop() {
            for fk in schema.incoming(&parent) {
                let child = fk.table.name.to_string();
                if child == *start {
                    return true;
                }
                if !seen.contains(&child) {
                    seen.push(child.clone());
                    stack.push(child);
                }
            }
        }
        false
    })
}

#[derive(Default)]
struct Counts {
    run: AtomicU64,
    succeeded: AtomicU64,
    refused: AtomicU64,
    multi_batch: AtomicU64,
    batches: AtomicU64,
    updates_skipped: AtomicU64,
}

fn run_case(case: &Case, counts: &Counts) -> std::result::Result<(), TestCaseError> {
    if !matches!(case.op, Op::Delete { .. }) {
        counts.updates_skipped.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    counts.run.fetch_add(1, Ordering::Relaxed);
    let sync_options = DeleteOptions::default().sync().batch_rows(case.batch_rows);

    let sync_sqlite =
        SqliteStore::open_in_memory(case.schema.clone(), SqliteOptions::default()).expect("store");
    load_store(&sync_sqlite, &case.rows);
    let expected = run(case, &Database::new(sync_sqlite), sync_options.clone())?;
    let sync_memory = MemoryStore::new(case.schema.clone()).expect("store");
    load_store(&sync_memory, &case.rows);
    let on_memory = run(case, &Database::new(sync_memory), sync_options)?;
    prop_assert_eq!(&expected, &on_memory, "sync: SQLite and memory disagree");

    // Budgets from the case's bytes: 1–3 rows written, 2–9 rows read, a
    // byte budget that sometimes binds first, or none (rows only: the
    // SQLite store's writes then read no row sizes).
    let n = case.batch_rows as u64;
    let mut budget = Budget::UNLIMITED
        .rows_written(n)
        .rows_read(1 + 2 * n + n % 2 * 3);
    budget.bytes_written = match n {
        2 => Some(20),
        3 => None,
        _ => Some(10_000),
    };
    let cyclic = has_cycle(&case.schema);
    let violations = Arc::new(Mutex::new(Vec::<String>::new()));
    let batches = Arc::new(AtomicU64::new(0));

    let sqlite =
        SqliteStore::open_in_memory(case.schema.clone(), SqliteOptions::default()).expect("store");
    load_store(&sqlite, &case.rows);
    let observed = sqlite.clone();
    let (seen, count) = (violations.clone(), batches.clone());
    let options = DeleteOptions::default()
        .batch_rows(case.batch_rows)
        .budget(budget)
        .observer(move |progress: &Progress| {
            count.fetch_add(1, Ordering::Relaxed);
            let found = orphans(&observed);
            if found > 0 {
                seen.lock()
                    .unwrap()
                    .push(format!("{found} orphans after batch {}", progress.batches));
            }
            // Rows on a data cycle are deleted in one transaction, whatever
            // the budget.
            if progress.batch_rows_written > n && progress.event == ProgressEvent::Batch && !cyclic
            {
                seen.lock().unwrap().push(format!(
                    "batch {} wrote {} rows, budget {n}",
                    progress.batches, progress.batch_rows_written
                ));
            }
        });
    let on_sqlite = run(case, &Database::new(sqlite.clone()), options)?;
    prop_assert_eq!(orphans(&sqlite), 0);

    let memory = MemoryStore::new(case.schema.clone()).expect("store");
    load_store(&memory, &case.rows);
    let memory_db = Database::new(memory);
    let audited = memory_db.clone();
    let seen = violations.clone();
    let options = DeleteOptions::default()
        .batch_rows(case.batch_rows)
        .budget(budget)
        .observer(move |progress: &Progress| {
            let report = audited
                .check_integrity(&IntegrityOptions::default())
                .expect("integrity");
            if !report.is_clean() {
                seen.lock().unwrap().push(format!(
                    "memory: {} orphans after batch {}",
                    report.orphans(),
                    progress.batches
                ));
            }
        });
    let on_memory = run(case, &memory_db, options)?;

    let violations = violations.lock().unwrap().clone();
    prop_assert!(violations.is_empty(), "{:?}\n{:?}", violations, case);
    prop_assert_eq!(
        &on_sqlite,
        &expected,
        "batched (SQLite) differs from sync\n{:?}",
        case
    );
    prop_assert_eq!(
        &on_memory,
        &expected,
        "batched (memory) differs from sync\n{:?}",
        case
    );
    let batches = batches.load(Ordering::Relaxed);
    counts.batches.fetch_add(batches, Ordering::Relaxed);
    if batches > 1 {
        counts.multi_batch.fetch_add(1, Ordering::Relaxed);
    }
    match expected {
        Result::Ok(..) => counts.succeeded.fetch_add(1, Ordering::Relaxed),
        Result::Refused => counts.refused.fetch_add(1, Ordering::Relaxed),
    };
    Ok(())
}

#[test]
fn differential_batched_equals_sync() {
    let cases: u32 = std::env::var("CASCADIA_BATCHED_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let counts = Counts::default();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&seed(), |seed| match build(&seed) {
        Some(case) => run_case(&case, &counts),
        None => Ok(()),
    });
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!("batched differential ({cases} cases asked):");
    println!("  deletes run: {}", load(&counts.run));
    println!(
        "    succeeded (same contents and counts): {}",
        load(&counts.succeeded)
    );
    println!(
        "    refused by both (batched changed nothing): {}",
        load(&counts.refused)
    );
    println!(
        "    took more than one batch: {}",
        load(&counts.multi_batch)
    );
    println!("    batches committed (SQLite): {}", load(&counts.batches));
    println!("  updates skipped: {}", load(&counts.updates_skipped));
    if let Err(error) = result {
        panic!("{error}");
    }
}
