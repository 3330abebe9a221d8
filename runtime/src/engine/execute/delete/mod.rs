//! The bottom-up delete executor: a row is deleted only after every row
//! referencing it has been deleted, set to NULL or set to its default.
//!
//! Its whole position is an explicit, serialisable [`DeleteStack`] of
//! [`Frame`]s — a table, the primary keys of the rows to delete once their
//! referencing rows are handled, and where the handling of those stands — so
//! memory is bounded by depth × frame size, whatever the fan-out.
//! [`DeleteStack::run`] consumes a [`Budget`] (rows written, bytes written,
//! rows read) and stops at the first safe point: it never writes past the
//! rows or bytes budget (it deletes part of a frame, or part of a frame's
//! referencing rows, if it must). `sync` runs it with an unlimited budget
//! inside one transaction; the batched engine ([`batched`](super::batched))
//! runs one budget per transaction and persists the stack in the job's row in
//! the same transaction.
//!
//! A frame takes its table's incoming foreign keys in turn, each for all its
//! rows at once ([`edges`] decides how):
//!
//! - CASCADE to a table whose rows need nothing before they go (no foreign
//!   key the delete must follow references them): one set-based statement
//!   deletes the referencing rows ([`leaves`]), up to what the budget
//!   allows; nothing is read into memory but what the end check needs.
//! - SET NULL / SET DEFAULT on rows the delete keeps, hit by no other
//!   action: one set-based statement updates them ([`columns`]).
//! - Otherwise the referencing rows are read, a page at a time ([`rows`]):
//!   CASCADE rows are pushed as a new frame, rows that need a decision
//!   (RESTRICT, NO ACTION, a SET NULL / SET DEFAULT that may meet a row the
//!   delete removes) are decided one by one.
//!
//! Once every foreign key is handled, the frame's rows are deleted
//! ([`remove`]). A frame holds at most the store's window of rows
//! ([`Capabilities::parents_per_statement`], or `batch_rows`, for
//! tables on a cycle of foreign keys), and, once a frame of its table has
//! shown how many rows each of its rows brings, no more than the batch has
//! room for ([`sizing`]), so that a frame's referencing rows and the frame
//! itself are usually deleted in the same transaction: on a store that
//! serialises writers, the end check then skips the foreign keys the batch
//! handled itself, and the next batch starts on a new frame instead of the
//! rest of a cut one.
//!
//! Which referencing rows does the delete remove? In `sync` mode the plan's
//! closure says; in batched mode an upward search ([`Upward`]) does, with the
//! rows on the stack as the rows known to be deleted. Batched mode also
//! applies, when it meets it, a SET NULL / SET DEFAULT that frees a NO ACTION
//! referencing row (two foreign keys sharing a column), so that the NO ACTION
//! parent can go in this batch.
//!
//! Data cycles: a referencing row already on the stack (a self-reference, or
//! a cycle through several tables) is skipped — it is deleted when its own
//! frame completes. Between the deletion of the referenced rows and that
//! frame's completion, a row references a deleted one, so the stack records a
//! barrier: no commit may happen until the frame holding the cycle's first
//! row is done, and rows on a data cycle are deleted in one transaction. Rows
//! of one frame that reference each other make that frame atomic (never
//! deleted in part).
//!
//! [`Upward`]: super::membership::Upward

mod columns;
mod edges;
mod leaves;
mod remove;
mod roots;
mod rows;
mod sizing;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use self::sizing::RowCosts;
use super::changes::Changes;
use super::roots::{RootQuery, RootSet};
use super::usage::Usage;
use crate::engine::context::Ctx;
use crate::model::budget::Budget;
use crate::model::error::Error;
use crate::model::graph::{FkEdge, TableId};
use crate::model::job::JobId;
use crate::model::metadata::Name;
use crate::model::position::ScanPosition;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

pub(crate) use roots::read_chunk;

/// Keys per stored chunk of a job's roots.
pub(crate) const ROOT_CHUNK: usize = 1_000;

/// Rows per frame of a table that is not on a cycle of foreign keys, and
/// parents per set-based statement, where the store does not say
/// ([`Capabilities::parents_per_statement`]).
///
/// [`Capabilities::parents_per_statement`]: crate::store::Capabilities::parents_per_statement
pub(crate) const WINDOW: usize = 64;

