//! The check pass of a batched delete, and the walk behind `explain_delete`:
//! a read-only, depth-first walk of the rows a delete removes, with memory
//! bounded by depth × batch size.
//!
//! [`Walk`] visits the closure `D` of the delete — the roots and every row a
//! chain of ON DELETE CASCADE foreign keys leads from to them — from an
//! explicit stack of frames of at most `batch_rows` rows, like the executor
//! (see [`delete`](super::delete)). It decides on the state before the
//! delete, with the rules of [`plan`](crate::engine::plan):
//!
//! - RESTRICT: a row (other than itself) referencing a row of `D` refuses;
//! - NO ACTION: a referencing row must be in `D` itself, or have its columns
//!   changed by a SET NULL / SET DEFAULT of the delete so that they
//!   reference nothing or a row that survives;
//! - SET DEFAULT: the default key (without NULL) must have a parent outside
//!   `D`.
//!
//! "In `D`" is answered by an upward search ([`Upward`]), not by a set of
//! the rows visited. Without counting, a subgraph whose tables need no check
//! is not walked at all, and rows reached twice (a diamond) are walked twice
//! (a data cycle is cut by the stack). When counting (`max_rows`, or for
//! `explain_delete`) the walk remembers the rows it counted, up to its
//! limit, so each is counted once.
//!
//! With row policies registered ([`crate::engine::policy`]), the check and
//! explain walks ask them about every root, every row of `D` and every row a
//! SET NULL / SET DEFAULT would change, so nothing is skipped then.
//!
//! The walk stops on its budget ([`Progress::Paused`]) so that the caller
//! can end the transaction and open another: frames keep their rows and
//! scan positions across transactions.
//!
//! The same walk marks and unmarks rows for a soft cascade and its restore
//! ([`Purpose::Mark`], with a [`Marker`]): it then follows only the CASCADE
//! foreign keys, checks and counts nothing, and lets the marker write each
//! row of `D` — in pre-order (a row before the rows under it) when marking,
//! in post-order when clearing, so that the root's time outlives a failure
//! either way.

use std::collections::{HashMap, HashSet};

use super::delete::Progress;
use super::marker::Marker;
use super::membership::Upward;
use super::roots::{RootReader, RootSet, Start};
use super::usage::Usage;
use crate::engine::context::Ctx;
use crate::engine::policy::Asked;
use crate::model::budget::Budget;
use crate::model::error::{CascadePath, Error, Operation, RowChange};
use crate::model::graph::{FkId, TableId, has_null};
use crate::model::metadata::Action;
use crate::model::position::ScanPosition;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

/// What the walk does with a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Fail with the first refusal (the check pass).
    Check,
    /// Record the first refusal of each foreign key and go on (explain).
    Explain,
    /// Follow the CASCADE foreign keys only, and let the [`Marker`] write
    /// each row (soft cascade, restore).
    Mark,
}

/// Rows of one table of `D` whose referencing rows are being walked.
struct WalkFrame {
    table: TableId,
    rows: Vec<Row>,
    keys: Vec<Key>,
    fk: usize,
    key: usize,
    after: Option<ScanPosition>,
    /// The deletion time of the root the frame's rows descend from
    /// ([`Purpose::Mark`]; 0 otherwise).
    at: i64,
    /// Rows of the frame the marker has cleared (post-order).
    cleared: usize,
}

/// Counts of a walk that counts.
struct Counting {
    /// Most rows (deleted plus updated) to count; past it the walk fails
    /// ([`Purpose::Check`], `max_rows`) or stops truncated (explain).
    limit: u64,
    deleted: HashSet<(TableId, Key)>,
    updated: HashSet<(TableId, Key)>,
}

