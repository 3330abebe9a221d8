//! The executor of referential actions: deletes (batched, sync, soft,
//! scheduled) and key updates, with SQL's and SQLite's semantics.
//!
//! The semantics are documented, with their sources, in
//! [`crate::semantics`].
//!
//! # Shape
//!
//! One pipeline, plan → execute → store:
//!
//! - `sync`: the plan ([`plan`](crate::plan)) walks the rows the delete
//!   removes, counting them (failing fast past `max_rows`) and deciding
//!   RESTRICT, NO ACTION and SET DEFAULT; then the bottom-up executor
//!   ([`delete`]) deletes, from an explicit stack whose memory is bounded by
//!   depth × batch size, with an unlimited budget in one transaction.
//! - `batched`: the check pass ([`check`]) decides the same refusals
//!   read-only, in bounded memory (an upward search, [`membership`], instead
//!   of the plan's set of rows), one read transaction per read budget; then
//!   the same executor runs one budget per transaction, its stack persisted
//!   with each batch ([`batched`], [`crate::jobs`]).
//! - SET NULL / SET DEFAULT updates and key updates go through [`changes`],
//!   which also runs the end check of each transaction; with `max_rows`, a
//!   key update is counted first ([`plan`](crate::plan)).

pub(crate) mod batched;
mod budget;
pub(crate) mod changes;
pub(crate) mod check;
pub(crate) mod delete;
pub(crate) mod membership;
pub(crate) mod soft;

pub use budget::Budget;
pub(crate) use budget::Usage;

use std::collections::BTreeMap;

use std::time::Duration;

use crate::error::{Error, Operation};
use crate::graph::TableId;
use crate::jobs::JobId;
use crate::lookup::Ctx;
use crate::metadata::Name;
use crate::plan::{count_update, plan_delete};
use crate::progress::Observer;
use crate::store::Transaction;
use crate::value::{Key, Row, Value};

use changes::{Cause, Changes, Patch};
use delete::{DeleteStack, Progress, Roots};

/// Whether the operation deletes a row: the closure of a plan, or nothing.
pub(crate) trait Membership {
    /// Whether row `key` of `table` is deleted by the operation.
    fn contains(&self, table: TableId, key: &[Value]) -> bool;
    /// Whether any row of `table` may be deleted by the operation.
    fn may_contain(&self, table: TableId) -> bool;
}

/// The membership of an operation that deletes nothing (an update).
pub(crate) struct Nothing;

impl Membership for Nothing {
    fn contains(&self, _: TableId, _: &[Value]) -> bool {
        false
    }

    fn may_contain(&self, _: TableId) -> bool {
        false
    }
}

/// How a delete runs. `#[non_exhaustive]`: match with a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeleteMode {
    /// The default. A read-only check pass, itself batched, refuses the
    /// delete before anything is written if a RESTRICT or NO ACTION row, or
    /// a missing SET DEFAULT parent, stands in the way. Then a bottom-up
    /// pass deletes leaves before their parents, one transaction per
    /// [`Budget`], the job's position persisted in the same transaction: no
    /// committed state holds an orphan, and a crash loses nothing (a
    /// [`Worker`](crate::Worker) resumes the job). See
    /// [`semantics`](crate::semantics#modes) for the exceptions (key-changing
    /// actions run in one transaction).
    #[default]
    Batched,
    /// One transaction: counts first and fails fast, changing nothing, past
    /// `max_rows`.
    Sync,
    /// Sets the `#[soft_delete]` column of each root to now (milliseconds
    /// since the Unix epoch; a row already soft-deleted keeps its time).
    /// Nothing else changes: no action runs, nothing is deleted.
    Soft,
    /// Soft now, and a job due after the delay that deletes the roots in
    /// batched mode — only if their deletion time still matches: restoring
    /// a root ([`Database::restore_rows`](crate::Database::restore_rows)),
    /// or scheduling it again, cancels the job. The check pass runs when
    /// the job is due.
    Scheduled(Duration),
}