/// Whether [`DeleteStack::run`] finished the delete or stopped on its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Progress {
    Done,
    Paused,
    /// A root of a scheduled delete no longer carries the deletion time the
    /// job was scheduled with (restored, or scheduled again): the job stops.
    Cancelled {
        key: Key,
    },
}

/// Rows of one table waiting for their referencing rows to be handled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Frame {
    /// SQL name of the table.
    table: Name,
    /// Primary keys of the rows to delete (at most a frame's size).
    #[serde(with = "crate::model::compact::keys")]
    keys: Vec<Key>,
    /// Position in the table's incoming foreign keys.
    fk: usize,
    /// Position in `keys` of the parent whose children are being scanned.
    key: usize,
    /// Where the scan of that parent's children stands.
    #[serde(with = "crate::model::compact::position")]
    after: Option<ScanPosition>,
    /// Rows of the frame reference each other: delete them together.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    atomic: bool,
    /// How many parents, from `key` on, the current scan covers (one query
    /// for several parents of a single-column foreign key).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    window: usize,
    /// The rows of `keys` with their serialised sizes, loaded on first use
    /// (not persisted). Rows pushed from a child scan hold only the columns
    /// the executor reads (the key, the columns referenced by foreign keys,
    /// the scan's index); the others are NULL.
    #[serde(skip)]
    rows: Option<Vec<(Row, u64)>>,
    /// Whether every foreign key of the frame was handled in the current
    /// transaction (the frame was pushed in it), so that on a store that
    /// serialises writers the end check can skip them (not persisted: a
    /// frame read back from a job is never fresh).
    #[serde(skip)]
    fresh: bool,
    /// The batch's rows written when the frame was pushed, and its rows
    /// then: what [`RowCosts`] learns from once it is deleted, if still
    /// fresh (not persisted).
    #[serde(skip)]
    pushed: (u64, u64),
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// The roots of a delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Roots {
    /// The keys themselves.
    Inline(#[serde(with = "crate::model::compact::keys")] Vec<Key>),
    /// Keys stored beside job `job`, in chunks of at most [`ROOT_CHUNK`]
    /// keys each (written once, so that a batch does not rewrite them).
    /// Root `i` is key `i % ROOT_CHUNK` of chunk `i / ROOT_CHUNK`; `end` is
    /// one past the last position (a short chunk leaves a gap), `count` the
    /// number of keys.
    Stored { job: JobId, end: u64, count: u64 },
    /// The rows of the roots' table that match a condition, found a page at
    /// a time (`delete_where`).
    Query(Box<RootQuery>),
}

/// A scheduled delete's check of its roots: column `column` must still hold
/// `at` (milliseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SoftCheck {
    pub(crate) column: usize,
    pub(crate) at: i64,
}

/// The executor's whole state: the roots still to delete and the stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeleteStack {
    /// SQL name of the roots' table.
    root_table: Name,
    /// The roots, in the order given.
    roots: Roots,
    /// How many roots have been pushed.
    next_root: u64,
    /// Most rows per frame.
    batch_rows: usize,
    frames: Vec<Frame>,
    /// No commit until the stack is at most this deep (a data cycle is being
    /// deleted).
    barrier: Option<usize>,
    /// Batched mode: membership by upward search, eager fixes of NO ACTION
    /// rows freed by another action.
    #[serde(default)]
    batched: bool,
    /// A scheduled delete's deletion time, checked on every root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    soft: Option<SoftCheck>,
    /// (table, key) → depth of the frame holding it, for the tables on a
    /// cycle of foreign keys (only their rows can be met again while on the
    /// stack). Rebuilt after load.
    #[serde(skip)]
    on_stack: HashMap<(TableId, Key), usize>,
    /// The chunk of stored roots last read.
    #[serde(skip)]
    chunk: Option<(u64, Vec<Key>)>,
    /// Every root, for the upward search (loaded when first needed).
    #[serde(skip)]
    root_set: Option<RootSet>,
    /// Tables the delete reaches through CASCADE edges (batched mode).
    #[serde(skip)]
    reachable: Option<Vec<bool>>,
    /// Whether the store serialises writers (set for each run).
    #[serde(skip)]
    serialized: bool,
    /// Rows per frame and parents per statement (set for each run).
    #[serde(skip, default = "window")]
    window: usize,
    /// Rows written per row of each table, for frame sizes (learned anew
    /// after a resume).
    #[serde(skip)]
    row_costs: RowCosts,
}

