//! Differential test: cascadia's referential actions against SQLite's own.
//!
//! proptest generates a random schema (2–6 tables; single and composite
//! primary keys, unique keys, self-references and cycles, foreign keys
//! through new columns or through a primary-key column, every action on
//! delete and on update, nullable columns, defaults, indexes in either column
//! order, `unindexed` keys), random rows that satisfy every foreign key, and
//! a random operation: a delete of 1–3 rows or an update of one row (key
//! columns, unique columns, foreign-key columns).
//!
//! The same operation runs
//! - through cascadia on a SQLite database whose foreign keys are declared
//!   without actions (SQLite's enforcement on, as a safety net),
//! - through cascadia on the memory store,
//! - through SQLite's native actions on an oracle database, and on a second
//!   oracle whose tables and foreign keys are declared in reverse order.
//!
//! Both cascadia runs must always agree (same contents, or the same error).
//! Against the oracle: the final contents must be identical, or both must
//! fail. Cases are excluded from that comparison, and counted, when
//! - the two oracles disagree: SQLite's result depends on the order it fires
//!   actions in (e.g. RESTRICT reached through a diamond);
//! - cascadia refused on RESTRICT and the oracle succeeded after deleting or
//!   changing the restricting row through another path — cascadia decides
//!   RESTRICT on the state before the operation (checked: the restricting row
//!   is gone or changed in the oracle's result);
//! - SQLite hit its trigger recursion limit (an engine limit).
//!
//! Cases: `CASCADIA_DIFFERENTIAL_CASES` (default 3,000). The counts are
//! printed (`cargo test differential -- --nocapture`).

mod common;

use common::differential::{
    Outcome, restricting_row_changed, reversed, through_cascadia, where_key,
};
use common::generate::{Case, Op, build, load_store, seed};

use std::sync::atomic::{AtomicU64, Ordering};