/// Options of a delete.
#[derive(Clone)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// How the delete runs (default [`DeleteMode::Batched`]).
    pub mode: DeleteMode,
    /// Most rows the delete may write (deleted plus updated rows). Counted
    /// before anything is written (the plan in `sync` mode, the check pass
    /// in batched mode): past it the delete fails with
    /// [`Error::TooManyRows`] and changes nothing. Default: unlimited.
    ///
    /// It also bounds memory: to count each row once, the count keeps the
    /// keys of the rows counted.
    pub max_rows: Option<u64>,
    /// Most rows per frame of the bottom-up executor (default 1,000): memory
    /// is bounded by depth × `batch_rows`.
    pub batch_rows: usize,
    /// The budget of each transaction in batched mode (default: the
    /// schema's, [`Schema::budget`](crate::Schema::budget)).
    pub budget: Option<Budget>,
    /// Called after each committed batch and when the job ends.
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for DeleteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteOptions")
            .field("mode", &self.mode)
            .field("max_rows", &self.max_rows)
            .field("batch_rows", &self.batch_rows)
            .field("budget", &self.budget)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            mode: DeleteMode::Batched,
            max_rows: None,
            batch_rows: 1_000,
            budget: None,
            observer: None,
        }
    }
}

impl DeleteOptions {
    /// Sets [`mode`](Self::mode).
    pub fn mode(mut self, mode: DeleteMode) -> Self {
        self.mode = mode;
        self
    }

    /// [`DeleteMode::Sync`].
    pub fn sync(self) -> Self {
        self.mode(DeleteMode::Sync)
    }

    /// [`DeleteMode::Soft`].
    pub fn soft(self) -> Self {
        self.mode(DeleteMode::Soft)
    }

    /// [`DeleteMode::Scheduled`] after `delay`.
    pub fn scheduled(self, delay: Duration) -> Self {
        self.mode(DeleteMode::Scheduled(delay))
    }

    /// Sets [`max_rows`](Self::max_rows).
    pub fn max_rows(mut self, max_rows: u64) -> Self {
        self.max_rows = Some(max_rows);
        self
    }

    /// Sets [`batch_rows`](Self::batch_rows) (at least 1).
    pub fn batch_rows(mut self, batch_rows: usize) -> Self {
        self.batch_rows = batch_rows.max(1);
        self
    }

    /// Sets [`budget`](Self::budget).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Sets [`observer`](Self::observer): a closure called with each
    /// [`Progress`](crate::Progress), e.g. `|p| bar.set_position(p.rows_deleted())`.
    pub fn observer(mut self, observer: impl FnMut(&crate::Progress) + Send + 'static) -> Self {
        self.observer = Some(Observer::new(observer));
        self
    }

    /// Sets [`observer`](Self::observer) to an [`Observer`] shared with
    /// other deletes or workers.
    pub fn shared_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The budget in force: the options', else the schema's.
    pub(crate) fn effective_budget(&self, schema: &crate::Schema) -> Budget {
        self.budget.unwrap_or_else(|| schema.budget())
    }
}

/// Options of an update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateOptions {
    /// Most rows the update may write (the updated rows and the rows its ON
    /// UPDATE actions write). Counted before anything is written (a
    /// read-only walk of the actions): past it the update fails with
    /// [`Error::TooManyRows`] and changes nothing. Default: unlimited.
    ///
    /// It also bounds memory: to count each row once, the count keeps the
    /// keys of the rows counted.
    pub max_rows: Option<u64>,
}

impl UpdateOptions {
    /// Sets [`max_rows`](Self::max_rows).
    pub fn max_rows(mut self, max_rows: u64) -> Self {
        self.max_rows = Some(max_rows);
        self
    }
}

/// What an operation did: rows deleted and rows updated, per table (SQL
/// name). Tables with no row touched are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// Rows deleted, per table.
    pub deleted: BTreeMap<Name, u64>,
    /// Rows updated (each counted once), per table. A soft or scheduled
    /// delete counts the roots it soft-deleted here.
    pub updated: BTreeMap<Name, u64>,
    /// The job that ran (batched deletes that took more than one batch) or
    /// that will run (scheduled deletes).
    pub job: Option<JobId>,
}