fn window() -> usize {
    WINDOW
}

/// What one run of the executor works with, besides the stack itself.
pub(crate) struct Run<'r, 'a> {
    pub(crate) ctx: Ctx<'a>,
    pub(crate) tx: &'r mut dyn Transaction,
    pub(crate) changes: &'r mut Changes<'a>,
    pub(crate) budget: &'r Budget,
    pub(crate) usage: &'r mut Usage,
    /// Rows deleted, per table.
    pub(crate) deleted: &'r mut [u64],
    /// Whether the store serialises writers and the run is a batch of a
    /// batched delete: the end check may then skip the foreign keys a
    /// fresh frame handled in this transaction.
    pub(crate) serialized: bool,
    /// Rows per frame and parents per set-based statement: the store's
    /// [`Capabilities::parents_per_statement`](crate::store::Capabilities::parents_per_statement).
    pub(crate) window: usize,
}

impl Run<'_, '_> {
    /// Counts `rows` rows of `table` deleted and `bytes` bytes written.
    fn count_deleted(&mut self, table: TableId, rows: u64, bytes: u64) -> Result<(), Error> {
        self.deleted[table] += rows;
        self.usage.rows_written += rows;
        self.usage.bytes_written += bytes;
        self.changes.add_bytes(bytes);
        self.changes.count(rows)
    }
}

impl DeleteStack {
    /// A stack that deletes the rows of `root_table` with keys `roots`.
    pub(crate) fn new(root_table: Name, roots: Roots, batch_rows: usize) -> Self {
        DeleteStack {
            root_table,
            roots,
            next_root: 0,
            batch_rows: batch_rows.max(1),
            frames: Vec::new(),
            barrier: None,
            batched: false,
            soft: None,
            on_stack: HashMap::new(),
            chunk: None,
            root_set: None,
            reachable: None,
            serialized: false,
            window: WINDOW,
            row_costs: RowCosts::default(),
        }
    }

    /// The stack in batched mode (see the module's documentation).
    pub(crate) fn batched(mut self, soft: Option<SoftCheck>) -> Self {
        self.batched = true;
        self.soft = soft;
        self
    }

    /// A scheduled delete's deletion time check, if any.
    pub(crate) fn soft_check(&self) -> Option<SoftCheck> {
        self.soft
    }

    /// Most rows per frame.
    pub(crate) fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// The byte limit of the next write (`None` when unlimited) and whether
    /// it must take its first row whatever its size (nothing written yet).
    /// While a data cycle is half deleted no commit may happen, so the
    /// budget does not apply.
    fn byte_limit(&self, run: &Run<'_, '_>) -> (Option<u64>, bool) {
        if !self.may_commit() {
            return (None, true);
        }
        let limit = run
            .budget
            .bytes_written
            .map(|_| run.budget.bytes_left(run.usage));
        (limit, run.usage.rows_written == 0)
    }

    /// How many more rows the next write may take: within the rows written
    /// and the rows read budgets (a set-based write reads the rows it
    /// writes), at least one when nothing is written yet — all of them
    /// while a data cycle is half deleted (no commit may happen then).
    fn rows_left(&self, run: &Run<'_, '_>) -> usize {
        if !self.may_commit() {
            return usize::MAX;
        }
        let read_left = run
            .budget
            .rows_read
            .map_or(u64::MAX, |limit| limit.saturating_sub(run.usage.rows_read));
        let left = run.budget.rows_left(run.usage).min(read_left);
        let left = if run.usage.rows_written == 0 {
            left.max(1)
        } else {
            left
        };
        left.try_into().unwrap_or(usize::MAX)
    }

    /// Most rows per frame of `table`: the window, or `batch_rows` for a
    /// table on a cycle of foreign keys (whose frames hold the rows of a
    /// data cycle together).
    fn frame_rows(&self, ctx: Ctx<'_>, table: TableId) -> usize {
        if ctx.graph.tables[table].in_cycle {
            self.batch_rows
        } else {
            self.batch_rows.min(self.window)
        }
    }

    /// Whether the delete's SET NULL / SET DEFAULT actions change keys, so
    /// that it must run in one transaction.
    pub(crate) fn is_single_transaction(&self, ctx: Ctx<'_>) -> Result<bool, Error> {
        let root = Self::resolve(ctx, &self.root_table)?;
        Ok(ctx
            .graph
            .delete_changes_keys(&ctx.graph.cascade_reachable(root)))
    }

