//! One shape, end to end: fill the databases, run SQLite's own action, the
//! ceiling loop and cascadia in that order, and read the end states.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cascadia::{Database, DeleteOptions, Progress, SqliteOptions, SqliteStore};
use rusqlite::Connection;

use super::Failure;
use super::ceiling::JOB_TABLE;
use super::cli::Config;
use super::files::{self, Workspace};
use super::measure::measure;
use super::shapes::{Shape, ShapeName};
use super::summary::{CascadiaRun, CeilingRun, NativeRun, Sides, Summary};
use super::verify;

/// Runs the shape `name` and fails, naming every difference, unless the
/// three runs agree (see [`Summary::check`]).
pub fn run_shape(name: ShapeName, config: &Config) -> Result<Summary, Failure> {
    let summary = measure_shape(name, config)?;
    summary.check()?;
    Ok(summary)
}

/// Runs the shape `name` three ways and reports what each did, unchecked.
pub fn measure_shape(name: ShapeName, config: &Config) -> Result<Summary, Failure> {
    let shape = name.build(config.scale);
    if config.batch < shape.min_batch() {
        return Err(format!(
            "--batch {} is too small for {}: a parent of leaves and its leaves take {} rows",
            config.batch,
            name.as_str(),
            shape.min_batch()
        )
        .into());
    }
    let workspace = Workspace::new(config.dir.as_deref())?;
    let paths = prepare(name.as_str(), &*shape, &workspace)?;
    let native = run_native(&*shape, &paths.native)?;
    let ceiling = run_ceiling(&*shape, &paths.ceiling, config.batch)?;
    let cascadia = run_cascadia(&*shape, &paths.cascadia, config)?;
    let end_states =
        paths.try_map(|path| verify::end_state(&Connection::open(path)?, shape.schema()))?;
    let orphans = paths.try_map(|path| verify::orphans(&Connection::open(path)?))?;
    Ok(Summary {
        shape: name.as_str(),
        batch: config.batch,
        expected: shape.expected(),
        one_transaction: shape.one_transaction(),
        native,
        ceiling,
        cascadia,
        end_states,
        orphans,
    })
}

/// Creates and fills the databases: SQLite's with actions, cascadia's
/// without, and the ceiling's as a copy of cascadia's (plus its job table).
fn prepare(
    shape_name: &str,
    shape: &dyn Shape,
    workspace: &Workspace,
) -> Result<Sides<PathBuf>, Failure> {
    let paths = Sides {
        native: workspace.fresh(shape_name, "native")?,
        ceiling: workspace.fresh(shape_name, "ceiling")?,
        cascadia: workspace.fresh(shape_name, "cascadia")?,
    };
    for (path, native_actions) in [(&paths.native, true), (&paths.cascadia, false)] {
        files::create(path, shape.schema(), native_actions)?;
        fill(path, shape)?;
    }
    files::copy(&paths.cascadia, &paths.ceiling)?;
    let ceiling = Connection::open(&paths.ceiling)?;
    ceiling.execute_batch(JOB_TABLE)?;
    files::checkpoint(&ceiling)?;
    Ok(paths)
}

/// Inserts the shape's rows into the (empty) database at `path`.
fn fill(path: &Path, shape: &dyn Shape) -> Result<(), Failure> {
    let mut conn = Connection::open(path)?;
    let tx = conn.transaction()?;
    shape.fill(&tx)?;
    tx.commit()?;
    files::checkpoint(&conn)?;
    Ok(())
}

/// SQLite's own action: one statement.
fn run_native(shape: &dyn Shape, path: &Path) -> Result<NativeRun, Failure> {
    let conn = files::connect(path)?;
    let counts = |conn: &Connection| -> rusqlite::Result<Vec<u64>> {
        shape
            .schema()
            .tables()
            .map(|table| verify::count(conn, &table.name))
            .collect()
    };
    let before = counts(&conn)?;
    let changes = conn.total_changes();
    files::warm(path)?;
    let (result, measured) = measure(|| shape.native(&conn));
    result?;
    let deleted = shape
        .schema()
        .tables()
        .zip(before.iter().zip(counts(&conn)?))
        .map(|(table, (before, after))| (table.name.to_string(), before - after))
        .collect();
    Ok(NativeRun {
        measured,
        rows: conn.total_changes() - changes,
        deleted,
    })
}

/// The hand-written set-based loop, on the copy of cascadia's database.
fn run_ceiling(shape: &dyn Shape, path: &Path, batch: u64) -> Result<CeilingRun, Failure> {
    let mut conn = files::connect(path)?;
    files::warm(path)?;
    let (stats, measured) = measure(|| shape.ceiling(&mut conn, batch));
    Ok(CeilingRun {
        measured,
        stats: stats?,
    })
}

/// cascadia: a batched delete of `batch` rows per transaction, or the
/// shape's one transaction.
fn run_cascadia(shape: &dyn Shape, path: &Path, config: &Config) -> Result<CascadiaRun, Failure> {
    let options = SqliteOptions::default().native_actions(false);
    let db = Database::new(SqliteStore::open(path, shape.schema().clone(), options)?);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let seen = observed.clone();
    let options = DeleteOptions::default()
        .batch_rows(config.batch as usize)
        .budget(config.budget())
        .observer(move |progress: &Progress| {
            seen.lock().expect("observer").see(progress);
        });
    files::warm(path)?;
    let (outcome, measured) = measure(|| shape.cascadia(&db, &options));
    let outcome = outcome?;
    let observed = *observed.lock().expect("observer");
    let max_tx_rows = if shape.one_transaction() {
        outcome.rows_written()
    } else {
        observed.max_tx_rows
    };
    Ok(CascadiaRun {
        measured,
        outcome,
        max_tx_rows,
        batches: observed.batches,
        max_held_rows: observed.max_held_rows,
    })
}

/// What cascadia's observer saw.
#[derive(Debug, Clone, Copy, Default)]
struct Observed {
    max_tx_rows: u64,
    batches: u64,
    max_held_rows: usize,
}

impl Observed {
    fn see(&mut self, progress: &Progress) {
        self.max_tx_rows = self.max_tx_rows.max(progress.batch_rows_written);
        self.batches = self.batches.max(progress.batches);
        self.max_held_rows = self.max_held_rows.max(progress.held_rows);
    }
}