use cascadia::store::sqlite::ddl::{DdlOptions, create_statements, quote};
use cascadia::{
    Database, Error, MemoryStore, Row, Schema, SqliteOptions, SqliteStore, TableMeta,
    UpdateOptions, Value,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rusqlite::Connection;

// ---------------------------------------------------------------------------
// Running a case.

fn sqlite_rows(conn: &Connection, table: &TableMeta) -> Vec<Row> {
    let sql = format!("SELECT * FROM {}", quote(&table.name));
    let mut statement = conn.prepare(&sql).expect("select");
    let mut rows: Vec<Row> = statement
        .query_map([], |row| {
            (0..table.columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Row, _>>()
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows.sort();
    rows
}

/// Runs the case with SQLite's native actions.
fn oracle(case: &Case, schema: &Schema) -> Outcome {
    let conn = Connection::open_in_memory().expect("oracle");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("pragma");
    for statement in
        create_statements(schema, &DdlOptions::default().native_actions(true)).expect("ddl")
    {
        conn.execute_batch(&statement).expect("create");
    }
    load_sqlite(&conn, &case.schema, &case.rows);
    let tables: Vec<&TableMeta> = case.schema.tables().collect();
    let result = match &case.op {
        Op::Delete { table, keys } => {
            let meta = tables[*table];
            let per_key = meta.primary_key.len();
            let condition = (0..keys.len())
                .map(|k| format!("({})", where_key(meta, "?", 1 + k * per_key)))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("DELETE FROM {} WHERE {condition}", quote(&meta.name));
            let params: Vec<&Value> = keys.iter().flatten().collect();
            conn.execute(&sql, rusqlite::params_from_iter(params))
        }
        Op::Update { table, key, row } => {
            let meta = tables[*table];
            let set = meta
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} = ?{}", quote(&c.name), i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE {} SET {set} WHERE {}",
                quote(&meta.name),
                where_key(meta, "?", meta.columns.len() + 1)
            );
            let params: Vec<&Value> = row.iter().chain(key).collect();
            conn.execute(&sql, rusqlite::params_from_iter(params))
        }
    };
    match result {
        Ok(_) => Outcome::Ok(tables.iter().map(|t| sqlite_rows(&conn, t)).collect()),
        Err(error) => {
            let message = error.to_string();
            if message.contains("FOREIGN KEY") {
                Outcome::ForeignKey(message)
            } else if message.contains("UNIQUE") {
                Outcome::Unique(message)
            } else if message.contains("NOT NULL") {
                Outcome::NotNull(message)
            } else if message.contains("too many levels of trigger recursion") {
                Outcome::Recursion(message)
            } else {
                Outcome::Other(message)
            }
        }
    }
}

/// Loads rows in one transaction, foreign keys checked at commit.
fn load_sqlite(conn: &Connection, schema: &Schema, rows: &[Vec<Row>]) {
    conn.execute_batch("BEGIN; PRAGMA defer_foreign_keys = ON")
        .expect("begin");
    for (table, rows) in schema.tables().zip(rows) {
        let sql = format!(
            "INSERT INTO {} VALUES ({})",
            quote(&table.name),
            (1..=table.columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for row in rows {
            conn.execute(&sql, rusqlite::params_from_iter(row))
                .expect("insert");
        }
    }
    conn.execute_batch("COMMIT")
        .expect("generated rows satisfy their keys");
}

/// A key update that succeeds writing `n` rows succeeds with `max_rows(n)`
/// and, counted before anything is written, fails with `max_rows(n - 1)`.
fn max_rows_is_exact_for_updates(case: &Case) -> Result<(), TestCaseError> {
    let Op::Update { table, key, row } = &case.op else {
        return Ok(());
    };
    let name = case
        .schema
        .tables()
        .nth(*table)
        .expect("table")
        .name
        .to_string();
    let update = |limit: Option<u64>| {
        let store = MemoryStore::new(case.schema.clone()).expect("memory store");
        load_store(&store, &case.rows);
        let mut options = UpdateOptions::default();
        options.max_rows = limit;
        Database::new(store).write(|tx| tx.update_row(&name, key, row.clone(), &options))
    };
    let written = update(None)
        .expect("the update succeeded once")
        .rows_written();
    prop_assert!(
        update(Some(written)).is_ok(),
        "max_rows({}) refused\n{:?}",
        written,
        case
    );
    if written > 0 {
        let refused = update(Some(written - 1));
        prop_assert!(
            matches!(refused, Err(Error::TooManyRows { .. })),
            "max_rows({}) gave {:?}\n{:?}",
            written - 1,
            refused,
            case
        );
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    run: AtomicU64,
    compared: AtomicU64,
    both_ok: AtomicU64,
    both_failed: AtomicU64,
    failed_differently: AtomicU64,
    oracle_order_dependent: AtomicU64,
    restrict_before_state: AtomicU64,
    recursion_limit: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn run_case(case: &Case, counts: &Counts) -> Result<(), TestCaseError> {
    bump(&counts.run);
    let sqlite_store = SqliteStore::open_in_memory(case.schema.clone(), SqliteOptions::default())
        .expect("sqlite store");
    load_store(&sqlite_store, &case.rows);
    let sqlite_db = Database::new(sqlite_store.clone());
    let memory_store = MemoryStore::new(case.schema.clone()).expect("memory store");
    load_store(&memory_store, &case.rows);
    let memory_db = Database::new(memory_store);

    let (on_sqlite, error) = through_cascadia(case, &sqlite_db);
    let (on_memory, _) = through_cascadia(case, &memory_db);
    prop_assert_eq!(
        &on_sqlite,
        &on_memory,
        "cascadia on SQLite and on memory disagree\n{:?}",
        case
    );
    // SQLite's own check agrees that nothing is orphaned.
    let orphans: usize = sqlite_store
        .with_connection_mut(|conn| {
            Ok(conn
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |_| Ok(()))?
                .count())
        })
        .expect("foreign_key_check");
    prop_assert_eq!(orphans, 0, "orphans after the operation\n{:?}", case);
    if matches!(case.op, Op::Update { .. }) && !on_memory.failed() {
        max_rows_is_exact_for_updates(case)?;
    }

    let first = oracle(case, &case.schema);
    let second = oracle(case, &reversed(&case.schema));
    if matches!(first, Outcome::Recursion(_)) || matches!(second, Outcome::Recursion(_)) {
        bump(&counts.recursion_limit);
        return Ok(());
    }
    if first.failed() != second.failed() || (!first.failed() && first != second) {
        bump(&counts.oracle_order_dependent);
        return Ok(());
    }
    prop_assert!(
        !matches!(first, Outcome::Other(_)),
        "the oracle failed unexpectedly: {:?}\n{:?}",
        first,
        case
    );
    if let (Some(error @ Error::Restricted { .. }), Outcome::Ok(contents)) = (&error, &first) {
        // Legitimate only if the oracle removed or changed the restricting row.
        prop_assert!(
            restricting_row_changed(case, error, contents),
            "cascadia refused on RESTRICT but the oracle kept the restricting row\n{:?}",
            case
        );
        bump(&counts.restrict_before_state);
        return Ok(());
    }
    bump(&counts.compared);
    match (&on_sqlite, &first) {
        (Outcome::Ok(ours), Outcome::Ok(theirs)) => {
            prop_assert_eq!(ours, theirs, "final contents differ\n{:?}", case);
            bump(&counts.both_ok);
        }
        (ours, theirs) if ours.failed() && theirs.failed() => {
            bump(&counts.both_failed);
            if std::mem::discriminant(ours) != std::mem::discriminant(theirs) {
                bump(&counts.failed_differently);
                if std::env::var_os("CASCADIA_DIFFERENTIAL_VERBOSE").is_some() {
                    println!(
                        "failed differently:\ncascadia: {ours:?}\noracle: {theirs:?}\n{case:?}\n"
                    );
                }
            }
        }
        (ours, theirs) => {
            return Err(TestCaseError::fail(format!(
                "cascadia: {ours:?}\noracle: {theirs:?}\n{case:?}"
            )));
        }
    }
    Ok(())
}

#[test]
fn differential_against_sqlite_native_actions() {
    let cases: u32 = std::env::var("CASCADIA_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let counts = Counts::default();
    let skipped = AtomicU64::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&seed(), |seed| match build(&seed) {
        Some(case) => run_case(&case, &counts),
        None => {
            bump(&skipped);
            Ok(())
        }
    });
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let summary = [
        ("cases run", load(&counts.run)),
        ("compared with the oracle", load(&counts.compared)),
        ("  both succeeded, same contents", load(&counts.both_ok)),
        ("  both failed", load(&counts.both_failed)),
        (
            "    of which for another reason (e.g. UNIQUE vs FOREIGN KEY)",
            load(&counts.failed_differently),
        ),
        (
            "excluded: the two oracles disagree (action order)",
            load(&counts.oracle_order_dependent),
        ),
        (
            "excluded: RESTRICT decided before the operation",
            load(&counts.restrict_before_state),
        ),
        (
            "excluded: SQLite's trigger recursion limit",
            load(&counts.recursion_limit),
        ),
        ("seeds without a valid case", load(&skipped)),
    ];
    println!("differential summary ({cases} cases asked):");
    for (what, count) in &summary {
        println!("  {what}: {count}");
    }
    if let Err(error) = result {
        panic!("{error}");
    }
}