    /// SQL name of the roots' table.
    pub(crate) fn root_table(&self) -> &Name {
        &self.root_table
    }

    /// Rows the stack holds in memory: the keys of every frame.
    pub(crate) fn held_rows(&self) -> usize {
        self.frames.iter().map(|f| f.keys.len()).sum()
    }

    fn resolve(ctx: Ctx<'_>, name: &str) -> Result<TableId, Error> {
        ctx.graph.resolve_table(name)
    }

    /// Whether a commit may happen now (no data cycle half deleted).
    pub(crate) fn may_commit(&self) -> bool {
        self.barrier.is_none_or(|depth| self.frames.len() <= depth)
    }

    /// Restarts every frame's scan of its referencing rows from the start,
    /// after rows referencing a frame's rows appeared between batches.
    /// Rescanning is always safe: rows already handled are gone or changed.
    pub(crate) fn rescan(&mut self) {
        for frame in &mut self.frames {
            frame.fk = 0;
            frame.key = 0;
            frame.window = 1;
            frame.after = None;
        }
    }

    /// Pushes a frame of the rows `rows` of `table`, fresh.
    fn push(&mut self, run: &Run<'_, '_>, table: TableId, name: Name, rows: Vec<(Row, u64)>) {
        let ctx = run.ctx;
        let depth = self.frames.len();
        let keys: Vec<Key> = rows.iter().map(|(row, _)| ctx.pk_of(table, row)).collect();
        if ctx.graph.tables[table].in_cycle {
            for key in &keys {
                self.on_stack.insert((table, key.clone()), depth);
            }
        }
        self.frames.push(Frame {
            table: name,
            keys,
            fk: 0,
            key: 0,
            after: None,
            atomic: false,
            window: 1,
            pushed: (run.usage.rows_written, rows.len() as u64),
            rows: Some(rows),
            fresh: true,
        });
    }

    /// Loads the rows of the top frame (after a resume), dropping keys whose
    /// rows no longer exist.
    fn load(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        usage: &mut Usage,
    ) -> Result<(), Error> {
        let depth = self.frames.len() - 1;
        let frame = &mut self.frames[depth];
        if frame.rows.is_some() {
            return Ok(());
        }
        let table = Self::resolve(ctx, &frame.table)?;
        usage.rows_read += frame.keys.len() as u64;
        let mut found: HashMap<Key, Row> = tx
            .get_many(&frame.table, &frame.keys)?
            .into_iter()
            .map(|row| (ctx.pk_of(table, &row), row))
            .collect();
        let mut rows = Vec::with_capacity(found.len());
        let mut keys = Vec::with_capacity(found.len());
        for key in &frame.keys {
            if let Some(row) = found.remove(key) {
                let size = crate::store::scan::row_size(&row);
                rows.push((row, size));
                keys.push(key.clone());
            }
        }
        if keys.len() != frame.keys.len() {
            frame.key = 0;
            frame.window = 1;
            frame.after = None;
        }
        frame.keys = keys;
        frame.rows = Some(rows);
        if ctx.graph.tables[table].in_cycle {
            for key in &frame.keys {
                self.on_stack.insert((table, key.clone()), depth);
            }
        }
        Ok(())
    }

    /// Rebuilds what is not persisted: the on-stack index and the reachable
    /// tables; no frame is fresh in a new transaction.
    fn prepare(&mut self, ctx: Ctx<'_>, serialized: bool) -> Result<TableId, Error> {
        let root = Self::resolve(ctx, &self.root_table)?;
        if self.on_stack.is_empty() && !self.frames.is_empty() {
            for depth in 0..self.frames.len() {
                let table = Self::resolve(ctx, &self.frames[depth].table)?;
                if !ctx.graph.tables[table].in_cycle {
                    continue;
                }
                for key in &self.frames[depth].keys {
                    self.on_stack.insert((table, key.clone()), depth);
                }
            }
        }
        if self.reachable.is_none() {
            self.reachable = Some(ctx.graph.cascade_reachable(root));
        }
        for frame in &mut self.frames {
            frame.fresh = false;
        }
        self.serialized = serialized;
        Ok(root)
    }