/// The walk of the rows a delete removes.
pub(crate) struct Walk {
    purpose: Purpose,
    root_table: TableId,
    roots: RootReader,
    root_set: RootSet,
    batch_rows: usize,
    reachable: Vec<bool>,
    frames: Vec<WalkFrame>,
    on_stack: HashMap<(TableId, Key), usize>,
    counting: Option<Counting>,
    /// Rows deleted, per table (when counting).
    pub(crate) deletes: Vec<u64>,
    /// Rows updated by SET NULL / SET DEFAULT, per table (when counting).
    pub(crate) updates: Vec<u64>,
    /// The first refusal of each foreign key (explain).
    pub(crate) refusals: Vec<(FkId, Error)>,
    /// Whether counting stopped at the limit (explain).
    pub(crate) truncated: bool,
    /// The first (table, key) of the roots, for [`Error::TooManyRows`].
    first_root: Key,
    /// What writes the rows of `D` ([`Purpose::Mark`]).
    pub(crate) marker: Option<Marker>,
    /// The first policy refusal (explain).
    pub(crate) denied: Option<Error>,
}

impl Walk {
    /// A walk of the delete of the rows of `root_table` that `roots` names.
    /// `count` asks for counts, up to `limit` rows.
    pub(crate) fn new(
        ctx: Ctx<'_>,
        purpose: Purpose,
        root_table: TableId,
        roots: Start,
        batch_rows: usize,
        count: Option<u64>,
    ) -> Self {
        let tables = ctx.graph.tables.len();
        Walk {
            purpose,
            root_table,
            root_set: roots.root_set(),
            first_root: roots.first_key(),
            roots: RootReader::new(roots),
            batch_rows: batch_rows.max(1),
            reachable: ctx.graph.cascade_reachable(root_table),
            frames: Vec::new(),
            on_stack: HashMap::new(),
            counting: count.map(|limit| Counting {
                limit,
                deleted: HashSet::new(),
                updated: HashSet::new(),
            }),
            deletes: vec![0; tables],
            updates: vec![0; tables],
            refusals: Vec::new(),
            truncated: false,
            marker: None,
            denied: None,
        }
    }

    /// A walk that lets `marker` mark or clear every row of the closure of
    /// the roots `roots` of `root_table` ([`Purpose::Mark`]).
    pub(crate) fn marking(
        ctx: Ctx<'_>,
        root_table: TableId,
        roots: Start,
        batch_rows: usize,
        marker: Marker,
    ) -> Self {
        let mut walk = Walk::new(ctx, Purpose::Mark, root_table, roots, batch_rows, None);
        walk.marker = Some(marker);
        walk
    }

    /// Counts one more row of `table` deleted (`delete`) or updated; false
    /// when the row was counted before. Fails past the limit (check) or
    /// marks the walk truncated (explain).
    fn count(
        &mut self,
        ctx: Ctx<'_>,
        delete: bool,
        table: TableId,
        key: &Key,
    ) -> Result<bool, Error> {
        let Some(counting) = &mut self.counting else {
            return Ok(true);
        };
        let set = if delete {
            &mut counting.deleted
        } else {
            &mut counting.updated
        };
        if !set.insert((table, key.clone())) {
            return Ok(false);
        }
        let total = (counting.deleted.len() + counting.updated.len()) as u64;
        if total > counting.limit {
            match self.purpose {
                Purpose::Check => {
                    return Err(Error::TooManyRows {
                        operation: Operation::Delete,
                        table: ctx.meta(self.root_table).name.clone(),
                        key: self.first_root.clone(),
                        limit: counting.limit,
                    });
                }
                Purpose::Explain | Purpose::Mark => {
                    self.truncated = true;
                    return Ok(false);
                }
            }
        }
        if delete {
            self.deletes[table] += 1;
        } else {
            self.updates[table] += 1;
        }
        Ok(true)
    }

    /// A refusal: the error (check), or recorded once per foreign key
    /// (explain).
    fn refuse(&mut self, fk: FkId, error: Error) -> Result<(), Error> {
        match self.purpose {
            Purpose::Check => Err(error),
            Purpose::Explain | Purpose::Mark => {
                if !self.refusals.iter().any(|(f, _)| *f == fk) {
                    self.refusals.push((fk, error));
                }
                Ok(())
            }
        }
    }

