//! The bottom-up delete executor: a row is deleted only after every row
//! referencing it has been deleted, set to NULL or set to its default.
//!
//! Its whole position is an explicit, serialisable [`DeleteStack`] of
//! [`Frame`]s — a table, at most `batch_rows` primary keys of rows to delete
//! once their referencing rows are handled, and where the scan of their
//! referencing rows stands — so memory is bounded by depth × batch size,
//! whatever the fan-out. [`DeleteStack::run`] consumes a [`Budget`] (rows
//! written, bytes written, rows read) and stops at the first safe point past
//! it: `sync` runs it with an unlimited budget inside one transaction; the
//! batched engine runs one budget per transaction and persists the stack in
//! the jobs table in the same transaction.
//!
//! Data cycles: a referencing row already on the stack (a self-reference, or
//! a cycle through several tables) is skipped — it is deleted when its own
//! frame completes. Between the deletion of the referenced rows and that
//! frame's completion, a row references a deleted one, so the stack records a
//! barrier: no commit may happen until the frame holding the cycle's first
//! row is done, and rows on a data cycle are deleted in one transaction.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::changes::{Cause, Changes, Patch, defaults};
use crate::error::{Error, Operation};
use crate::graph::{TableId, has_null};
use crate::lookup::Ctx;
use crate::metadata::{Action, Name};
use crate::store::{ScanPosition, Transaction};
use crate::value::{Key, Row, Value};

/// Limits on the work of one transaction; `None` is unlimited. The executor
/// stops at the first safe point after any limit is reached, so a batch may
/// pass a limit by at most one batch of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Budget {
    pub(crate) rows_written: Option<u64>,
    pub(crate) bytes_written: Option<u64>,
    pub(crate) rows_read: Option<u64>,
}

/// Work done so far against a [`Budget`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) rows_written: u64,
    pub(crate) bytes_written: u64,
    pub(crate) rows_read: u64,
}

impl Budget {
    fn exhausted(&self, usage: &Usage) -> bool {
        let over = |limit: Option<u64>, used: u64| limit.is_some_and(|limit| used >= limit);
        over(self.rows_written, usage.rows_written)
            || over(self.bytes_written, usage.bytes_written)
            || over(self.rows_read, usage.rows_read)
    }
}

/// Whether [`DeleteStack::run`] finished the delete or stopped on its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    Done,
    Paused,
}

/// Rows of one table waiting for their referencing rows to be handled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Frame {
    /// SQL name of the table.
    table: Name,
    /// Primary keys of the rows to delete (at most a batch).
    keys: Vec<Key>,
    /// Position in the table's incoming foreign keys.
    fk: usize,
    /// Position in `keys` of the parent whose children are being scanned.
    key: usize,
    /// Where the scan of that parent's children stands.
    after: Option<ScanPosition>,
    /// The rows of `keys`, loaded on first use (not persisted).
    #[serde(skip)]
    rows: Option<Vec<Row>>,
}

/// The executor's whole state: the roots still to delete and the stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeleteStack {
    /// SQL name of the roots' table.
    root_table: Name,
    /// Primary keys of the roots, in the order given.
    roots: Vec<Key>,
    /// How many roots have been pushed.
    next_root: usize,
    /// Most rows per frame.
    batch_rows: usize,
    frames: Vec<Frame>,
    /// No commit until the stack is at most this deep (a data cycle is being
    /// deleted).
    barrier: Option<usize>,
    /// (table, key) → depth of the frame holding it (rebuilt after load).
    #[serde(skip)]
    on_stack: HashMap<(TableId, Key), usize>,
}

impl DeleteStack {
    /// A stack that deletes the rows of `root_table` with keys `roots`.
    pub(crate) fn new(root_table: Name, roots: Vec<Key>, batch_rows: usize) -> Self {
        DeleteStack {
            root_table,
            roots,
            next_root: 0,
            batch_rows: batch_rows.max(1),
            frames: Vec::new(),
            barrier: None,
            on_stack: HashMap::new(),
        }
    }

    fn resolve(ctx: Ctx<'_>, name: &str) -> Result<TableId, Error> {
        ctx.graph.table_id(name).ok_or_else(|| Error::UnknownTable {
            table: name.to_owned(),
        })
    }

    /// Whether a commit may happen now (no data cycle half deleted).
    pub(crate) fn may_commit(&self) -> bool {
        self.barrier.is_none_or(|depth| self.frames.len() <= depth)
    }

    fn push(&mut self, table: TableId, name: Name, rows: Vec<Row>, ctx: Ctx<'_>) {
        let depth = self.frames.len();
        let keys: Vec<Key> = rows.iter().map(|row| ctx.pk_of(table, row)).collect();
        for key in &keys {
            self.on_stack.insert((table, key.clone()), depth);
        }
        self.frames.push(Frame {
            table: name,
            keys,
            fk: 0,
            key: 0,
            after: None,
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
                rows.push(row);
                keys.push(key.clone());
            }
        }
        if keys.len() != frame.keys.len() {
            frame.key = 0;
            frame.after = None;
        }
        frame.keys = keys;
        frame.rows = Some(rows);
        for key in &frame.keys {
            self.on_stack.insert((table, key.clone()), depth);
        }
        Ok(())
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
        if self.on_stack.is_empty() && !self.frames.is_empty() {
            for depth in 0..self.frames.len() {
                let table = Self::resolve(ctx, &self.frames[depth].table)?;
                for key in &self.frames[depth].keys {
                    self.on_stack.insert((table, key.clone()), depth);
                }
            }
        }
        loop {
            if budget.exhausted(usage) && self.may_commit() {
                self.barrier = None;
                return Ok(Progress::Paused);
            }
            if self.frames.is_empty() {
                if self.next_root >= self.roots.len() {
                    self.barrier = None;
                    return Ok(Progress::Done);
                }
                let table = Self::resolve(ctx, &self.root_table)?;
                let end = (self.next_root + self.batch_rows).min(self.roots.len());
                let mut rows = Vec::new();
                for key in &self.roots[self.next_root..end] {
                    usage.rows_read += 1;
                    if self.on_stack.contains_key(&(table, key.clone())) {
                        continue;
                    }
                    if let Some(row) = tx.get(&self.root_table, key)? {
                        if !rows.iter().any(|r: &Row| ctx.pk_of(table, r) == *key) {
                            rows.push(row);
                        }
                    }
                }
                self.next_root = end;
                if !rows.is_empty() {
                    let name = self.root_table.clone();
                    self.push(table, name, rows, ctx);
                }
                continue;
            }
            self.load(ctx, tx, usage)?;
            self.step(ctx, tx, changes, usage, deleted)?;
        }
    }

