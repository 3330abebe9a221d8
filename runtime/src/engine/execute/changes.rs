//! Row changes and their ON UPDATE actions, plus the end-of-operation check.
//!
//! [`Changes`] applies a change to one row (a user's update, or a SET NULL /
//! SET DEFAULT of the delete executor), then runs the ON UPDATE actions of
//! every referenced key whose value really changed, depth first, as SQLite
//! fires its actions row by row. Rows the operation deletes are left alone.
//! It records what the end check needs: the keys that disappeared and the
//! rows it wrote. [`Changes::finish`] then refuses the operation if a row
//! still references a key that no row has any more (NO ACTION, SQL's
//! end-of-statement check) or a written row references a missing parent
//! (SET DEFAULT without a default parent, a user's update to a missing
//! parent).
//!
//! Key updates stay in one transaction: the children of one changed key are
//! read in full (memory grows with that fan-out, bounded by `max_rows`).

use std::collections::HashMap;

use super::membership::Membership;
use crate::engine::actions::{rewrites_alone, update_action_values};
use crate::engine::context::{Ctx, Projection};
use crate::engine::policy::Asked;
use crate::model::error::{CascadePath, Error, Operation, RowChange};
use crate::model::graph::{FkId, Lookup, TableId, has_null};
use crate::model::metadata::{Action, IndexRef, Name};
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;
use crate::store::scan::row_size;
use crate::store::{ChildScan, ChildWrite};

/// Page size of the child scans of a key change.
const PAGE: usize = 512;

/// Deleted parents per lookup of the end check: a batch's worth at once.
const END_CHECK_PARENTS: usize = 1_024;

/// Whether an action writes the referencing rows (the others only refuse).
fn writes_rows(action: Action) -> bool {
    matches!(
        action,
        Action::Cascade | Action::SetNull | Action::SetDefault
    )
}

/// Why a row was written.
#[derive(Debug, Clone)]
pub(crate) enum Cause {
    /// The caller's own update.
    Root,
    /// A referential action of `fk`, after its parent row (`parent_table`,
    /// `parent_key`) was deleted (`delete`) or had its key changed.
    Action {
        fk: FkId,
        parent_table: TableId,
        parent_key: Key,
        action: Action,
        delete: bool,
    },
}

/// A change to one row: the columns at these positions get these values.
#[derive(Debug, Clone)]
pub(crate) struct Patch {
    pub(crate) table: TableId,
    pub(crate) key: Key,
    pub(crate) set: Vec<(usize, Value)>,
    pub(crate) cause: Cause,
}

/// A row the operation wrote: its state before the operation.
struct Touched {
    table: TableId,
    original: Row,
    key: Key,
    cause: Cause,
}

/// A key that disappeared: the operation deleted its row or changed it.
struct Removed {
    fk: FkId,
    values: Key,
    parent_key: Key,
    operation: Operation,
    action: Action,
}

/// The writes of one operation and what its end check needs.
pub(crate) struct Changes<'a> {
    ctx: Ctx<'a>,
    deleted: &'a dyn Membership,
    max_rows: Option<u64>,
    /// (operation, table, key) of the first root, for [`Error::TooManyRows`].
    root: (Operation, Name, Key),
    /// Rows written so far: deletes (counted by the delete executor) and
    /// distinct updated rows.
    pub(crate) written: u64,
    /// Bytes written (serialised row sizes).
    pub(crate) bytes: u64,
    /// Distinct rows updated, per table.
    pub(crate) updated: Vec<u64>,
    touched: Vec<Touched>,
    by_key: HashMap<(TableId, Key), usize>,
    moved: HashMap<(TableId, Key), Key>,
    /// (foreign key, child values before the operation) → touched rows that
    /// referenced those values before the operation.
    original_refs: HashMap<(FkId, Key), Vec<usize>>,
    removed: Vec<Removed>,
    /// Batched mode: the end check looks at every incoming foreign key of a
    /// deleted row, not only NO ACTION and SET DEFAULT (see
    /// [`Changes::check_every_edge`]).
    every_edge: bool,
    /// The operation changes one row's key and deletes nothing: an ON
    /// UPDATE action that [rewrites alone](rewrites_alone) runs as one
    /// set-based statement (see [`Changes::rewrite_children`]).
    set_based: bool,
}