    /// Whether the walk asks row policies (checking or explaining, with a
    /// policy registered).
    fn policed(&self, ctx: Ctx<'_>) -> bool {
        ctx.policy.is_some() && self.purpose != Purpose::Mark
    }

    /// Asks the policies of the row's table: a refusal fails the check, or
    /// is recorded, the first one, by explain.
    fn ask(&mut self, ctx: Ctx<'_>, asked: Asked<'_>) -> Result<(), Error> {
        if !self.policed(ctx) {
            return Ok(());
        }
        match ctx.ask(Operation::Delete, asked) {
            Err(error) if self.purpose == Purpose::Explain => {
                self.denied.get_or_insert(error);
                Ok(())
            }
            result => result,
        }
    }

    fn push(&mut self, ctx: Ctx<'_>, table: TableId, rows: Vec<Row>, at: i64) {
        let depth = self.frames.len();
        let keys: Vec<Key> = rows.iter().map(|row| ctx.pk_of(table, row)).collect();
        // Only rows of a table on a cycle of foreign keys can be met again
        // while on the stack.
        if ctx.graph.tables[table].in_cycle {
            for key in &keys {
                self.on_stack.insert((table, key.clone()), depth);
            }
        }
        self.frames.push(WalkFrame {
            table,
            rows,
            keys,
            fk: 0,
            key: 0,
            after: None,
            at,
            cleared: 0,
        });
    }

    /// `error` with the cascade path to the row it refuses (see
    /// [`with_cascade_path`](super::membership::with_cascade_path)).
    pub(crate) fn with_cascade_path(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        error: Error,
    ) -> Error {
        super::membership::with_cascade_path(ctx, tx, self.root_table, &self.root_set, error)
    }

    /// Walks until done, or until `budget` is spent in this transaction
    /// (`usage` counts the work; at least one row is read per transaction,
    /// whatever the budget).
    pub(crate) fn run(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        budget: &Budget,
        usage: &mut Usage,
    ) -> Result<Progress, Error> {
        loop {
            if self.truncated {
                self.frames.clear();
                return Ok(Progress::Done);
            }
            if usage.rows_read > 0 && budget.exhausted(usage) {
                return Ok(Progress::Paused);
            }
            if self.frames.is_empty() {
                let limit = match self.marker {
                    Some(_) => {
                        (budget.rows_left(usage).min(self.batch_rows as u64) as usize).max(1)
                    }
                    None => self.batch_rows,
                };
                let found =
                    self.roots
                        .next_rows(ctx, tx, self.root_table, limit, &mut usage.rows_read)?;
                if found.is_empty() {
                    return Ok(Progress::Done);
                }
                self.push_roots(ctx, tx, found, usage)?;
                continue;
            }
            self.step(ctx, tx, budget, usage)?;
        }
    }

    /// Rows held on the walk's stack.
    pub(crate) fn held_rows(&self) -> usize {
        self.frames.iter().map(|frame| frame.rows.len()).sum()
    }

    /// Pushes the roots `found` (counted, or grouped by deletion time and
    /// marked by the marker).
    fn push_roots(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        found: Vec<Row>,
        usage: &mut Usage,
    ) -> Result<(), Error> {
        let table = self.root_table;
        if let Some(marker) = &mut self.marker {
            for (at, rows) in marker.roots(ctx, tx, table, found, usage)? {
                self.push(ctx, table, rows, at);
            }
            return Ok(());
        }
        let mut rows = Vec::new();
        for row in found {
            self.ask(ctx, Asked::deleted(table, &row, None))?;
            let key = ctx.pk_of(table, &row);
            if self.count(ctx, true, table, &key)? {
                rows.push(row);
            }
        }
        if !rows.is_empty() {
            self.push(ctx, table, rows, 0);
        }
        Ok(())
    }

