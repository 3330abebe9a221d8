//! Differential test: cascadia on PostgreSQL against PostgreSQL's own
//! referential actions.
//!
//! The generator of `differential.rs` (`common/generate.rs`: random
//! schemas, rows satisfying every foreign key, a delete of 1–3 rows or an
//! update of one row) makes each case; the same operation runs
//! - through cascadia on a PostgreSQL store whose foreign keys are declared
//!   without actions (`DEFERRABLE`, checked at commit as a safety net),
//! - through cascadia on the memory store (both cascadia runs must agree),
//! - through PostgreSQL's native `ON DELETE` / `ON UPDATE` actions, one
//!   statement, on an oracle schema — and, when the two disagree, on a
//!   second oracle whose tables and foreign keys are created in reverse
//!   order (PostgreSQL fires the actions of one row in trigger-name order,
//!   that is creation order).
//!
//! The final contents must be identical, or both must fail. When they are
//! not, the case is excluded from the comparison, and counted, only when
//! - the two oracles disagree (the result depends on creation order);
//! - cascadia refused on RESTRICT and the oracle succeeded after deleting or
//!   changing the restricting row through another path (cascadia decides
//!   RESTRICT on the state before the operation; checked);
//! - PostgreSQL refused on an immediate `NO ACTION` check that it runs when
//!   the constraint's turn comes, before other actions of the same
//!   statement have run — the case is then run again on the oracle with
//!   the constraints deferred to `COMMIT` (after every action, SQL's and
//!   SQLite's timing, cascadia's), and *that* result is compared: counted
//!   as compared against the deferred oracle;
//! - even deferred, PostgreSQL refused with the check its SET DEFAULT action
//!   runs at once after writing a default equal to the deleted key (a
//!   cascade of the same statement would have removed that row): cascadia,
//!   like SQLite, checks once every action has run (`cascadia::semantics`,
//!   "Differences from PostgreSQL").
//!
//! Each worker thread has its own pair of PostgreSQL schemas, reused across
//! its cases (dropped and created again for each). The test vacuums the
//! system catalogs before it starts and every [`VACUUM_EVERY`] cases, so
//! that on a server without autovacuum the dead catalog rows of the
//! schemas dropped do not make each case slower than the last. Cases:
//! `CASCADIA_PG_DIFFERENTIAL_CASES` (default 3,000); threads:
//! `CASCADIA_PG_DIFFERENTIAL_THREADS` (default 4). The counts are printed
//! (`-- --nocapture`), and the test asserts how many cases it compared.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use cascadia::store::postgres::ddl::{DdlOptions, create_statements, quote};
use cascadia::{
    Database, Error, MemoryStore, PostgresOptions, PostgresStore, Row, Schema, TableMeta, Value,
};
use common::differential::{
    Outcome, restricting_row_changed, reversed, schema_position, through_cascadia, where_key,
};
use common::generate::{Case, Op, build, load_store, seed};
use common::postgres::{connect, fresh_name, url, vacuum_catalogs};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[derive(Default)]
struct Counts {
    run: AtomicU64,
    compared: AtomicU64,
    both_ok: AtomicU64,
    both_failed: AtomicU64,
    failed_differently: AtomicU64,
    deferred_no_action: AtomicU64,
    set_default_recheck: AtomicU64,
    oracle_order_dependent: AtomicU64,
    restrict_before_state: AtomicU64,
    skipped: AtomicU64,
}

/// Cases between two `VACUUM`s of the system catalogs (each case drops and
/// creates about ten tables).
const VACUUM_EVERY: u64 = 500;

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// One worker thread's schemas: `cascadia` for the store, `oracle` for
/// PostgreSQL's own actions; a client working in the oracle schema.
struct Worker {
    url: String,
    cascadia: String,
    oracle: String,
    client: postgres::Client,
}

