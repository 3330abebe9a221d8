//! Adopting an existing database: a code-graph store whose foreign keys
//! were declared without actions, so deletes behind their back left
//! orphans.
//!
//! ```sh
//! cargo run --example code_graph                 # in a temporary folder
//! cargo run --example code_graph -- graph.db     # or at a path (which must not exist)
//! ```
//!
//! 1. `build.rs` makes the SQLite file from SQL with rusqlite:
//!    `symbols(fqn TEXT PRIMARY KEY, ...)` and six tables referencing
//!    `symbols(fqn)` (edges, entry points, summaries, references, tags,
//!    annotations), 3,000 symbols and about 10,000 edges; 31 symbols are
//!    then deleted with `PRAGMA foreign_keys = OFF`.
//! 2. The file is opened with `schema.rs`: the structs `cascadia generate`
//!    wrote for it, with every foreign key then given `on_delete = cascade,
//!    on_update = cascade`, found by their columns whatever the file
//!    calls them.
//! 3. `Database::check_integrity` counts the orphans per foreign key (the
//!    counts `cascadia inspect` reports), and the orphan rows are deleted
//!    with cascadia's batched delete, as `cascadia orphans DB --fix delete`
//!    does.
//! 4. The hub symbol is deleted: its ~1,500 edges and its other rows go in
//!    batches of 250 rows, printed by the progress observer.
//! 5. A symbol is renamed with `update_key` (a TEXT key update): `ON UPDATE
//!    CASCADE` rewrites its edges, and the rows whose own primary key is
//!    the symbol's name.
//!
//! Every figure is checked against what the builder put in the file; a
//! mismatch ends the example with an error. `tests/examples.rs` runs it,
//! and `cli/tests/code_graph.rs` runs the same steps through the
//! `cascadia` command and against SQLite's own cascades.

mod build;
mod schema;

use std::error::Error;
use std::path::{Path, PathBuf};

use cascadia::store::JournalMode;
use cascadia::{
    Budget, Database, DeleteOptions, Filter, FilterOp, FullScan, IntegrityOptions, Key,
    SqliteOptions, SqliteStore,
};

use schema::{Edges, Symbols};

/// Rows written per transaction of every delete.
const BATCH_ROWS: u64 = 250;

/// Orphans deleted per round of the clean-up (each round reads every table
/// once, keeping this many orphans' keys per foreign key).
const ORPHANS_PER_ROUND: usize = 1_000;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let temp;
    let path = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            temp = TempDir::new()?;
            temp.0.join("code_graph.db")
        }
    };
    if path.exists() {
        return Err(format!("`{}` exists; give a new path", path.display()).into());
    }
    build::build(&path, build::Variant::Adopted)?;
    println!("== built {}", path.display());
    print_counts(&path)?;

    let db = open(&path)?;

    println!("\n== orphans per foreign key (Database::check_integrity)");
    let report = db.check_integrity(&IntegrityOptions::default().samples(0))?;
    let expected = build::expected_orphans();
    for found in &report.foreign_keys {
        let name = &found.foreign_key;
        println!("  {:<28} {:>5}", name.to_string(), found.orphans);
        let position = build::FOREIGN_KEYS
            .iter()
            .position(|(table, column)| name.table == *table && name.columns[0] == *column)
            .ok_or_else(|| format!("unexpected foreign key {name}"))?;
        check(
            found.orphans,
            expected[position],
            &format!("orphans of {name}"),
        )?;
    }
    println!("  in all: {} orphan(s)", report.orphans());

    println!(
        "\n== clean-up: the orphan rows deleted in batches (as `cascadia orphans DB --fix delete`)"
    );
    let deleted = delete_orphans(&db)?;
    check(
        deleted,
        build::expected_orphan_rows(),
        "orphan rows deleted",
    )?;
    let left = db.check_integrity(&IntegrityOptions::default())?.orphans();
    println!("  orphans left: {left}");
    check(left, 0, "orphans left after the clean-up")?;

    let hub = build::fqn(build::HUB);
    println!(
        "\n== delete symbol {hub} (ON DELETE CASCADE, at most {BATCH_ROWS} rows per transaction)"
    );
    let options = DeleteOptions::default()
        .budget(Budget::DEFAULT.rows_written(BATCH_ROWS))
        .observer(|progress| {
            let tables: Vec<String> = progress
                .outcome
                .deleted
                .iter()
                .map(|(table, rows)| format!("{table} {rows}"))
                .collect();
            println!(
                "  batch {:>2}: {:>3} rows written; deleted so far: {}",
                progress.batches,
                progress.batch_rows_written,
                tables.join(", ")
            );
        });
    let outcome = db.delete_with::<Symbols>(std::slice::from_ref(&hub), &options)?;
    println!(
        "  deleted: {} symbol, {} edges, {} summary, {} entry point, {} references, {} tags, {} annotation",
        outcome.deleted::<Symbols>(),
        outcome.deleted::<Edges>(),
        outcome.deleted::<schema::Summaries>(),
        outcome.deleted::<schema::EntryPoints>(),
        outcome.deleted::<schema::References>(),
        outcome.deleted::<schema::Tags>(),
        outcome.deleted::<schema::Annotations>(),
    );
    check(
        outcome.deleted::<Edges>(),
        build::edges_of(build::HUB),
        "edges of the hub deleted",
    )?;
    check(edges_naming(&db, &hub)?, 0, "edges naming the hub")?;

    let old = build::fqn(build::RENAMED);
    let new = build::NEW_NAME;
    println!("\n== rename {old} → {new} (update_key, ON UPDATE CASCADE)");
    let before = edges_naming(&db, &old)?;
    let symbol = db
        .get::<Symbols>(&old)?
        .ok_or_else(|| format!("symbol {old} is missing"))?;
    let outcome = db.update_key::<Symbols>(
        &old,
        &Symbols {
            fqn: new.to_owned(),
            ..symbol
        },
    )?;
    let updated: Vec<String> = outcome
        .updated
        .iter()
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect();
    println!("  rows rewritten: {}", updated.join(", "));
    let (after_old, after_new) = (edges_naming(&db, &old)?, edges_naming(&db, new)?);
    println!(
        "  edges naming the old name: {before} before, {after_old} after; naming the new one: {after_new}"
    );
    check(outcome.updated::<Edges>(), before, "edges rewritten")?;
    check(after_old, 0, "edges still naming the old name")?;
    check(after_new, before, "edges naming the new name")?;

    let report = db.check_integrity(&IntegrityOptions::default())?;
    println!(
        "\n== integrity: {} orphans in {} foreign keys",
        report.orphans(),
        report.foreign_keys.len()
    );
    check(report.orphans(), 0, "orphans at the end")?;
    drop(db);
    print_counts(&path)?;
    Ok(())
}