    /// Pops the top frame, once the marker cleared its rows (post-order);
    /// false when the budget ran out first.
    fn pop(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        budget: &Budget,
        usage: &mut Usage,
    ) -> Result<bool, Error> {
        let Some(frame) = self.frames.last_mut() else {
            return Ok(true);
        };
        let table = frame.table;
        if let Some(marker) = &mut self.marker {
            let keys = &frame.keys[frame.cleared..];
            frame.cleared += marker.leave(ctx, tx, table, keys, frame.at, budget, usage)?;
            if frame.cleared < frame.keys.len() {
                return Ok(false);
            }
        }
        if let Some(frame) = self.frames.pop() {
            if ctx.graph.tables[table].in_cycle {
                for key in frame.keys {
                    self.on_stack.remove(&(table, key));
                }
            }
        }
        Ok(true)
    }

    fn next_fk(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.fk += 1;
        frame.key = 0;
        frame.after = None;
    }

    fn next_key(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.key += 1;
        frame.after = None;
    }

    /// One step on the top frame: a page of referencing rows through the
    /// current foreign key, or the frame is done.
    fn step(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        budget: &Budget,
        usage: &mut Usage,
    ) -> Result<(), Error> {
        let depth = self.frames.len() - 1;
        let table = self.frames[depth].table;
        let incoming = &ctx.graph.tables[table].incoming;
        if self.frames[depth].fk >= incoming.len() {
            self.pop(ctx, tx, budget, usage)?;
            return Ok(());
        }
        let f = incoming[self.frames[depth].fk];
        let fk = ctx.fk(f);
        // Counting, or asking row policies, needs every row of `D` and
        // every row a SET NULL / SET DEFAULT changes.
        let every_row = self.counting.is_some() || self.policed(ctx);
        let skip = match fk.on_delete {
            // Marking follows the rows a CASCADE would delete, and no other.
            _ if self.purpose == Purpose::Mark => fk.on_delete != Action::Cascade,
            // Nothing below can refuse, and nothing is counted or asked.
            Action::Cascade => !every_row && !ctx.graph.tables[fk.child].needs_check,
            // A SET NULL that changes no key cannot refuse (a delete whose
            // actions change keys runs as one transaction, planned by
            // `plan_delete`), unless a policy refuses it.
            Action::SetNull => !every_row,
            _ => false,
        };
        if skip {
            self.next_fk(depth);
            return Ok(());
        }
        let mut to_push: Vec<Row> = Vec::new();
        loop {
            let frame = &self.frames[depth];
            let Some(parent) = frame.rows.get(frame.key) else {
                break;
            };
            let parent_key = frame.keys[frame.key].clone();
            let values = fk.parent_values(parent);
            if has_null(&values) {
                self.next_key(depth);
                continue;
            }
            if fk.on_delete == Action::Restrict {
                let except = (fk.child == table).then_some(parent_key.as_slice());
                usage.rows_read += 2;
                if let Some(child_key) = ctx.first_child(tx, fk, &values, except)? {
                    self.refuse(
                        f,
                        Error::Restricted {
                            operation: Operation::Delete,
                            table: ctx.meta(table).name.clone(),
                            key: parent_key,
                            foreign_key: fk.name.clone(),
                            child_key,
                            via: CascadePath::default(),
                        },
                    )?;
                }
                self.next_key(depth);
                continue;
            }
            let wanted = self.batch_rows - to_push.len();
            let after = self.frames[depth].after.clone();
            let mut page = ctx.children(tx, fk, &values, after.as_ref(), wanted)?;
            usage.rows_read += page.len() as u64;
            let mut exhausted = page.len() < wanted;
            if let Some(marker) = &mut self.marker {
                let at = self.frames[depth].at;
                let marked = marker.enter(ctx, tx, fk.child, &page, at, budget, usage)?;
                if marked < page.len() {
                    page.truncate(marked);
                    exhausted = false;
                }
            }
            if let Some(last) = page.last() {
                self.frames[depth].after = Some(ctx.child_position(fk, last));
            }
            for child in page {
                let child_key = ctx.pk_of(fk.child, &child);
                let on_stack = ctx.graph.tables[fk.child].in_cycle
                    && self.on_stack.contains_key(&(fk.child, child_key.clone()));
                if fk.on_delete == Action::Cascade {
                    if !on_stack {
                        self.ask(ctx, Asked::deleted(fk.child, &child, Some(f)))?;
                    }
                    if !on_stack && self.count(ctx, true, fk.child, &child_key)? {
                        to_push.push(child);
                    }
                    continue;
                }
                if on_stack || (fk.child == table && child_key == parent_key) {
                    continue;
                }
                let upward = Upward {
                    root_table: self.root_table,
                    roots: &self.root_set,
                    reachable: &self.reachable,
                };
                let stack = &self.on_stack;
                let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
                if upward.contains(ctx, tx, &known, fk.child, &child)? {
                    // Deleted through another path: counted there.
                    continue;
                }
                match fk.on_delete {
                    Action::NoAction => {
                        let end = upward.final_row(ctx, tx, &known, fk.child, &child)?;
                        let now = fk.child_values(&end.row);
                        let fixed = has_null(&now)
                            || (now != fk.child_values(&child)
                                && upward.survives(ctx, tx, &known, f, &now)?);
                        if !fixed {
                            self.refuse(
                                f,
                                Error::StillReferenced {
                                    operation: Operation::Delete,
                                    table: ctx.meta(table).name.clone(),
                                    key: parent_key.clone(),
                                    foreign_key: fk.name.clone(),
                                    action: Action::NoAction,
                                    child_key,
                                    via: CascadePath::default(),
                                },
                            )?;
                        }
                    }
                    _ => {
                        let change = match fk.on_delete {
                            Action::SetNull => RowChange::SetNull,
                            _ => RowChange::SetDefault,
                        };
                        self.ask(
                            ctx,
                            Asked {
                                table: fk.child,
                                row: &child,
                                change,
                                fk: Some(f),
                                parent: Some((table, parent_key.clone())),
                            },
                        )?;
                        let first = self.count(ctx, false, fk.child, &child_key)?;
                        if fk.on_delete == Action::SetDefault && first {
                            let upward = Upward {
                                root_table: self.root_table,
                                roots: &self.root_set,
                                reachable: &self.reachable,
                            };
                            let stack = &self.on_stack;
                            let known =
                                |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
                            if let Some((hit, error)) =
                                missing_default(ctx, tx, &upward, &known, fk.child, &child)?
                            {
                                self.refuse(hit, error)?;
                            }
                        }
                    }
                }
            }
            if exhausted {
                self.next_key(depth);
            }
            if to_push.len() >= self.batch_rows || self.truncated || budget.exhausted(usage) {
                break;
            }
        }
        if !to_push.is_empty() {
            let at = self.frames[depth].at;
            self.push(ctx, fk.child, to_push, at);
        } else if self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
        }
        Ok(())
    }
}