    /// For a scheduled delete: the first root on the stack whose deletion
    /// time no longer matches (its row was restored or scheduled again).
    pub(crate) fn check_roots(&mut self, tx: &mut dyn Transaction) -> Result<Option<Key>, Error> {
        let Some(soft) = self.soft else {
            return Ok(None);
        };
        let Some(frame) = self.frames.first() else {
            return Ok(None);
        };
        if frame.table != self.root_table {
            return Ok(None);
        }
        for key in &frame.keys {
            if let Some(row) = tx.get(&self.root_table, key)? {
                if row.get(soft.column) != Some(&Value::Integer(soft.at)) {
                    return Ok(Some(key.clone()));
                }
            }
        }
        Ok(None)
    }

    /// Runs the delete until it is done or the budget is spent (and no data
    /// cycle is half deleted). Deleted rows are counted in `run.deleted` per
    /// table; updates and the end check's records go to `run.changes`.
    pub(crate) fn run(&mut self, run: &mut Run<'_, '_>) -> Result<Progress, Error> {
        let root = self.prepare(run.ctx, run.serialized && self.batched)?;
        self.window = run.window.max(1);
        let progress = self.advance(run, root)?;
        if progress == Progress::Paused {
            self.record_cuts(run.ctx)?;
        }
        Ok(progress)
    }

    /// Runs until the delete is done, the budget is spent, or a scheduled
    /// delete's root no longer matches.
    fn advance(&mut self, run: &mut Run<'_, '_>, root: TableId) -> Result<Progress, Error> {
        loop {
            if self.frames.is_empty() && self.roots_read() {
                self.barrier = None;
                return Ok(Progress::Done);
            }
            // At least one row is written per batch, whatever the budget.
            if run.usage.rows_written > 0 && run.budget.exhausted(run.usage) && self.may_commit() {
                self.barrier = None;
                return Ok(Progress::Paused);
            }
            if self.frames.is_empty() {
                // Not one more root fits whole: the next batch takes them.
                if self.frame_size(run, root) == 0 {
                    return Ok(Progress::Paused);
                }
                if let Some(key) = self.push_roots(run, root)? {
                    return Ok(Progress::Cancelled { key });
                }
                continue;
            }
            self.load(run.ctx, run.tx, run.usage)?;
            if self.step(run)? {
                // The budget has no room for the next write.
                return Ok(Progress::Paused);
            }
        }
    }

    /// One step on the top frame: handle its current foreign key (a page of
    /// referencing rows, or one set-based statement), or delete its rows
    /// once every foreign key is handled. Returns true when the budget has
    /// no room for what comes next.
    fn step(&mut self, run: &mut Run<'_, '_>) -> Result<bool, Error> {
        let depth = self.frames.len() - 1;
        let table = Self::resolve(run.ctx, &self.frames[depth].table)?;
        let incoming = &run.ctx.graph.tables[table].incoming;
        let Some(&f) = incoming.get(self.frames[depth].fk) else {
            return self.delete_top(run, table);
        };
        match self.edge_plan(run, f) {
            edges::EdgePlan::Skip => {
                self.next_fk(depth);
                Ok(false)
            }
            edges::EdgePlan::DeleteLeaves => self.delete_leaves(run, f),
            edges::EdgePlan::SetColumns => self.set_columns(run, table, f),
            edges::EdgePlan::RowByRow => self.scan_rows(run, table, f),
        }
    }

    /// The parents of the top frame's current window for a set-based
    /// statement through `fk`: up to a window of rows from `key` on, as
    /// prefixes of `fk`'s index (rows with a NULL in the referenced columns
    /// are left out: they are referenced by nothing).
    fn window_prefixes(&mut self, ctx: Ctx<'_>, fk: &FkEdge) -> Vec<Key> {
        let depth = self.frames.len() - 1;
        let frame = &mut self.frames[depth];
        let rows = frame.rows.as_deref().unwrap_or_default();
        let window = self.window.min(rows.len().saturating_sub(frame.key));
        frame.window = window.max(1);
        rows[frame.key..frame.key + window]
            .iter()
            .map(|(row, _)| fk.parent_values(row))
            .filter(|values| !crate::model::graph::has_null(values))
            .map(|values| ctx.index_prefix(fk, &values))
            .collect()
    }

    /// Past the current window of parents.
    fn next_key(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.key += frame.window.max(1);
        frame.window = 1;
        frame.after = None;
    }

    fn next_fk(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.fk += 1;
        frame.key = 0;
        frame.window = 1;
        frame.after = None;
    }
}
