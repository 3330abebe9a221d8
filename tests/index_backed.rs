//! Every lookup the SQLite store issues is index-backed.
//!
//! A differential-style workload (generated schemas, rows and operations, as
//! in `differential.rs`; deletes in batched mode with tiny budgets, so that
//! batches resume scans of many parents at once, and also explained,
//! queued and drained by a worker, then audited with `check_integrity`)
//! plus a typed-access workload (prefix and range scans, resumed pages,
//! unique lookups, inserts and updates checking their foreign keys) runs on
//! SQLite stores; then `EXPLAIN QUERY PLAN` runs on every distinct statement
//! each store prepared. A plan step that `SCAN`s a table or an index (rather
//! than `SEARCH`ing one), or sorts with a temporary B-tree, fails the test.
//!
//! Allowed exceptions:
//! - lookups through foreign keys declared `unindexed` (a filtered scan by
//!   primary key is what `unindexed` accepts) — cascadia's own, flagged by
//!   the store when it prepares them, and SQLite's safety-net check of such
//!   a key inside an `INSERT`, `DELETE` or `UPDATE` of its parent table
//!   (`SCAN child`; the keys are deferred, and for an `INSERT` the scan
//!   runs only while a deferred violation is outstanding);
//! - index scans with no prefix and no range: a full scan is what was asked
//!   for (the tests' table dumps, `Database::rows`, and `check_integrity`,
//!   which reads every row of every table with a foreign key, a page at a
//!   time, by design), flagged by the store;
//! - listing the job rows (`Transaction::list_jobs`), flagged by the store;
//! - the key array of a limited set-based write (`... WHERE key IN
//!   rarray(?1)`: `SCAN rarray VIRTUAL TABLE`), whose keys an index-backed
//!   statement listed; the table itself must still be searched by key.

mod common;

use std::cell::RefCell;

use cascadia::store::sqlite::PreparedStatement;
use cascadia::{Database, IndexRef, Schema, SqliteOptions, SqliteStore, Store, Value};
use common::generate::{build, load_store, seed};
use common::teams_schema;
use proptest::test_runner::{Config, TestRunner};

/// Tables with a foreign key declared `unindexed` that references `parent`:
/// SQLite's own foreign-key check scans them when a `parent` row is deleted
/// or its key changes.
fn unindexed_children(schema: &Schema, parent: &str) -> Vec<String> {
    schema
        .foreign_keys()
        .filter(|fk| fk.meta.referenced_table == parent && fk.meta.index == IndexRef::Unindexed)
        .map(|fk| fk.table.name.to_string())
        .collect()
}

/// The table a `DELETE FROM "t" ...`, `UPDATE "t" ...` or `INSERT INTO "t"
/// ...` writes.
fn written_table(sql: &str) -> Option<String> {
    let start = ["DELETE FROM \"", "UPDATE \"", "INSERT INTO \""]
        .iter()
        .filter_map(|verb| sql.find(verb).map(|at| at + verb.len()))
        .min()?;
    sql[start..]
        .split_once('"')
        .map(|(name, _)| name.to_owned())
}

/// Plan steps of `sql` that are neither a search nor an allowed exception.
fn bad_steps(store: &SqliteStore, statement: &PreparedStatement) -> Vec<String> {
    let plan: Vec<String> = store
        .with_connection_mut(|conn| {
            let mut query = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", statement.sql))?;
            let nulls = vec![Value::Null; query.parameter_count()];
            let details = query
                .query_map(rusqlite::params_from_iter(nulls), |row| {
                    row.get::<_, String>(3)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(details)
        })
        .expect("explain query plan");
    if statement.full_scan_expected {
        return Vec::new();
    }
    let allowed: Vec<String> = written_table(&statement.sql)
        .map(|parent| unindexed_children(store.schema(), &parent))
        .unwrap_or_default()
        .into_iter()
        .map(|child| format!("SCAN {child}"))
        .collect();
    plan.into_iter()
        .filter(|step| step.starts_with("SCAN") || step.contains("TEMP B-TREE"))
        .filter(|step| !allowed.contains(step))
        .filter(|step| !step.starts_with("SCAN rarray VIRTUAL TABLE"))
        .collect()
}

/// Checks every statement `store` prepared; returns how many.
fn check(store: &SqliteStore, failures: &mut Vec<String>) -> usize {
    let statements = store.prepared_statements();
    for statement in &statements {
        let bad = bad_steps(store, statement);
        if !bad.is_empty() {
            failures.push(format!("{}\n    -> {}", statement.sql, bad.join("; ")));
        }
    }
    statements.len()
}

#[test]
fn index_backed_generated_workload() {
    let failures = RefCell::new(Vec::new());
    let checked = RefCell::new(0usize);
    let distinct = RefCell::new(std::collections::BTreeSet::new());
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&seed(), |seed| {
            let Some(case) = build(&seed) else {
                return Ok(());
            };
            let store = SqliteStore::open_in_memory(case.schema.clone(), SqliteOptions::default())
                .expect("store");
            load_store(&store, &case.rows);
            let db = Database::new(store.clone());
            common::workload::generated(&db, &case);
            *checked.borrow_mut() += check(&store, &mut failures.borrow_mut());
            distinct
                .borrow_mut()
                .extend(store.prepared_statements().into_iter().map(|s| s.sql));
            Ok(())
        })
        .expect("workload");
    let failures = failures.into_inner();
    let distinct = distinct.into_inner();
    let in_lists = distinct.iter().filter(|sql| sql.contains(" IN (")).count();
    println!(
        "index_backed: {} prepared statements checked ({} distinct texts, {in_lists} with an IN list)",
        checked.into_inner(),
        distinct.len()
    );
    assert!(
        in_lists > 0,
        "the batched child scans and deletes were exercised"
    );
    // Limited writes listed their candidates both with sizes (under a byte
    // limit) and without (rows only).
    let sized = distinct
        .iter()
        .filter(|sql| sql.contains("cascadia_size("))
        .count();
    let without = distinct
        .iter()
        .filter(|sql| sql.starts_with("SELECT 0, "))
        .count();
    assert!(
        sized > 0 && without > 0,
        "{sized} listings with sizes, {without} without"
    );
    assert!(
        failures.is_empty(),
        "statements that scan instead of searching:\n{}",
        failures.join("\n")
    );
}

#[test]
fn index_backed_typed_access() {
    let store =
        SqliteStore::open_in_memory(teams_schema(), SqliteOptions::default()).expect("store");
    let db = Database::new(store.clone());
    common::workload::typed(&db);
    let mut failures = Vec::new();
    let checked = check(&store, &mut failures);
    println!("index_backed: {checked} statements of the typed workload checked");
    assert!(
        failures.is_empty(),
        "statements that scan instead of searching:\n{}",
        failures.join("\n")
    );
}