impl Worker {
    fn new() -> Self {
        let cascadia = fresh_name("diff_c");
        let oracle = fresh_name("diff_n");
        let url = fast_url();
        let mut client = connect();
        client
            .batch_execute(&format!(
                "SET synchronous_commit TO off; CREATE SCHEMA {o}; SET search_path TO {o}",
                o = quote(&oracle)
            ))
            .expect("oracle schema");
        Worker {
            url,
            cascadia,
            oracle,
            client,
        }
    }

    /// Empties the cascadia schema (the store creates its tables again).
    fn reset_cascadia(&mut self) {
        self.client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {c} CASCADE; CREATE SCHEMA {c}",
                c = quote(&self.cascadia)
            ))
            .expect("reset cascadia schema");
    }

    /// The oracle schema, empty, with `schema`'s tables (native actions)
    /// and the case's rows.
    fn prepare_oracle(&mut self, case: &Case, schema: &Schema) {
        let mut script = format!(
            "DROP SCHEMA IF EXISTS {o} CASCADE; CREATE SCHEMA {o}; SET search_path TO {o};",
            o = quote(&self.oracle)
        );
        for statement in
            create_statements(schema, &DdlOptions::default().native_actions(true)).expect("ddl")
        {
            script.push_str(&statement);
            script.push(';');
        }
        self.client.batch_execute(&script).expect("oracle tables");
        let mut tx = self.client.transaction().expect("begin");
        tx.batch_execute("SET CONSTRAINTS ALL DEFERRED")
            .expect("defer");
        for table in schema.tables() {
            let position = schema_position(&case.schema, &table.name);
            let sql = format!(
                "INSERT INTO {} VALUES ({})",
                quote(&table.name),
                (1..=table.columns.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let statement = tx.prepare(&sql).expect("prepare insert");
            for row in &case.rows[position] {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    row.iter().map(|v| v as _).collect();
                tx.execute(&statement, &params).expect("insert");
            }
        }
        tx.commit().expect("generated rows satisfy their keys");
    }

    /// Runs the case's operation with PostgreSQL's actions on `schema`
    /// (the case's tables in some creation order); with `deferred`, inside
    /// a transaction whose constraints are checked at `COMMIT`.
    fn oracle(&mut self, case: &Case, schema: &Schema, deferred: bool) -> Outcome {
        self.prepare_oracle(case, schema);
        let (sql, params) = operation_sql(case);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|v| *v as _).collect();
        let result = if deferred {
            self.client
                .transaction()
                .and_then(|mut tx| {
                    tx.batch_execute("SET CONSTRAINTS ALL DEFERRED")?;
                    tx.execute(sql.as_str(), &refs)?;
                    tx.commit()
                })
                .map(|_| 0)
        } else {
            self.client.execute(sql.as_str(), &refs)
        };
        match result {
            Ok(_) => Outcome::Ok(
                case.schema
                    .tables()
                    .map(|t| oracle_rows(&mut self.client, t))
                    .collect(),
            ),
            Err(error) => {
                let message = match error.as_db_error() {
                    Some(db) => format!("{} ({})", db.message(), db.detail().unwrap_or_default()),
                    None => error.to_string(),
                };
                match error.code().map(|c| c.code()) {
                    Some("23503") => Outcome::ForeignKey(message),
                    Some("23505") => Outcome::Unique(message),
                    Some("23502") => Outcome::NotNull(message),
                    _ => Outcome::Other(message),
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.client.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE; DROP SCHEMA IF EXISTS {} CASCADE",
            quote(&self.cascadia),
            quote(&self.oracle)
        ));
    }
}

fn oracle_rows(client: &mut postgres::Client, table: &TableMeta) -> Vec<Row> {
    let sql = format!("SELECT * FROM {}", quote(&table.name));
    let mut rows: Vec<Row> = client
        .query(sql.as_str(), &[])
        .expect("select")
        .iter()
        .map(|row| {
            (0..table.columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// The case's operation as one SQL statement and its parameters.
fn operation_sql(case: &Case) -> (String, Vec<&Value>) {
    let tables: Vec<&TableMeta> = case.schema.tables().collect();
    match &case.op {
        Op::Delete { table, keys } => {
            let meta = tables[*table];
            let per_key = meta.primary_key.len();
            let condition = (0..keys.len())
                .map(|k| format!("({})", where_key(meta, "$", 1 + k * per_key)))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("DELETE FROM {} WHERE {condition}", quote(&meta.name));
            (sql, keys.iter().flatten().collect())
        }
        Op::Update { table, key, row } => {
            let meta = tables[*table];
            let set = meta
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{} = ${}", quote(&c.name), i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE {} SET {set} WHERE {}",
                quote(&meta.name),
                where_key(meta, "$", meta.columns.len() + 1)
            );
            (sql, row.iter().chain(key).collect())
        }
    }
}

/// Whether PostgreSQL refused with the parent-side check its SET DEFAULT
/// action runs at once, not deferred, after writing a default equal to the
/// deleted or changed key (`ri_set` re-checks that key): the message names
/// a SET DEFAULT foreign key of the operation's kind. cascadia (and SQLite)
/// check once every action has run — a cascade may remove the row the
/// default was written to.
fn refused_by_set_default_recheck(case: &Case, message: &str) -> bool {
    if !message.starts_with("update or delete on table") {
        return false;
    }
    let delete = matches!(case.op, Op::Delete { .. });
    case.schema.tables().any(|table| {
        table.foreign_keys.iter().any(|fk| {
            let name = format!("\"{}_{}_fkey\"", table.name, fk.columns.join("_"));
            let action = if delete { fk.on_delete } else { fk.on_update };
            action == cascadia::Action::SetDefault && message.contains(&name)
        })
    })
}

/// The server's URL, with commits that do not wait for the disk: the
/// test creates and drops thousands of tables; durability is not what it
/// checks.
fn fast_url() -> String {
    let url = url();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20synchronous_commit%3Doff")
}

fn run_case(case: &Case, worker: &mut Worker, counts: &Counts) -> Result<(), TestCaseError> {
    if counts.run.fetch_add(1, Ordering::Relaxed) % VACUUM_EVERY == VACUUM_EVERY - 1 {
        vacuum_catalogs();
    }
    worker.reset_cascadia();
    let store = PostgresStore::open(
        &worker.url,
        case.schema.clone(),
        PostgresOptions::default().schema(worker.cascadia.clone()),
    )
    .expect("postgres store");
    load_store(&store, &case.rows);
    let pg_db = Database::new(store);
    let memory_store = MemoryStore::new(case.schema.clone()).expect("memory store");
    load_store(&memory_store, &case.rows);
    let memory_db = Database::new(memory_store);
    let (on_postgres, error) = through_cascadia(case, &pg_db);
    drop(pg_db);
    let (on_memory, _) = through_cascadia(case, &memory_db);
    prop_assert_eq!(
        &on_postgres,
        &on_memory,
        "cascadia on PostgreSQL and on memory disagree\n{:?}",
        case
    );

    let first = worker.oracle(case, &case.schema, false);
    // Agreement with one creation order is a comparison; only a
    // disagreement needs the other order (and the documented differences).
    if on_postgres == first || (on_postgres.failed() && first.failed()) {
        return tally(case, &on_postgres, &first, counts);
    }
    let second = worker.oracle(case, &reversed(&case.schema), false);
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
    if let (Some(error), Outcome::Ok(contents)) = (&error, &first) {
        if matches!(error, Error::Restricted { .. }) {
            prop_assert!(
                restricting_row_changed(case, error, contents),
                "cascadia refused on RESTRICT but the oracle kept the restricting row\n{:?}",
                case
            );
            bump(&counts.restrict_before_state);
            return Ok(());
        }
    }
    let mut theirs = first;
    if !on_postgres.failed() && matches!(theirs, Outcome::ForeignKey(_)) {
        // PostgreSQL checked an immediate NO ACTION before the statement's
        // other actions ran: compare with the check deferred to COMMIT.
        if std::env::var_os("CASCADIA_PG_DIFFERENTIAL_VERBOSE").is_some() {
            println!("NO ACTION checked early: {theirs:?}\n{case:?}\n");
        }
        theirs = worker.oracle(case, &case.schema, true);
        bump(&counts.deferred_no_action);
        if let Outcome::ForeignKey(message) = &theirs {
            if refused_by_set_default_recheck(case, message) {
                bump(&counts.set_default_recheck);
                return Ok(());
            }
        }
    }
    tally(case, &on_postgres, &theirs, counts)
}

/// Compares cascadia's outcome with PostgreSQL's, and counts it.
fn tally(
    case: &Case,
    ours: &Outcome,
    theirs: &Outcome,
    counts: &Counts,
) -> Result<(), TestCaseError> {
    bump(&counts.compared);
    match (ours, theirs) {
        (Outcome::Ok(ours), Outcome::Ok(theirs)) => {
            prop_assert_eq!(ours, theirs, "final contents differ\n{:?}", case);
            bump(&counts.both_ok);
        }
        (ours, theirs) if ours.failed() && theirs.failed() => {
            bump(&counts.both_failed);
            if std::mem::discriminant(ours) != std::mem::discriminant(theirs) {
                bump(&counts.failed_differently);
            }
        }
        (ours, theirs) => {
            return Err(TestCaseError::fail(format!(
                "cascadia: {ours:?}\nPostgreSQL: {theirs:?}\n{case:?}"
            )));
        }
    }
    Ok(())
}

fn env(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn differential_against_postgresql_native_actions() {
    let cases = env("CASCADIA_PG_DIFFERENTIAL_CASES", 3_000);
    let threads = env("CASCADIA_PG_DIFFERENTIAL_THREADS", 4).max(1);
    let counts = Counts::default();
    let started = std::time::Instant::now();
    vacuum_catalogs();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let counts = &counts;
                let share = cases / threads + u32::from(t < cases % threads);
                scope.spawn(move || {
                    // proptest wants a `Fn`: the worker's client behind a RefCell.
                    let worker = std::cell::RefCell::new(Worker::new());
                    let mut runner = TestRunner::new(Config {
                        cases: share,
                        failure_persistence: None,
                        ..Config::default()
                    });
                    runner
                        .run(&seed(), |seed| match build(&seed) {
                            Some(case) => run_case(&case, &mut worker.borrow_mut(), counts),
                            None => {
                                bump(&counts.skipped);
                                Ok(())
                            }
                        })
                        .err()
                        .map(|error| error.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("worker thread"))
            .collect()
    });
    let summary = [
        ("cases run", load(&counts.run)),
        ("compared with PostgreSQL", load(&counts.compared)),
        ("  both succeeded, same contents", load(&counts.both_ok)),
        ("  both failed", load(&counts.both_failed)),
        (
            "    of which for another reason (e.g. UNIQUE vs FOREIGN KEY)",
            load(&counts.failed_differently),
        ),
        (
            "  against the oracle with NO ACTION deferred to COMMIT",
            load(&counts.deferred_no_action),
        ),
        (
            "excluded: PostgreSQL's immediate re-check of a SET DEFAULT onto the deleted key",
            load(&counts.set_default_recheck),
        ),
        (
            "excluded: the two oracles disagree (creation order)",
            load(&counts.oracle_order_dependent),
        ),
        (
            "excluded: RESTRICT decided before the operation",
            load(&counts.restrict_before_state),
        ),
        ("seeds without a valid case", load(&counts.skipped)),
    ];
    println!(
        "PostgreSQL differential summary ({cases} cases asked, {threads} threads, {:.1}s):",
        started.elapsed().as_secs_f64()
    );
    for (what, count) in &summary {
        println!("  {what}: {count}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let compared = load(&counts.compared);
    // Every case asked ran (or had no valid schema), and most were
    // compared: the exclusions are the documented differences only.
    assert_eq!(
        load(&counts.run) + load(&counts.skipped),
        u64::from(cases),
        "every case asked was run"
    );
    assert!(
        compared * 10 >= u64::from(cases) * 8,
        "only {compared} of {cases} cases were compared with PostgreSQL"
    );
}
