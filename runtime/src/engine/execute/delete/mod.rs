//! The bottom-up delete executor: a row is deleted only after every row
//! referencing it has been deleted, set to NULL or set to its default.
//!
//! Its whole position is an explicit, serialisable [`DeleteStack`] of
//! [`Frame`]s — a table, at most `batch_rows` primary keys of rows to delete
//! once their referencing rows are handled, and where the scan of their
//! referencing rows stands — so memory is bounded by depth × batch size,
//! whatever the fan-out. [`DeleteStack::run`] consumes a [`Budget`] (rows
//! written, bytes written, rows read) and stops at the first safe point: it
//! deletes part of a frame rather than pass the rows or bytes budget. `sync`
//! runs it with an unlimited budget inside one transaction; the batched
//! engine ([`batched`](super::batched)) runs one budget per transaction and
//! persists the stack in the jobs table in the same transaction.
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

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::changes::{Cause, Changes, Patch};
use super::membership::Upward;
use super::usage::Usage;
use crate::engine::actions::{action_values, row_bytes};
use crate::engine::context::Ctx;
use crate::model::budget::Budget;
use crate::model::error::{CascadePath, Error, Operation};
use crate::model::graph::{Access, FkId, TableId, has_null};
use crate::model::job::JobId;
use crate::model::metadata::{Action, Name};
use crate::model::position::ScanPosition;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

