//! The executor of referential actions: deletes and key updates in one
//! transaction (`sync` mode), with SQL's and SQLite's semantics.
//!
//! The semantics are documented, with their sources, in
//! [`crate::semantics`].
//!
//! # Shape
//!
//! A delete is planned first ([`plan`](crate::plan)): a read-only walk of the
//! rows it deletes that counts them (failing fast past `max_rows`, before
//! anything is written) and decides RESTRICT, NO ACTION and SET DEFAULT.
//! Then the bottom-up executor ([`delete`]) deletes, from an explicit stack
//! whose memory is bounded by depth × batch size; SET NULL / SET DEFAULT
//! updates and key updates go through [`changes`], which also runs the end
//! check. `sync` is that executor with an unlimited budget in one
//! transaction; the batched engine runs the same executor one budget per
//! transaction.

pub(crate) mod changes;
pub(crate) mod delete;

use std::collections::BTreeMap;

use crate::error::{Error, Operation};
use crate::graph::TableId;
use crate::lookup::Ctx;
use crate::metadata::Name;
use crate::plan::plan_delete;
use crate::store::Transaction;
use crate::value::{Key, Row, Value};

use changes::{Cause, Changes, Patch};
use delete::{Budget, DeleteStack, Progress, Usage};

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

/// Options of a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// Most rows the delete may write (deleted plus updated rows). Counted
    /// before anything is written: past it the delete fails with
    /// [`Error::TooManyRows`] and changes nothing. Default: unlimited.
    ///
    /// It also bounds the plan's memory: to decide NO ACTION, SET NULL and
    /// SET DEFAULT, the plan keeps the keys of the rows the delete removes
    /// (in the tables where an edge needs them).
    pub max_rows: Option<u64>,
    /// Most rows per frame of the bottom-up executor (default 1,000): memory
    /// is bounded by depth × `batch_rows`.
    pub batch_rows: usize,
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            max_rows: None,
            batch_rows: 1_000,
        }
    }
}

impl DeleteOptions {
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
}

/// Options of an update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateOptions {
    /// Most rows the update may write (the updated rows and the rows its ON
    /// UPDATE actions write). Past it the update fails with
    /// [`Error::TooManyRows`] and is rolled back. Default: unlimited.
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
    /// Rows updated (each counted once), per table.
    pub updated: BTreeMap<Name, u64>,
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
    let plan = plan_delete(ctx, tx, table, keys, options.max_rows)?;
    let name = ctx.meta(table).name.clone();
    let root = (
        Operation::Delete,
        name.clone(),
        keys.first().cloned().unwrap_or_default(),
    );
    let mut changes = Changes::new(ctx, &plan.closure, options.max_rows, root);
    let mut stack = DeleteStack::new(name, keys.to_vec(), options.batch_rows);
    let mut deleted = vec![0u64; ctx.graph.tables.len()];
    let mut usage = Usage::default();
    let progress = stack.run(
        ctx,
        tx,
        &mut changes,
        &Budget::default(),
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