    /// One step on the top frame: scan a batch of referencing rows through
    /// the current foreign key, or delete the frame's rows.
    fn step(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        changes: &mut Changes<'_>,
        usage: &mut Usage,
        deleted: &mut [u64],
    ) -> Result<(), Error> {
        let depth = self.frames.len() - 1;
        let table = Self::resolve(ctx, &self.frames[depth].table)?;
        let incoming = &ctx.graph.tables[table].incoming;
        let frame = &self.frames[depth];
        if frame.fk >= incoming.len() {
            // Every referencing row is handled: delete the frame's rows.
            let Some(frame) = self.frames.pop() else {
                return Ok(());
            };
            for key in &frame.keys {
                self.on_stack.remove(&(table, key.clone()));
            }
            let rows = frame.rows.unwrap_or_default();
            let count = tx.delete_many(&frame.table, &frame.keys)?;
            let bytes = changes.bytes;
            for row in &rows {
                changes.record_deleted(table, row);
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
            return Ok(());
        }
        let f = incoming[frame.fk];
        let fk = ctx.fk(f);
        // A RESTRICT / NO ACTION edge only needs work for referencing rows
        // the operation deletes; the plan has checked the others.
        if matches!(fk.on_delete, Action::Restrict | Action::NoAction)
            && !changes.deleted().may_contain(fk.child)
        {
            self.next_fk(depth);
            return Ok(());
        }
        let child_name = ctx.meta(fk.child).name.clone();
        let mut to_delete: Vec<Row> = Vec::new();
        let mut to_update: Vec<(Key, Key)> = Vec::new();
        loop {
            let frame = &self.frames[depth];
            let rows = frame.rows.as_deref().unwrap_or_default();
            let Some(parent) = rows.get(frame.key) else {
                break;
            };
            let parent_key = frame.keys[frame.key].clone();
            let values = fk.parent_values(parent);
            if has_null(&values) {
                self.next_key(depth);
                continue;
            }
            let wanted = self.batch_rows - to_delete.len();
            let page = ctx.children(tx, fk, &values, frame.after.as_ref(), wanted)?;
            usage.rows_read += page.len() as u64;
            if let Some(last) = page.last() {
                self.frames[depth].after = Some(ctx.child_position(fk, last));
            }
            let exhausted = page.len() < wanted;
            for child in page {
                let child_key = ctx.pk_of(fk.child, &child);
                if let Some(&at) = self.on_stack.get(&(fk.child, child_key.clone())) {
                    // A data cycle: the row is deleted with its own frame;
                    // until then no commit.
                    if at < depth {
                        self.barrier = Some(self.barrier.map_or(at, |b| b.min(at)));
                    }
                    continue;
                }
                let member = || changes.is_deleted(fk.child, &child_key);
                match fk.on_delete {
                    Action::Cascade => to_delete.push(child),
                    Action::Restrict => {
                        return Err(Error::Restricted {
                            operation: Operation::Delete,
                            table: ctx.meta(table).name.clone(),
                            key: parent_key,
                            foreign_key: fk.name.clone(),
                            child_key,
                        });
                    }
                    _ if member() => to_delete.push(child),
                    Action::NoAction => {}
                    _ => to_update.push((child_key, parent_key.clone())),
                }
            }
            if exhausted {
                self.next_key(depth);
            }
            if to_delete.len() >= self.batch_rows || !to_update.is_empty() {
                break;
            }
        }
        let (written, bytes) = (changes.written, changes.bytes);
        for (child_key, parent_key) in to_update {
            let set = match fk.on_delete {
                Action::SetNull => fk.child_columns.iter().map(|&c| (c, Value::Null)).collect(),
                _ => defaults(ctx, fk.child, &fk.child_columns),
            };
            changes.apply(
                tx,
                Patch {
                    table: fk.child,
                    key: child_key,
                    set,
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
        usage.rows_written += changes.written - written;
        usage.bytes_written += changes.bytes - bytes;
        if !to_delete.is_empty() {
            self.push(fk.child, child_name, to_delete, ctx);
        } else if self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
        }
        Ok(())
    }

    fn next_key(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.key += 1;
        frame.after = None;
    }

    fn next_fk(&mut self, depth: usize) {
        let frame = &mut self.frames[depth];
        frame.fk += 1;
        frame.key = 0;
        frame.after = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::{DeleteOptions, delete_sync};
    use crate::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta};
    use crate::plan::plan_delete;
    use crate::schema::Schema;
    use crate::store::{Access, MemoryStore, Store};
    use crate::value::ValueType;

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
                    &crate::IndexRange::new(*t, IndexRef::PrimaryKey),
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
        let mut state = serde_json::to_string(&DeleteStack::new("orgs".into(), roots, 2)).unwrap();
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