/// Keys per stored chunk of a job's roots.
pub(crate) const ROOT_CHUNK: usize = 1_000;

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
    /// Primary keys of the rows to delete (at most a batch).
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
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// Parents per windowed child scan.
const WINDOW: usize = 64;

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
    root_set: Option<HashSet<Key>>,
    /// Tables the delete reaches through CASCADE edges (batched mode).
    #[serde(skip)]
    reachable: Option<Vec<bool>>,
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

    /// How many roots the delete has.
    pub(crate) fn roots_count(&self) -> u64 {
        match &self.roots {
            Roots::Inline(keys) => keys.len() as u64,
            Roots::Stored { count, .. } => *count,
        }
    }

    /// Replaces inline roots by the same roots stored beside a job (same
    /// positions).
    pub(crate) fn store_roots(&mut self, roots: Roots) {
        self.roots = roots;
        self.chunk = None;
    }

    /// One past the position of the last root.
    pub(crate) fn roots_end(&self) -> u64 {
        match &self.roots {
            Roots::Inline(keys) => keys.len() as u64,
            Roots::Stored { end, .. } => *end,
        }
    }

    /// Appends roots (coalescing another delete of the same table into this
    /// one): the stored chunks stay, `more` go in new chunk records that the
    /// caller writes. Returns the new (chunk index, keys) records.
    pub(crate) fn append_roots(&mut self, more: Vec<Key>) -> Vec<(u64, Vec<Key>)> {
        self.root_set = None;
        match &mut self.roots {
            Roots::Inline(keys) => {
                keys.extend(more);
                Vec::new()
            }
            Roots::Stored { end, count, .. } => {
                // Chunks are written once: the new keys start at the next
                // chunk boundary.
                let first = end.div_ceil(ROOT_CHUNK as u64);
                *count += more.len() as u64;
                let mut records = Vec::new();
                for (chunk, keys) in (first..).zip(more.chunks(ROOT_CHUNK)) {
                    records.push((chunk, keys.to_vec()));
                    *end = chunk * ROOT_CHUNK as u64 + keys.len() as u64;
                }
                records
            }
        }
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

    /// The root at position `index` (reading its stored chunk if needed).
    fn root(&mut self, tx: &mut dyn Transaction, index: u64) -> Result<Option<Key>, Error> {
        match &self.roots {
            Roots::Inline(keys) => Ok(keys.get(index as usize).cloned()),
            Roots::Stored { job, end, .. } => {
                if index >= *end {
                    return Ok(None);
                }
                let chunk = index / ROOT_CHUNK as u64;
                if self.chunk.as_ref().is_none_or(|(c, _)| *c != chunk) {
                    let keys = read_chunk(tx, *job, chunk)?;
                    self.chunk = Some((chunk, keys));
                }
                let offset = (index % ROOT_CHUNK as u64) as usize;
                Ok(self
                    .chunk
                    .as_ref()
                    .and_then(|(_, keys)| keys.get(offset).cloned()))
            }
        }
    }

    /// Loads every root for the upward search.
    fn load_root_set(&mut self, tx: &mut dyn Transaction) -> Result<(), Error> {
        if self.root_set.is_some() {
            return Ok(());
        }
        let set = match &self.roots {
            Roots::Inline(keys) => keys.iter().cloned().collect(),
            Roots::Stored { job, end, .. } => {
                let mut set = HashSet::new();
                for chunk in 0..end.div_ceil(ROOT_CHUNK as u64) {
                    set.extend(read_chunk(tx, *job, chunk)?);
                }
                set
            }
        };
        self.root_set = Some(set);
        Ok(())
    }

    fn push(&mut self, table: TableId, name: Name, rows: Vec<(Row, u64)>, ctx: Ctx<'_>) {
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
            rows: Some(rows),
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
        let mut rows = Vec::with_capacity(frame.keys.len());
        let mut keys = Vec::with_capacity(frame.keys.len());
        for key in &frame.keys {
            usage.rows_read += 1;
            if let Some(row) = tx.get(&frame.table, key)? {
                let size = row_bytes(&row);
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
    /// tables.
    fn prepare(&mut self, ctx: Ctx<'_>) -> Result<TableId, Error> {
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
    /// cycle is half deleted). Deleted rows are counted in `deleted` per
    /// table; updates and the end check's records go to `changes`.
    pub(crate) fn run(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        changes: &mut Changes<'_>,
        budget: &Budget,
        usage: &mut Usage,
        deleted: &mut [u64],
    ) -> Result<Progress, Error> {
        let root = self.prepare(ctx)?;
        loop {
            // At least one row is written per batch, whatever the budget.
            if usage.rows_written > 0 && budget.exhausted(usage) && self.may_commit() {
                self.barrier = None;
                return Ok(Progress::Paused);
            }
            if self.frames.is_empty() {
                if self.next_root >= self.roots_end() {
                    self.barrier = None;
                    return Ok(Progress::Done);
                }
                let end = (self.next_root + self.batch_rows as u64).min(self.roots_end());
                let mut rows = Vec::new();
                let mut taken: HashSet<Key> = HashSet::new();
                for index in self.next_root..end {
                    let Some(key) = self.root(tx, index)? else {
                        continue;
                    };
                    usage.rows_read += 1;
                    if taken.contains(&key) || self.on_stack.contains_key(&(root, key.clone())) {
                        continue;
                    }
                    if let Some(row) = tx.get(&self.root_table, &key)? {
                        if let Some(soft) = self.soft {
                            if row.get(soft.column) != Some(&Value::Integer(soft.at)) {
                                return Ok(Progress::Cancelled { key });
                            }
                        }
                        taken.insert(key);
                        let size = row_bytes(&row);
                        rows.push((row, size));
                    }
                }
                self.next_root = end;
                if !rows.is_empty() {
                    let name = self.root_table.clone();
                    self.push(root, name, rows, ctx);
                }
                continue;
            }
            self.load(ctx, tx, usage)?;
            if self.step(ctx, tx, changes, budget, usage, deleted)? {
                // The next rows to delete would pass the byte budget.
                return Ok(Progress::Paused);
            }
        }
    }

    /// Deletes the top frame's rows (all of them, or as many as the budget
    /// allows when the frame may be split), now that every referencing row
    /// is handled. Returns true when the budget left no room for any row.
    fn delete_top(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        changes: &mut Changes<'_>,
        budget: &Budget,
        usage: &mut Usage,
        deleted: &mut [u64],
    ) -> Result<bool, Error> {
        let depth = self.frames.len() - 1;
        let table = Self::resolve(ctx, &self.frames[depth].table)?;
        let splittable = !self.frames[depth].atomic && self.may_commit();
        let frame = &mut self.frames[depth];
        let rows = frame.rows.get_or_insert_with(Vec::new);
        let mut take = frame.keys.len();
        if splittable {
            let rows_left = budget.rows_left(usage);
            let bytes_left = budget.bytes_left(usage);
            let fresh = usage.rows_written == 0;
            let mut bytes = 0u64;
            take = 0;
            for (_, size) in rows.iter() {
                if take as u64 >= rows_left && !(fresh && take == 0) {
                    break;
                }
                bytes += size;
                if bytes > bytes_left && !(fresh && take == 0) {
                    break;
                }
                take += 1;
            }
            if take == 0 && !frame.keys.is_empty() {
                return Ok(true);
            }
        }
        let name = frame.table.clone();
        let keys: Vec<Key> = frame.keys.drain(..take).collect();
        let gone: Vec<(Row, u64)> = rows.drain(..take.min(rows.len())).collect();
        if ctx.graph.tables[table].in_cycle {
            for key in &keys {
                self.on_stack.remove(&(table, key.clone()));
            }
        }
        if self.frames[depth].keys.is_empty() {
            self.frames.pop();
        }
        let count = tx.delete_many(&name, &keys)?;
        let bytes = changes.bytes;
        for (row, size) in &gone {
            changes.record_deleted(table, row, *size);
        }
        deleted[table] += count;
        changes.count(count)?;
        usage.rows_written += count;
        usage.bytes_written += changes.bytes - bytes;
        if self
            .barrier
            .is_some_and(|barrier| self.frames.len() <= barrier)
        {
            self.barrier = None;
        }
        Ok(false)
    }

    /// Whether batched mode must scan `fk` (an incoming foreign key of a
    /// deleted row): always for the actions that write, and for NO ACTION
    /// when a referencing row may be deleted too, or freed by another
    /// action. Otherwise the end check of the batch finds any referencing
    /// row (RESTRICT, NO ACTION) and refuses.
    fn batched_scan(ctx: Ctx<'_>, reachable: &[bool], f: FkId) -> bool {
        let fk = ctx.fk(f);
        match fk.on_delete {
            Action::Cascade | Action::SetNull | Action::SetDefault => true,
            Action::Restrict => false,
            Action::NoAction => reachable[fk.child] || freed_by_another(ctx, reachable, f),
        }
    }

    /// One step on the top frame: scan a batch of referencing rows through
    /// the current foreign key, or delete the frame's rows. Returns true
    /// when the budget has no room left for the frame's deletion.
    fn step(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        changes: &mut Changes<'_>,
        budget: &Budget,
        usage: &mut Usage,
        deleted: &mut [u64],
    ) -> Result<bool, Error> {
        let depth = self.frames.len() - 1;
        let table = Self::resolve(ctx, &self.frames[depth].table)?;
        let incoming = &ctx.graph.tables[table].incoming;
        let frame = &self.frames[depth];
        if frame.fk >= incoming.len() {
            // Every referencing row is handled: delete the frame's rows.
            return self.delete_top(ctx, tx, changes, budget, usage, deleted);
        }
        let f = incoming[frame.fk];
        let fk = ctx.fk(f);
        let skip = if self.batched {
            let reachable = self.reachable.as_deref().unwrap_or_default();
            !Self::batched_scan(ctx, reachable, f)
        } else {
            // A RESTRICT / NO ACTION edge only needs work for referencing
            // rows the operation deletes; the plan has checked the others.
            matches!(fk.on_delete, Action::Restrict | Action::NoAction)
                && !changes.deleted().may_contain(fk.child)
        };
        if skip {
            self.next_fk(depth);
            return Ok(false);
        }
        let upward_needed =
            self.batched && fk.on_delete != Action::Cascade && self.reachable_has(fk.child);
        if upward_needed || (self.batched && fk.on_delete == Action::NoAction) {
            self.load_root_set(tx)?;
        }
        let child_name = ctx.meta(fk.child).name.clone();
        let mut to_delete: Vec<(Row, u64)> = Vec::new();
        let mut to_update: Vec<(Key, Key)> = Vec::new();
        let mut to_free: Vec<(Key, Vec<(FkId, Key)>)> = Vec::new();
        let writes = matches!(fk.on_delete, Action::SetNull | Action::SetDefault);
        // One query for up to WINDOW parents (a single-column key read
        // through an index); children pushed as frames carry only the
        // columns the executor reads.
        let windowed = fk.child_columns.len() == 1 && matches!(fk.children, Access::Index { .. });
        let projection = (fk.on_delete == Action::Cascade).then(|| frame_columns(ctx, fk));
        loop {
            let frame = &self.frames[depth];
            let rows = frame.rows.as_deref().unwrap_or_default();
            if frame.key >= rows.len() {
                break;
            }
            let window = if !windowed {
                1
            } else if frame.after.is_none() {
                WINDOW.min(rows.len() - frame.key)
            } else {
                frame.window.clamp(1, rows.len() - frame.key)
            };
            let parents: Vec<(usize, Key)> = (frame.key..frame.key + window)
                .map(|i| (i, fk.parent_values(&rows[i].0)))
                .filter(|(_, values)| !has_null(values))
                .collect();
            self.frames[depth].window = window;
            if parents.is_empty() {
                self.next_key(depth);
                continue;
            }
            let mut wanted = self.batch_rows - to_delete.len();
            if writes {
                let room = budget
                    .rows_left(usage)
                    .saturating_sub(to_update.len() as u64);
                wanted = wanted.min(room.max(1).try_into().unwrap_or(usize::MAX));
            }
            let after = self.frames[depth].after.clone();
            let page: Vec<(Row, u64)> = if windowed {
                let prefixes: Vec<Key> = parents.iter().map(|(_, v)| v.clone()).collect();
                ctx.children_of(
                    tx,
                    fk,
                    &prefixes,
                    after.as_ref(),
                    wanted,
                    projection.as_deref(),
                )?
            } else {
                ctx.children(tx, fk, &parents[0].1, after.as_ref(), wanted)?
                    .into_iter()
                    .map(|row| {
                        let size = row_bytes(&row);
                        (row, size)
                    })
                    .collect()
            };
            usage.rows_read += page.len() as u64;
            if let Some((last, _)) = page.last() {
                self.frames[depth].after = Some(ctx.child_position(fk, last));
            }
            let exhausted = page.len() < wanted;
            // The parent a child references (by its key's values).
            let keys = &self.frames[depth].keys;
            let parent_of = |child: &Row| -> Key {
                let values = fk.child_values(child);
                parents
                    .iter()
                    .find(|(_, v)| *v == values)
                    .map_or_else(Key::new, |(i, _)| keys[*i].clone())
            };
            let mut met: Vec<(Row, u64, Key)> = Vec::with_capacity(page.len());
            let mut atomic = false;
            let cyclic = ctx.graph.tables[fk.child].in_cycle;
            for (child, size) in page {
                let on_stack = if cyclic {
                    self.on_stack
                        .get(&(fk.child, ctx.pk_of(fk.child, &child)))
                        .copied()
                } else {
                    None
                };
                if let Some(at) = on_stack {
                    let child_key = ctx.pk_of(fk.child, &child);
                    // A data cycle: the row is deleted with its own frame;
                    // until then no commit.
                    if at < depth {
                        self.barrier = Some(self.barrier.map_or(at, |b| b.min(at)));
                    } else if at == depth && !(fk.child == table && child_key == parent_of(&child))
                    {
                        atomic = true;
                    }
                    continue;
                }
                if fk.on_delete == Action::Cascade {
                    to_delete.push((child, size));
                    continue;
                }
                let parent_key = parent_of(&child);
                met.push((child, size, parent_key));
            }
            if atomic {
                self.frames[depth].atomic = true;
            }
            for (child, size, parent_key) in met {
                let child_key = ctx.pk_of(fk.child, &child);
                if fk.on_delete == Action::Restrict {
                    return Err(Error::Restricted {
                        operation: Operation::Delete,
                        table: ctx.meta(table).name.clone(),
                        key: parent_key,
                        foreign_key: fk.name.clone(),
                        child_key,
                        via: CascadePath::default(),
                    });
                }
                let member = if self.batched {
                    upward_needed && self.upward_contains(ctx, tx, fk.child, &child)?
                } else {
                    changes.is_deleted(fk.child, &child_key)
                };
                if member {
                    to_delete.push((child, size));
                } else if fk.on_delete != Action::NoAction {
                    if self.batched && self.several_actions(ctx, fk.child) {
                        // Every SET NULL / SET DEFAULT of the delete that
                        // hits the row, at once: a later batch must not
                        // update (and count) it again.
                        self.load_root_set(tx)?;
                        let hits = self.final_hits(ctx, tx, fk.child, &child)?;
                        to_free.push((child_key, hits));
                    } else {
                        to_update.push((child_key, parent_key));
                    }
                } else if self.batched {
                    // NO ACTION outside the delete: fine only if another
                    // action of the delete frees it. Apply that action now,
                    // so that the parent may go in this batch.
                    match self.freeing(ctx, tx, f, &child)? {
                        Some(hits) => to_free.push((child_key, hits)),
                        None => {
                            return Err(Error::StillReferenced {
                                operation: Operation::Delete,
                                table: ctx.meta(table).name.clone(),
                                key: parent_key,
                                foreign_key: fk.name.clone(),
                                action: Action::NoAction,
                                child_key,
                                via: CascadePath::default(),
                            });
                        }
                    }
                }
            }
            if exhausted {
                self.next_key(depth);
            }
            if to_delete.len() >= self.batch_rows || !to_update.is_empty() || !to_free.is_empty() {
                break;
            }
        }
        let (written, bytes) = (changes.written, changes.bytes);
        for (child_key, parent_key) in to_update {
            changes.apply(
                tx,
                Patch {
                    table: fk.child,
                    key: child_key,
                    set: action_values(ctx, fk),
                    cause: Cause::Action {
                        fk: f,
                        parent_table: table,
                        parent_key,
                        action: fk.on_delete,
                        delete: true,
                    },
                },
            )?;
        }
        for (child_key, hits) in to_free {
            for (hit, parent_key) in hits {
                let edge = ctx.fk(hit);
                changes.apply(
                    tx,
                    Patch {
                        table: fk.child,
                        key: child_key.clone(),
                        set: action_values(ctx, edge),
                        cause: Cause::Action {
                            fk: hit,
                            parent_table: edge.parent,
                            parent_key,
                            action: edge.on_delete,
                            delete: true,
                        },
                    },
                )?;
            }
        }
        usage.rows_written += changes.written - written;
        usage.bytes_written += changes.bytes - bytes;
        if !to_delete.is_empty() {
            self.push(fk.child, child_name, to_delete, ctx);
        } else if self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
        }
        Ok(false)
    }

    fn reachable_has(&self, table: TableId) -> bool {
        self.reachable
            .as_ref()
            .is_some_and(|reachable| reachable[table])
    }

    /// Batched mode: whether the delete removes `row` of `table`.
    fn upward_contains(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        row: &[Value],
    ) -> Result<bool, Error> {
        let (Some(roots), Some(reachable)) = (&self.root_set, &self.reachable) else {
            return Ok(false);
        };
        let upward = Upward {
            root_table: Self::resolve(ctx, &self.root_table)?,
            roots,
            reachable,
        };
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        upward.contains(ctx, tx, &known, table, row)
    }

    /// Whether rows of `table` may be hit by several SET NULL / SET DEFAULT
    /// actions of the delete (two such foreign keys to reachable tables).
    fn several_actions(&self, ctx: Ctx<'_>, table: TableId) -> bool {
        let Some(reachable) = &self.reachable else {
            return false;
        };
        ctx.graph.tables[table]
            .outgoing
            .iter()
            .filter(|&&g| {
                let edge = ctx.fk(g);
                matches!(edge.on_delete, Action::SetNull | Action::SetDefault)
                    && reachable[edge.parent]
            })
            .count()
            > 1
    }

    /// Batched mode: every SET NULL / SET DEFAULT of the delete that hits
    /// `row` of `table`, with the deleted parent's key.
    fn final_hits(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        row: &[Value],
    ) -> Result<Vec<(FkId, Key)>, Error> {
        let (Some(roots), Some(reachable)) = (&self.root_set, &self.reachable) else {
            return Ok(Vec::new());
        };
        let upward = Upward {
            root_table: Self::resolve(ctx, &self.root_table)?,
            roots,
            reachable,
        };
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        Ok(upward.final_row(ctx, tx, &known, table, row)?.hits)
    }

    /// Batched mode: the SET NULL / SET DEFAULT actions of the delete that
    /// free `row` (a NO ACTION referencing row through `f` outside the
    /// delete), or `None` when nothing frees it.
    fn freeing(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        f: FkId,
        row: &[Value],
    ) -> Result<Option<Vec<(FkId, Key)>>, Error> {
        let (Some(roots), Some(reachable)) = (&self.root_set, &self.reachable) else {
            return Ok(None);
        };
        let fk = ctx.fk(f);
        let upward = Upward {
            root_table: Self::resolve(ctx, &self.root_table)?,
            roots,
            reachable,
        };
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        let end = upward.final_row(ctx, tx, &known, fk.child, row)?;
        let now = fk.child_values(&end.row);
        let freed = has_null(&now)
            || (now != fk.child_values(row) && upward.survives(ctx, tx, &known, f, &now)?);
        Ok(freed.then_some(end.hits))
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

/// The columns of `fk`'s child rows the executor reads once they are on the
/// stack: the primary key, the columns any foreign key references (to find
/// their own children), and the index of `fk`'s scan (its resume position).
fn frame_columns(ctx: Ctx<'_>, fk: &crate::model::graph::FkEdge) -> Vec<usize> {
    let node = &ctx.graph.tables[fk.child];
    let mut columns: Vec<usize> = node.pk.clone();
    for &g in &node.incoming {
        columns.extend(&ctx.fk(g).parent_columns);
    }
    if let Access::Index { columns: index, .. } = &fk.children {
        columns.extend(index);
    }
    columns.sort_unstable();
    columns.dedup();
    columns
}

/// Whether a NO ACTION row through `f` may be freed by another foreign key
/// of its table, sharing a column, whose SET NULL / SET DEFAULT the delete
/// can set off.
fn freed_by_another(ctx: Ctx<'_>, reachable: &[bool], f: FkId) -> bool {
    let fk = ctx.fk(f);
    ctx.graph.tables[fk.child].outgoing.iter().any(|&g| {
        let other = ctx.fk(g);
        g != f
            && matches!(other.on_delete, Action::SetNull | Action::SetDefault)
            && reachable[other.parent]
            && other
                .child_columns
                .iter()
                .any(|c| fk.child_columns.contains(c))
    })
}

/// Chunk `chunk` of job `job`'s roots (empty when it was never written).
pub(crate) fn read_chunk(
    tx: &mut dyn Transaction,
    job: JobId,
    chunk: u64,
) -> Result<Vec<Key>, Error> {
    match tx.job_roots(job, chunk)? {
        Some(bytes) => crate::model::compact::decode_keys(&bytes).map_err(Error::JobState),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::execute::delete_sync;
    use crate::engine::options::DeleteOptions;
    use crate::engine::plan::plan_delete;
    use crate::model::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta};
    use crate::model::schema::Schema;
    use crate::model::value::ValueType;
    use crate::store::{Access, MemoryStore, Store};

    /// `orgs` ← `teams` (CASCADE) ← `members` (CASCADE, and `buddy` → members
    /// CASCADE: a data cycle), `posts` → members (CASCADE) and → teams (SET
    /// NULL): a diamond with mixed actions.
    fn schema() -> Schema {
        let id = || ColumnMeta::new("id", ValueType::Integer);
        Schema::new(vec![
            TableMeta::new("orgs")
                .with_column(id())
                .with_primary_key(["id"]),
            TableMeta::new("teams")
                .with_column(id())
                .with_column(ColumnMeta::new("org", ValueType::Integer))
                .with_primary_key(["id"])
                .with_index(IndexMeta::new("by_org", ["org"]))
                .with_foreign_key(
                    ForeignKeyMeta::new(["org"], "orgs", ["id"])
                        .on_delete(Action::Cascade)
                        .with_index(IndexRef::Index("by_org".into())),
                ),
            TableMeta::new("members")
                .with_column(id())
                .with_column(ColumnMeta::new("team", ValueType::Integer))
                .with_column(ColumnMeta::new("buddy", ValueType::Integer).nullable())
                .with_primary_key(["id"])
                .with_index(IndexMeta::new("by_team", ["team"]))
                .with_index(IndexMeta::new("by_buddy", ["buddy"]))
                .with_foreign_key(
                    ForeignKeyMeta::new(["team"], "teams", ["id"])
                        .on_delete(Action::Cascade)
                        .with_index(IndexRef::Index("by_team".into())),
                )
                .with_foreign_key(
                    ForeignKeyMeta::new(["buddy"], "members", ["id"])
                        .on_delete(Action::Cascade)
                        .with_index(IndexRef::Index("by_buddy".into())),
                ),
            TableMeta::new("posts")
                .with_column(id())
                .with_column(ColumnMeta::new("author", ValueType::Integer))
                .with_column(ColumnMeta::new("team", ValueType::Integer).nullable())
                .with_primary_key(["id"])
                .with_index(IndexMeta::new("by_author", ["author"]))
                .with_index(IndexMeta::new("by_team", ["team"]))
                .with_foreign_key(
                    ForeignKeyMeta::new(["author"], "members", ["id"])
                        .on_delete(Action::Cascade)
                        .with_index(IndexRef::Index("by_author".into())),
                )
                .with_foreign_key(
                    ForeignKeyMeta::new(["team"], "teams", ["id"])
                        .on_delete(Action::SetNull)
                        .with_index(IndexRef::Index("by_team".into())),
                ),
        ])
        .unwrap()
    }

    fn filled() -> MemoryStore {
        let store = MemoryStore::new(schema()).unwrap();
        let mut tx = store.begin(Access::Write).unwrap();
        let int = Value::Integer;
        for org in 1..=2 {
            tx.insert("orgs", &[int(org)]).unwrap();
        }
        for team in 1..=6 {
            tx.insert("teams", &[int(team), int(1 + team % 2)]).unwrap();
        }
        for member in 1..=30 {
            // Members pair up as buddies: 1↔2, 3↔4, ... (a cycle each).
            let buddy = if member % 2 == 1 {
                member + 1
            } else {
                member - 1
            };
            tx.insert("members", &[int(member), int(1 + member % 6), int(buddy)])
                .unwrap();
        }
        for post in 1..=60 {
            let author = 1 + post % 30;
            // Half the posts sit in another team than their author's.
            let team = 1 + (author + post % 2) % 6;
            tx.insert("posts", &[int(post), int(author), int(team)])
                .unwrap();
        }
        tx.commit().unwrap();
        store
    }

    fn contents(store: &MemoryStore) -> Vec<Vec<Row>> {
        let mut tx = store.begin(Access::Read).unwrap();
        ["orgs", "teams", "members", "posts"]
            .iter()
            .map(|t| {
                tx.scan(
                    &crate::model::index_range::IndexRange::new(*t, IndexRef::PrimaryKey),
                    None,
                    1_000,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn budgeted_batches_with_a_persisted_stack_match_sync_and_never_commit_an_orphan() {
        let roots = vec![vec![Value::Integer(1)]];
        let reference = filled();
        {
            let schema = reference.schema().clone();
            let ctx = Ctx::new(&schema).unwrap();
            let mut tx = reference.begin(Access::Write).unwrap();
            let table = ctx.graph.table_id("orgs").unwrap();
            delete_sync(ctx, &mut *tx, table, &roots, &DeleteOptions::default()).unwrap();
            tx.commit().unwrap();
        }

        let store = filled();
        let schema = store.schema().clone();
        let ctx = Ctx::new(&schema).unwrap();
        let table = ctx.graph.table_id("orgs").unwrap();
        let plan = {
            let mut tx = store.begin(Access::Read).unwrap();
            plan_delete(ctx, &mut *tx, table, &roots, None).unwrap()
        };
        let mut state =
            serde_json::to_string(&DeleteStack::new("orgs".into(), Roots::Inline(roots), 2))
                .unwrap();
        let budget = Budget {
            rows_written: Some(3),
            ..Budget::default()
        };
        let mut batches = 0;
        loop {
            batches += 1;
            assert!(batches < 1_000, "the delete makes progress");
            let mut stack: DeleteStack = serde_json::from_str(&state).unwrap();
            let mut tx = store.begin(Access::Write).unwrap();
            let mut changes = Changes::new(
                ctx,
                &plan.closure,
                None,
                (Operation::Delete, "orgs".into(), vec![]),
            );
            let mut usage = Usage::default();
            let mut deleted = vec![0; 4];
            let progress = stack
                .run(
                    ctx,
                    &mut *tx,
                    &mut changes,
                    &budget,
                    &mut usage,
                    &mut deleted,
                )
                .unwrap();
            // What this batch removed is referenced by nothing: no orphan is
            // committed, data cycles included.
            changes.finish(&mut *tx).unwrap();
            state = serde_json::to_string(&stack).unwrap();
            tx.commit().unwrap();
            if progress == Progress::Done {
                break;
            }
        }
        assert!(
            batches > 5,
            "the budget split the delete ({batches} batches)"
        );
        assert_eq!(contents(&store), contents(&reference));
    }
}