impl<'a> Changes<'a> {
    pub(crate) fn new(
        ctx: Ctx<'a>,
        deleted: &'a dyn Membership,
        max_rows: Option<u64>,
        root: (Operation, Name, Key),
    ) -> Self {
        Changes {
            ctx,
            deleted,
            max_rows,
            root,
            written: 0,
            bytes: 0,
            updated: vec![0; ctx.graph.tables.len()],
            touched: Vec::new(),
            by_key: HashMap::new(),
            moved: HashMap::new(),
            original_refs: HashMap::new(),
            removed: Vec::new(),
            every_edge: false,
            set_based: false,
        }
    }

    /// Lets ON UPDATE actions that rewrite alone run set-based: the
    /// operation updates one row and deletes nothing (with several rows, a
    /// new key of one may be the old key of another, and a statement would
    /// rewrite the same children twice).
    pub(crate) fn set_based(mut self) -> Self {
        self.set_based = true;
        self
    }

    /// Makes the end check look at every incoming foreign key of each
    /// deleted row (batched mode). One batch deletes rows whose referencing
    /// rows were handled by earlier batches, so a row inserted in between
    /// under one of them — or a RESTRICT / NO ACTION row — must be found
    /// before the batch commits: the batch then fails, and no orphan is
    /// ever committed. A referencing row through CASCADE, SET NULL or SET
    /// DEFAULT is reported as [`Error::StillReferenced`] with that action:
    /// the batched engine rescans and retries.
    pub(crate) fn check_every_edge(mut self) -> Self {
        self.every_edge = true;
        self
    }

    /// Whether the operation deletes row `key` of `table`.
    pub(crate) fn is_deleted(&self, table: TableId, key: &[Value]) -> bool {
        self.deleted.contains(table, key)
    }