/// The SET DEFAULT refusal of a referencing row outside the delete, if any:
/// a SET DEFAULT that hits it must leave a default key with a parent that
/// exists and survives.
fn missing_default(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    upward: &Upward<'_>,
    known: &dyn Fn(TableId, &[Value]) -> bool,
    table: TableId,
    row: &[Value],
) -> Result<Option<(FkId, Error)>, Error> {
    let end = upward.final_row(ctx, tx, known, table, row)?;
    for (hit, parent_key) in end.hits {
        let edge = ctx.fk(hit);
        if edge.on_delete != Action::SetDefault {
            continue;
        }
        let values = edge.child_values(&end.row);
        if has_null(&values) {
            continue;
        }
        let deleted = match ctx.parent(tx, edge, &values)? {
            Some(parent) => {
                if !upward.contains(ctx, tx, known, edge.parent, &parent)? {
                    continue;
                }
                true
            }
            None => false,
        };
        return Ok(Some((
            hit,
            Error::MissingDefault {
                operation: Operation::Delete,
                table: ctx.meta(edge.parent).name.clone(),
                key: parent_key,
                foreign_key: edge.name.clone(),
                child_key: ctx.pk_of(table, row),
                default_key: values,
                deleted,
                via: CascadePath::default(),
            },
        )));
    }
    Ok(None)
}