impl Outcome {
    /// Rows deleted from `table`.
    pub fn rows_deleted(&self, table: &str) -> u64 {
        self.deleted.get(table).copied().unwrap_or(0)
    }

    /// Rows of `table` updated.
    pub fn rows_updated(&self, table: &str) -> u64 {
        self.updated.get(table).copied().unwrap_or(0)
    }

    /// Rows written in all: deleted plus updated.
    pub fn rows_written(&self) -> u64 {
        self.deleted.values().chain(self.updated.values()).sum()
    }

    fn from_counts(ctx: Ctx<'_>, deleted: &[u64], updated: &[u64]) -> Self {
        let map = |counts: &[u64]| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(table, n)| (ctx.meta(table).name.clone(), *n))
                .collect()
        };
        Outcome {
            deleted: map(deleted),
            updated: map(updated),
            job: None,
        }
    }
}

/// Deletes the rows of `table` with primary keys `keys`, and runs every
/// action, in `tx`. The caller rolls back on error.
pub(crate) fn delete_sync(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    let _span =
        tracing::debug_span!("delete", table = %ctx.meta(table).name, roots = keys.len()).entered();
    for key in keys {
        ctx.check_key(table, key)?;
    }
    let plan = match plan_delete(ctx, tx, table, keys, options.max_rows) {
        Ok(plan) => plan,
        Err(error) => {
            let roots = keys.iter().cloned().collect();
            return Err(membership::with_cascade_path(ctx, tx, table, &roots, error));
        }
    };
    let name = ctx.meta(table).name.clone();
    let root = (
        Operation::Delete,
        name.clone(),
        keys.first().cloned().unwrap_or_default(),
    );
    let mut changes = Changes::new(ctx, &plan.closure, options.max_rows, root);
    let mut stack = DeleteStack::new(name, Roots::Inline(keys.to_vec()), options.batch_rows);
    let mut deleted = vec![0u64; ctx.graph.tables.len()];
    let mut usage = Usage::default();
    let progress = stack.run(
        ctx,
        tx,
        &mut changes,
        &Budget::UNLIMITED,
        &mut usage,
        &mut deleted,
    )?;
    debug_assert_eq!(progress, Progress::Done);
    changes.finish(tx)?;
    tracing::debug!(
        table = %ctx.meta(table).name,
        roots = keys.len(),
        planned_deletes = plan.deletes.iter().sum::<u64>(),
        planned_updates = plan.updates,
        rows_written = changes.written,
        "sync delete"
    );
    Ok(Outcome::from_counts(ctx, &deleted, &changes.updated))
}

/// Replaces rows of `table` (by current primary key) with new rows, and runs
/// every ON UPDATE action, in `tx`. The caller rolls back on error.
pub(crate) fn update_sync(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    rows: Vec<(Key, Row)>,
    options: &UpdateOptions,
) -> Result<Outcome, Error> {
    let name = ctx.meta(table).name.clone();
    let _span = tracing::debug_span!("update", table = %name, rows = rows.len()).entered();
    let mut normalized = Vec::with_capacity(rows.len());
    for (key, row) in rows {
        ctx.check_key(table, &key)?;
        normalized.push((key, ctx.normalize(table, row)?));
    }
    let root = (
        Operation::Update,
        name.clone(),
        normalized
            .first()
            .map(|(k, _)| k.clone())
            .unwrap_or_default(),
    );
    if let Some(limit) = options.max_rows {
        count_update(ctx, tx, table, &normalized, limit)?;
    }
    let mut changes = Changes::new(ctx, &Nothing, options.max_rows, root);
    for (key, row) in normalized {
        if tx.get(&name, &key)?.is_none() {
            return Err(Error::NotFound {
                table: name.clone(),
                key,
            });
        }
        changes.apply(
            tx,
            Patch {
                table,
                key,
                set: row.into_iter().enumerate().collect(),
                cause: Cause::Root,
            },
        )?;
    }
    changes.finish(tx)?;
    tracing::debug!(rows_written = changes.written, "sync update");
    let deleted = vec![0u64; ctx.graph.tables.len()];
    Ok(Outcome::from_counts(ctx, &deleted, &changes.updated))
}