    /// The membership test of the operation's deleted rows.
    pub(crate) fn deleted(&self) -> &'a dyn Membership {
        self.deleted
    }

    /// Counts `rows` more written rows against `max_rows`.
    pub(crate) fn count(&mut self, rows: u64) -> Result<(), Error> {
        self.written += rows;
        match self.max_rows {
            Some(limit) if self.written > limit => Err(Error::TooManyRows {
                operation: self.root.0,
                table: self.root.1.clone(),
                key: self.root.2.clone(),
                limit,
            }),
            _ => Ok(()),
        }
    }

    /// The incoming foreign keys of `table` whose referencing rows the end
    /// check looks for when the operation deletes a row of `table`: every
    /// one in batched mode ([`check_every_edge`](Self::check_every_edge)),
    /// except those `handled` says the batch handled itself; otherwise only
    /// NO ACTION and SET DEFAULT.
    ///
    /// The bottom-up executor has deleted or updated every row that
    /// referenced the deleted row through a CASCADE or SET NULL edge, and the
    /// plan refused any RESTRICT reference. A NO ACTION edge is where the
    /// executor trusts the plan (a referencing row outside the closure whose
    /// columns another action changes), and a SET DEFAULT may leave a row
    /// referencing the same key (a default equal to it): their keys are
    /// checked again at the end.
    pub(crate) fn edges_to_check(
        &self,
        table: TableId,
        handled: &dyn Fn(FkId) -> bool,
    ) -> Vec<FkId> {
        self.ctx.graph.tables[table]
            .incoming
            .iter()
            .copied()
            .filter(|&f| {
                if self.every_edge {
                    !handled(f)
                } else {
                    matches!(
                        self.ctx.fk(f).on_delete,
                        Action::NoAction | Action::SetDefault
                    )
                }
            })
            .collect()
    }

    /// The columns of `table`'s rows that [`record_deleted`](Self::record_deleted)
    /// reads for `edges`: the primary key and the columns they reference.
    pub(crate) fn columns_to_check(&self, table: TableId, edges: &[FkId]) -> Vec<usize> {
        let mut columns = self.ctx.graph.tables[table].pk.clone();
        for &f in edges {
            columns.extend(&self.ctx.fk(f).parent_columns);
        }
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// Counts `bytes` more written.
    pub(crate) fn add_bytes(&mut self, bytes: u64) {
        self.bytes += bytes;
    }

    /// Counts `rows` rows of `table` updated by one set-based statement
    /// (each row once: a statement never writes a row twice) against
    /// `max_rows`, and their bytes.
    pub(crate) fn count_updated(
        &mut self,
        table: TableId,
        rows: u64,
        bytes: u64,
    ) -> Result<(), Error> {
        self.updated[table] += rows;
        self.bytes += bytes;
        self.count(rows)
    }

    /// Records that the operation deleted `row` of `table` (of which only
    /// the columns [`columns_to_check`](Self::columns_to_check) gives need
    /// hold values), for the end check of the foreign keys `edges`.
    pub(crate) fn record_deleted(&mut self, table: TableId, row: &[Value], edges: &[FkId]) {
        if edges.is_empty() {
            return;
        }
        let key = self.ctx.pk_of(table, row);
        for &f in edges {
            let fk = self.ctx.fk(f);
            let values = fk.parent_values(row);
            if !has_null(&values) {
                self.removed.push(Removed {
                    fk: f,
                    values,
                    parent_key: key.clone(),
                    operation: Operation::Delete,
                    action: fk.on_delete,
                });
            }
        }
    }

    /// Applies `patch` and, depth first, the ON UPDATE actions it sets off.
    pub(crate) fn apply(&mut self, tx: &mut dyn Transaction, patch: Patch) -> Result<(), Error> {
        let mut stack = vec![patch];
        while let Some(patch) = stack.pop() {
            self.apply_one(tx, patch, &mut stack)?;
        }
        Ok(())
    }

    /// The row `key` of `table` now, following key changes of this operation.
    fn current(
        &self,
        tx: &mut dyn Transaction,
        table: TableId,
        mut key: Key,
    ) -> Result<Option<(Key, Row)>, Error> {
        let name = &self.ctx.meta(table).name;
        for _ in 0..=self.moved.len() {
            if let Some(row) = tx.get(name, &key)? {
                return Ok(Some((key, row)));
            }
            match self.moved.get(&(table, key)) {
                Some(next) => key = next.clone(),
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    fn apply_one(
        &mut self,
        tx: &mut dyn Transaction,
        patch: Patch,
        stack: &mut Vec<Patch>,
    ) -> Result<(), Error> {
        let ctx = self.ctx;
        let table = patch.table;
        let Some((key, old)) = self.current(tx, table, patch.key)? else {
            return Ok(());
        };
        if self.is_deleted(table, &key) {
            return Ok(());
        }
        let mut new = old.clone();
        for (column, value) in patch.set {
            if let Some(slot) = new.get_mut(column) {
                *slot = value;
            }
        }
        let new = ctx.normalize(table, new)?;
        if new == old {
            return Ok(());
        }
        self.ask(table, &old, &patch.cause)?;
        let index = match self.by_key.get(&(table, key.clone())) {
            Some(&index) => index,
            None => {
                let index = self.touched.len();
                for &f in &ctx.graph.tables[table].outgoing {
                    let values = ctx.fk(f).child_values(&old);
                    if !has_null(&values) {
                        self.original_refs
                            .entry((f, values))
                            .or_default()
                            .push(index);
                    }
                }
                self.touched.push(Touched {
                    table,
                    original: old.clone(),
                    key: key.clone(),
                    cause: patch.cause.clone(),
                });
                self.by_key.insert((table, key.clone()), index);
                self.updated[table] += 1;
                self.count(1)?;
                index
            }
        };
        self.bytes += row_size(&new);
        // A `native` key's ON UPDATE action is the database's: it runs when
        // this row's key changes. Its rows are counted now, while they
        // still reference the old key.
        let native = tx.runs_native_actions();
        for &f in &ctx.graph.tables[table].incoming {
            let fk = ctx.fk(f);
            if !(native && fk.native && writes_rows(fk.on_update)) {
                continue;
            }
            let old_values = fk.parent_values(&old);
            if has_null(&old_values) || old_values == fk.parent_values(&new) {
                continue;
            }
            let mut count = 0u64;
            let mut after = None;
            loop {
                let page = ctx.children(tx, fk, &old_values, after.as_ref(), PAGE)?;
                count += page.len() as u64;
                match page.last() {
                    Some(last) if page.len() == PAGE => {
                        after = Some(ctx.child_position(fk, last));
                    }
                    _ => break,
                }
            }
            self.updated[fk.child] += count;
            self.count(count)?;
        }
        let name = &ctx.meta(table).name;
        tx.update(name, &key, &new)?;
        let new_key = ctx.pk_of(table, &new);
        if new_key != key {
            self.by_key.remove(&(table, key.clone()));
            self.by_key.insert((table, new_key.clone()), index);
            self.moved.insert((table, key.clone()), new_key.clone());
            self.touched[index].key = new_key.clone();
        }
        for &f in &ctx.graph.tables[table].incoming {
            let fk = ctx.fk(f);
            let old_values = fk.parent_values(&old);
            if has_null(&old_values) {
                continue;
            }
            let new_values = fk.parent_values(&new);
            if old_values == new_values {
                continue;
            }
            self.removed.push(Removed {
                fk: f,
                values: old_values.clone(),
                parent_key: key.clone(),
                operation: Operation::Update,
                action: fk.on_update,
            });
            let is_self = |child: TableId, child_key: &Key| child == table && *child_key == new_key;
            if native && fk.native && writes_rows(fk.on_update) {
                // The database rewrote them (counted above).
                continue;
            }
            match fk.on_update {
                Action::NoAction => {}
                Action::Restrict => {
                    // Decided on the state before the operation: rows that
                    // reference the old key now and did before, and rows this
                    // operation changed that referenced it before.
                    let mut after = None;
                    loop {
                        let page = ctx.children(tx, fk, &old_values, after.as_ref(), PAGE)?;
                        for child in &page {
                            let child_key = ctx.pk_of(fk.child, child);
                            if is_self(fk.child, &child_key) {
                                continue;
                            }
                            if let Some(&i) = self.by_key.get(&(fk.child, child_key.clone())) {
                                if fk.child_values(&self.touched[i].original) != old_values {
                                    continue;
                                }
                            }
                            return Err(self.restricted(table, &key, f, child_key));
                        }
                        match page.last() {
                            Some(last) if page.len() == PAGE => {
                                after = Some(ctx.child_position(fk, last));
                            }
                            _ => break,
                        }
                    }
                    if let Some(rows) = self.original_refs.get(&(f, old_values.clone())) {
                        if let Some(&i) = rows.iter().find(|&&i| {
                            let t = &self.touched[i];
                            !is_self(t.table, &t.key)
                        }) {
                            let child_key = self.touched[i].key.clone();
                            return Err(self.restricted(table, &key, f, child_key));
                        }
                    }
                }
                _ if self.set_based
                    && self.rewrite_children(tx, f, &old_values, &new_values)? => {}
                action => {
                    let mut children = Vec::new();
                    let mut after = None;
                    loop {
                        let page = ctx.children(tx, fk, &old_values, after.as_ref(), PAGE)?;
                        if let Some(last) = page.last() {
                            after = Some(ctx.child_position(fk, last));
                        }
                        let full = page.len() == PAGE;
                        children.extend(page);
                        if !full {
                            break;
                        }
                    }
                    // Pushed in reverse so that they are applied in scan order.
                    for child in children.into_iter().rev() {
                        let child_key = ctx.pk_of(fk.child, &child);
                        if self.is_deleted(fk.child, &child_key) {
                            continue;
                        }
                        // This arm is CASCADE, SET NULL or SET DEFAULT: always Some.
                        let Some(set) = update_action_values(ctx, fk, &new_values) else {
                            continue;
                        };
                        stack.push(Patch {
                            table: fk.child,
                            key: child_key,
                            set,
                            cause: Cause::Action {
                                fk: f,
                                parent_table: table,
                                parent_key: key.clone(),
                                action,
                                delete: false,
                            },
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the ON UPDATE action of `f` for the rows referencing
    /// `old_values` (now `new_values`) as one set-based statement, when it
    /// [rewrites alone](rewrites_alone); returns false when it must run row
    /// by row instead (also when a SET DEFAULT's default key has no parent:
    /// row by row, the refusal names the row).
    fn rewrite_children(
        &mut self,
        tx: &mut dyn Transaction,
        f: FkId,
        old_values: &[Value],
        new_values: &[Value],
    ) -> Result<bool, Error> {
        let ctx = self.ctx;
        let fk = ctx.fk(f);
        let policed = ctx.policy.is_some_and(|scope| scope.guards(fk.child));
        if !rewrites_alone(ctx, f) || self.deleted.may_contain(fk.child) || policed {
            return Ok(false);
        }
        let Some(mut set) = update_action_values(ctx, fk, new_values) else {
            return Ok(false);
        };
        if ctx.normalize_set(fk.child, &mut set).is_err() {
            // Row by row, the refusal names the row.
            return Ok(false);
        }
        if fk.on_update == Action::SetDefault {
            let values: Key = set.iter().map(|(_, value)| value.clone()).collect();
            if !has_null(&values) && ctx.parent(tx, fk, &values)?.is_none() {
                return Ok(false);
            }
        }
        let range = ctx.child_range(fk)?;
        let prefixes = [ctx.index_prefix(fk, old_values)];
        let scan = ChildScan::new(&range, &prefixes, usize::MAX);
        let written = tx.update_children(&ChildWrite::new(scan), &set)?;
        self.updated[fk.child] += written.rows;
        self.bytes += written.bytes;
        self.count(written.rows)?;
        Ok(true)
    }

    /// Asks the policies of `table` about the change of `row` (an update's
    /// rows: a delete asked them in its check pass).
    fn ask(&self, table: TableId, row: &[Value], cause: &Cause) -> Result<(), Error> {
        if self.ctx.policy.is_none() {
            return Ok(());
        }
        let asked = match cause {
            // A delete's own rows and the rows its actions set were asked
            // in its check pass.
            Cause::Root if self.root.0 != Operation::Update => return Ok(()),
            Cause::Action { delete: true, .. } => return Ok(()),
            Cause::Root => Asked {
                table,
                row,
                change: RowChange::Update,
                fk: None,
                parent: None,
            },
            Cause::Action {
                fk,
                parent_table,
                parent_key,
                action,
                ..
            } => Asked {
                table,
                row,
                change: match action {
                    Action::SetNull => RowChange::SetNull,
                    Action::SetDefault => RowChange::SetDefault,
                    _ => RowChange::KeyRewrite,
                },
                fk: Some(*fk),
                parent: Some((*parent_table, parent_key.clone())),
            },
        };
        self.ctx.ask(self.root.0, asked)
    }

    fn restricted(&self, table: TableId, key: &Key, fk: FkId, child_key: Key) -> Error {
        Error::Restricted {
            operation: Operation::Update,
            table: self.ctx.meta(table).name.clone(),
            key: key.clone(),
            foreign_key: self.ctx.fk(fk).name.clone(),
            child_key,
            via: CascadePath::default(),
        }
    }

    /// The end check: every row the operation wrote references existing
    /// parents, and no row references a key that disappeared.
    pub(crate) fn finish(&self, tx: &mut dyn Transaction) -> Result<(), Error> {
        let ctx = self.ctx;
        for touched in &self.touched {
            let name = &ctx.meta(touched.table).name;
            let Some(row) = tx.get(name, &touched.key)? else {
                continue;
            };
            for &f in &ctx.graph.tables[touched.table].outgoing {
                let fk = ctx.fk(f);
                let values = fk.child_values(&row);
                if has_null(&values) || values == fk.child_values(&touched.original) {
                    continue;
                }
                if ctx.parent(tx, fk, &values)?.is_some() {
                    continue;
                }
                return Err(match &touched.cause {
                    Cause::Action {
                        fk: cause_fk,
                        parent_table,
                        parent_key,
                        action: Action::SetDefault,
                        delete,
                    } if *cause_fk == f => Error::MissingDefault {
                        operation: if *delete {
                            Operation::Delete
                        } else {
                            Operation::Update
                        },
                        table: ctx.meta(*parent_table).name.clone(),
                        key: parent_key.clone(),
                        foreign_key: fk.name.clone(),
                        child_key: touched.key.clone(),
                        deleted: self.default_parent_deleted(fk.parent, &fk.parent_lookup, &values),
                        default_key: values,
                        via: CascadePath::default(),
                    },
                    _ => Error::MissingParent {
                        operation: Operation::Update,
                        table: name.clone(),
                        key: touched.key.clone(),
                        foreign_key: fk.name.clone(),
                        parent_key: values,
                    },
                });
            }
        }
        if self.every_edge {
            return self.finish_every_edge(tx);
        }
        for removed in &self.removed {
            let fk = ctx.fk(removed.fk);
            if ctx.parent(tx, fk, &removed.values)?.is_some() {
                continue;
            }
            if let Some(child_key) = ctx.first_child(tx, fk, &removed.values, None)? {
                return Err(self.still_referenced(removed, child_key));
            }
        }
        Ok(())
    }

    fn still_referenced(&self, removed: &Removed, child_key: Key) -> Error {
        let ctx = self.ctx;
        let fk = ctx.fk(removed.fk);
        if self.every_edge && removed.action == Action::Restrict {
            return Error::Restricted {
                operation: removed.operation,
                table: ctx.meta(fk.parent).name.clone(),
                key: removed.parent_key.clone(),
                foreign_key: fk.name.clone(),
                child_key,
                via: CascadePath::default(),
            };
        }
        Error::StillReferenced {
            operation: removed.operation,
            table: ctx.meta(fk.parent).name.clone(),
            key: removed.parent_key.clone(),
            foreign_key: fk.name.clone(),
            action: removed.action,
            child_key,
            via: CascadePath::default(),
        }
    }

    /// The end check of a batch: no row references a row it deleted. A
    /// batch deletes rows and nothing else writes in its transaction, so a
    /// deleted key cannot be back; the referencing rows of a single-column
    /// indexed key are looked for [`END_CHECK_PARENTS`] parents at a time
    /// (the store splits them as its statements need).
    fn finish_every_edge(&self, tx: &mut dyn Transaction) -> Result<(), Error> {
        let ctx = self.ctx;
        let mut by_fk: HashMap<FkId, Vec<&Removed>> = HashMap::new();
        for removed in &self.removed {
            by_fk.entry(removed.fk).or_default().push(removed);
        }
        let mut fks: Vec<FkId> = by_fk.keys().copied().collect();
        fks.sort_unstable();
        for f in fks {
            let fk = ctx.fk(f);
            let entries = &by_fk[&f];
            let windowed =
                fk.child_columns.len() == 1 && matches!(fk.children, Lookup::Index { .. });
            if !windowed {
                for removed in entries {
                    if let Some(child_key) = ctx.first_child(tx, fk, &removed.values, None)? {
                        return Err(self.still_referenced(removed, child_key));
                    }
                }
                continue;
            }
            let mut columns = ctx.graph.tables[fk.child].pk.clone();
            columns.extend(&fk.child_columns);
            for chunk in entries.chunks(END_CHECK_PARENTS) {
                let values: Vec<Key> = chunk.iter().map(|r| r.values.clone()).collect();
                let projection = Projection::Columns {
                    columns: &columns,
                    sizes: false,
                };
                let found = ctx.children_of(tx, fk, &values, None, 1, projection)?;
                if let Some((child, _)) = found.first() {
                    let child_values = fk.child_values(child);
                    let removed = chunk
                        .iter()
                        .find(|r| r.values == child_values)
                        .unwrap_or(&chunk[0]);
                    return Err(self.still_referenced(removed, ctx.pk_of(fk.child, child)));
                }
            }
        }
        Ok(())
    }

    /// Whether the row holding a SET DEFAULT's default key was deleted by
    /// this operation (known when the key is the parent's primary key).
    fn default_parent_deleted(&self, parent: TableId, access: &Lookup, values: &[Value]) -> bool {
        match access {
            Lookup::Index {
                index: IndexRef::PrimaryKey,
                order,
                ..
            } => {
                let key: Key = order.iter().map(|&k| values[k].clone()).collect();
                self.is_deleted(parent, &key)
            }
            _ => false,
        }
    }
}