/// The file under cascadia with the generated (and edited) structs. SQLite
/// keeps enforcing the file's own foreign keys (declared without actions,
/// so it runs none): it audits every commit.
fn open(path: &Path) -> Result<Database> {
    let store = SqliteStore::open(
        path,
        schema::SCHEMA.clone(),
        SqliteOptions::default()
            .create_tables(false)
            .journal_mode(JournalMode::Unchanged),
    )?;
    Ok(Database::new(store))
}

/// Deletes every orphan row with cascadia's batched delete, a round at a
/// time: the keys of the first [`ORPHANS_PER_ROUND`] orphans of each
/// foreign key, deleted per table (an edge orphaned at both ends once).
/// Returns the rows deleted.
fn delete_orphans(db: &Database) -> Result<u64> {
    let options = DeleteOptions::default().budget(Budget::DEFAULT.rows_written(BATCH_ROWS));
    let mut total = 0;
    loop {
        let report = db.check_integrity(&IntegrityOptions::default().samples(ORPHANS_PER_ROUND))?;
        if report.is_clean() {
            return Ok(total);
        }
        let mut per_table: Vec<(String, Vec<Key>)> = Vec::new();
        for found in report.foreign_keys.iter().filter(|f| f.orphans > 0) {
            let table = found.foreign_key.table.to_string();
            let at = match per_table.iter().position(|(t, _)| *t == table) {
                Some(at) => at,
                None => {
                    per_table.push((table, Vec::new()));
                    per_table.len() - 1
                }
            };
            for key in &found.samples {
                if !per_table[at].1.contains(key) {
                    per_table[at].1.push(key.clone());
                }
            }
        }
        for (table, keys) in &per_table {
            let batches = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let seen = batches.clone();
            let options = options.clone().observer(move |progress| {
                seen.store(progress.batches, std::sync::atomic::Ordering::Relaxed);
            });
            let outcome = db.delete_rows(table, keys, &options)?;
            let rows = outcome.rows_deleted(table);
            println!(
                "  {table:<14} {rows:>4} row(s) deleted in {} transaction(s)",
                batches.load(std::sync::atomic::Ordering::Relaxed).max(1)
            );
            total += outcome.rows_written();
        }
    }
}

/// Edges from or to `fqn`, found through their indexes.
fn edges_naming(db: &Database, fqn: &str) -> Result<u64> {
    let mut total = 0;
    for column in ["from_fqn", "to_fqn"] {
        let filter = [Filter::new(column, FilterOp::Eq, fqn)];
        total += db.query::<Edges>(&filter, FullScan::Refuse)?.len() as u64;
    }
    Ok(total)
}

/// Rows per table, on one line.
fn print_counts(path: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    let mut counts = Vec::new();
    for table in build::TABLES {
        let rows: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        counts.push(format!("{table} {rows}"));
    }
    println!("  rows: {}", counts.join(", "));
    Ok(())
}

/// Fails the example when a figure is not the expected one.
fn check(found: u64, expected: u64, what: &str) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{what}: found {found}, expected {expected}").into())
    }
}

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let dir = std::env::temp_dir().join(format!(
            "cascadia-code-graph-{}-{}",
            std::process::id(),
            stamp.as_nanos()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
