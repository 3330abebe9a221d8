//! Referencing rows read and decided one by one: CASCADE rows that need
//! their own referencing rows handled first (pushed as a frame), RESTRICT
//! and NO ACTION rows (refused, or freed), SET NULL / SET DEFAULT on rows
//! that may be deleted too or hit by several actions (membership by upward
//! search in batched mode).

use super::{DeleteStack, Run};
use crate::engine::actions::action_values;
use crate::engine::context::{Ctx, Projection};
use crate::engine::execute::changes::{Cause, Patch};
use crate::engine::execute::membership::Upward;
use crate::model::error::{CascadePath, Error, Operation};
use crate::model::graph::{FkEdge, FkId, Lookup, TableId, has_null};
use crate::model::metadata::Action;
use crate::model::position::ScanPosition;
use crate::model::value::{Key, Row, Value};
use crate::store::scan::row_size;

/// A NO ACTION row freed by the delete's SET NULL / SET DEFAULT actions:
/// the row once they hit it, and the actions with their deleted parents.
type Freed = (Row, Vec<(FkId, Key)>);

/// What one page of referencing rows asks the executor to write.
#[derive(Default)]
struct Writes {
    /// Rows to push as a frame (CASCADE, or members of the delete).
    delete: Vec<(Row, u64)>,
    /// (row, deleted parent) pairs to update with this edge's action.
    update: Vec<(Key, Key)>,
    /// Rows to update with every SET NULL / SET DEFAULT that hits them.
    free: Vec<(Key, Vec<(FkId, Key)>)>,
    /// Bytes the updates will write (the rows after the update).
    bytes: u64,
}

impl Writes {
    fn rows(&self) -> usize {
        self.update.len() + self.free.len()
    }
}

impl DeleteStack {
    /// Reads a page of the rows referencing the top frame's rows (of
    /// `table`) through `f` and decides each; pushes the CASCADE rows as a
    /// frame and applies the updates, within the budget. Returns true when
    /// the byte budget stopped it, or when not one more CASCADE row fits
    /// the batch whole ([`frame_size`](DeleteStack::frame_size)).
    pub(super) fn scan_rows(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
        f: FkId,
    ) -> Result<bool, Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let depth = self.frames.len() - 1;
        let upward_needed =
            self.batched && fk.on_delete != Action::Cascade && self.reachable()[fk.child];
        if upward_needed || (self.batched && fk.on_delete == Action::NoAction) {
            self.load_root_set(run.tx)?;
        }
        let mut writes = Writes::default();
        let mut full = false;
        let frame_rows = if fk.on_delete == Action::Cascade {
            self.frame_size(run, fk.child)
        } else {
            self.frame_rows(ctx, fk.child)
        };
        if frame_rows == 0 {
            // Not one more referencing row fits whole: the next batch
            // takes them.
            return Ok(true);
        }
        while let Some(parents) = self.next_parents(fk, depth) {
            if parents.is_empty() {
                self.next_key(depth);
                continue;
            }
            let wanted = self.wanted(run, fk, frame_rows, &writes);
            let after = self.frames[depth].after.clone();
            let page = self.read_page(run, fk, &parents, after.as_ref(), wanted)?;
            run.usage.rows_read += page.len() as u64;
            let exhausted = page.len() < wanted;
            let decided = self.decide(run, table, f, &parents, page, &mut writes)?;
            match decided {
                Some(position) => {
                    // The byte budget cut the page: resume after the last
                    // row decided.
                    if position.is_some() {
                        self.frames[depth].after = position;
                    }
                    full = true;
                    break;
                }
                None if exhausted => self.next_key(depth),
                None => {}
            }
            if writes.delete.len() >= frame_rows || writes.rows() > 0 {
                break;
            }
        }
        self.apply(run, table, f, writes.update, writes.free)?;
        if !writes.delete.is_empty() {
            let child = ctx.meta(fk.child).name.clone();
            self.push(run, fk.child, child, writes.delete);
        } else if !full && self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
        }
        Ok(full)
    }

    /// The parents (row position in the frame, values in the foreign key's
    /// order) of the next window of the top frame for `fk`, without those
    /// with a NULL; `None` when the frame has no row left.
    fn next_parents(&mut self, fk: &FkEdge, depth: usize) -> Option<Vec<(usize, Key)>> {
        let windowed = fk.child_columns.len() == 1 && matches!(fk.children, Lookup::Index { .. });
        let frame = &mut self.frames[depth];
        let rows = frame.rows.as_deref().unwrap_or_default();
        if frame.key >= rows.len() {
            return None;
        }
        let window = if !windowed {
            1
        } else if frame.after.is_none() {
            self.window.min(rows.len() - frame.key)
        } else {
            frame.window.clamp(1, rows.len() - frame.key)
        };
        frame.window = window;
        Some(
            (frame.key..frame.key + window)
                .map(|i| (i, fk.parent_values(&rows[i].0)))
                .filter(|(_, values)| !has_null(values))
                .collect(),
        )
    }

    /// How many referencing rows to read next: what the pushed frame has
    /// room for, and for the actions that write, no more than the rows
    /// budget allows.
    fn wanted(&self, run: &Run<'_, '_>, fk: &FkEdge, frame_rows: usize, writes: &Writes) -> usize {
        let mut wanted = frame_rows.saturating_sub(writes.delete.len()).max(1);
        if matches!(fk.on_delete, Action::SetNull | Action::SetDefault) {
            let room = (self.rows_left(run) as u64).saturating_sub(writes.rows() as u64);
            wanted = wanted.min(room.max(1).try_into().unwrap_or(usize::MAX));
        }
        wanted
    }

    /// One page of the rows referencing `parents` through `fk`, with their
    /// sizes: only the columns a frame needs for CASCADE rows.
    fn read_page(
        &self,
        run: &mut Run<'_, '_>,
        fk: &FkEdge,
        parents: &[(usize, Key)],
        after: Option<&ScanPosition>,
        wanted: usize,
    ) -> Result<Vec<(Row, u64)>, Error> {
        let ctx = run.ctx;
        let windowed = fk.child_columns.len() == 1 && matches!(fk.children, Lookup::Index { .. });
        if windowed {
            let columns = (fk.on_delete == Action::Cascade).then(|| frame_columns(ctx, fk));
            // Sizes count only against a byte limit.
            let sizes = run.budget.bytes_written.is_some();
            let projection = match &columns {
                Some(columns) => Projection::Columns { columns, sizes },
                None => Projection::Rows,
            };
            let prefixes: Vec<Key> = parents.iter().map(|(_, v)| v.clone()).collect();
            return ctx.children_of(run.tx, fk, &prefixes, after, wanted, projection);
        }
        Ok(ctx
            .children(run.tx, fk, &parents[0].1, after, wanted)?
            .into_iter()
            .map(|row| {
                let size = row_size(&row);
                (row, size)
            })
            .collect())
    }

    /// Decides each row of `page` (referencing `parents` of the frame's
    /// table `table` through `f`) into `writes`, or refuses. Returns
    /// `Some(position)` when the byte budget stopped it before a row (the
    /// position after the last row decided; `None` inside: none was), and
    /// `None` when every row was decided.
    fn decide(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
        f: FkId,
        parents: &[(usize, Key)],
        page: Vec<(Row, u64)>,
        writes: &mut Writes,
    ) -> Result<Option<Option<ScanPosition>>, Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let depth = self.frames.len() - 1;
        let cyclic = ctx.graph.tables[fk.child].in_cycle;
        let mut last: Option<ScanPosition> = None;
        for (child, size) in page {
            let position = ctx.child_position(fk, &child);
            let child_key = ctx.pk_of(fk.child, &child);
            let on_stack = if cyclic {
                self.on_stack.get(&(fk.child, child_key.clone())).copied()
            } else {
                None
            };
            let parent_key = self.parent_of(fk, parents, &child, depth);
            if let Some(at) = on_stack {
                // A data cycle: the row is deleted with its own frame; until
                // then no commit.
                if at < depth {
                    self.barrier = Some(self.barrier.map_or(at, |b| b.min(at)));
                } else if at == depth && !(fk.child == table && child_key == parent_key) {
                    self.frames[depth].atomic = true;
                }
            } else if fk.on_delete == Action::Cascade {
                writes.delete.push((child, size));
            } else if !self.decide_one(run, table, f, (child, size), parent_key, writes)? {
                return Ok(Some(last));
            }
            last = Some(position);
        }
        if let Some(position) = last {
            self.frames[depth].after = Some(position);
        }
        Ok(None)
    }

    /// The key of the frame row that `child` references through `fk`.
    fn parent_of(&self, fk: &FkEdge, parents: &[(usize, Key)], child: &Row, depth: usize) -> Key {
        let values = fk.child_values(child);
        parents
            .iter()
            .find(|(_, v)| *v == values)
            .map_or_else(Key::new, |(i, _)| self.frames[depth].keys[*i].clone())
    }

    /// Decides one row that references, through the non-CASCADE `f`, the
    /// row `parent_key` of the frame's table `table`. Returns false when the
    /// byte budget has no room for its update (nothing is recorded then).
    fn decide_one(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
        f: FkId,
        (child, size): (Row, u64),
        parent_key: Key,
        writes: &mut Writes,
    ) -> Result<bool, Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let child_key = ctx.pk_of(fk.child, &child);
        let refusal = |action: Option<Action>| -> Error {
            let (table, key, foreign_key) = (
                ctx.meta(table).name.clone(),
                parent_key.clone(),
                fk.name.clone(),
            );
            match action {
                None => Error::Restricted {
                    operation: Operation::Delete,
                    table,
                    key,
                    foreign_key,
                    child_key: child_key.clone(),
                    via: CascadePath::default(),
                },
                Some(action) => Error::StillReferenced {
                    operation: Operation::Delete,
                    table,
                    key,
                    foreign_key,
                    action,
                    child_key: child_key.clone(),
                    via: CascadePath::default(),
                },
            }
        };
        if fk.on_delete == Action::Restrict {
            return Err(refusal(None));
        }
        let member = if self.batched {
            self.reachable()[fk.child] && self.upward_contains(run, fk.child, &child)?
        } else {
            run.changes.is_deleted(fk.child, &child_key)
        };
        if member {
            writes.delete.push((child, size));
            return Ok(true);
        }
        if fk.on_delete != Action::NoAction {
            if self.batched && self.several_actions(ctx, fk.child) {
                // Every SET NULL / SET DEFAULT of the delete that hits the
                // row, at once: a later batch must not update (and count) it
                // again.
                self.load_root_set(run.tx)?;
                let end = self.final_row(run, fk.child, &child)?;
                let fits = !self.may_commit() || writes.room(run, row_size(&end.row));
                return Ok(fits && writes.take_free(child_key, row_size(&end.row), end.hits));
            }
            let mut after = child;
            for (column, value) in action_values(ctx, fk) {
                after[column] = value;
            }
            let fits = !self.may_commit() || writes.room(run, row_size(&after));
            return Ok(fits && writes.take_update(child_key, row_size(&after), parent_key));
        }
        if !self.batched {
            return Ok(true);
        }
        // NO ACTION outside the delete: fine only if another action of the
        // delete frees it. Apply that action now, so that the parent may go
        // in this batch.
        match self.freeing(run, f, &child)? {
            Some((row, hits)) => {
                let fits = !self.may_commit() || writes.room(run, row_size(&row));
                Ok(fits && writes.take_free(child_key, row_size(&row), hits))
            }
            None => Err(refusal(Some(Action::NoAction))),
        }
    }

    /// Applies the updates of a page: `update` with `f`'s action, `free`
    /// with every action that hits each row.
    fn apply(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
        f: FkId,
        update: Vec<(Key, Key)>,
        free: Vec<(Key, Vec<(FkId, Key)>)>,
    ) -> Result<(), Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let (written, bytes) = (run.changes.written, run.changes.bytes);
        for (child_key, parent_key) in update {
            run.changes.apply(
                run.tx,
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
        for (child_key, hits) in free {
            for (hit, parent_key) in hits {
                let edge = ctx.fk(hit);
                run.changes.apply(
                    run.tx,
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
        run.usage.rows_written += run.changes.written - written;
        run.usage.bytes_written += run.changes.bytes - bytes;
        Ok(())
    }

    /// The upward search of the delete (batched mode).
    fn upward<'u>(&'u self, ctx: Ctx<'_>) -> Result<Option<Upward<'u>>, Error> {
        let (Some(roots), Some(reachable)) = (&self.root_set, &self.reachable) else {
            return Ok(None);
        };
        Ok(Some(Upward {
            root_table: Self::resolve(ctx, &self.root_table)?,
            roots,
            reachable,
        }))
    }

    /// Batched mode: whether the delete removes `row` of `table`.
    fn upward_contains(
        &self,
        run: &mut Run<'_, '_>,
        table: TableId,
        row: &[Value],
    ) -> Result<bool, Error> {
        let Some(upward) = self.upward(run.ctx)? else {
            return Ok(false);
        };
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        upward.contains(run.ctx, run.tx, &known, table, row)
    }

    /// Whether rows of `table` may be hit by several SET NULL / SET DEFAULT
    /// actions of the delete (two such foreign keys to reachable tables).
    fn several_actions(&self, ctx: Ctx<'_>, table: TableId) -> bool {
        let reachable = self.reachable();
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

    /// Batched mode: `row` of `table` once every SET NULL / SET DEFAULT of
    /// the delete has hit it, with the actions that hit it.
    fn final_row(
        &self,
        run: &mut Run<'_, '_>,
        table: TableId,
        row: &[Value],
    ) -> Result<crate::engine::execute::membership::FinalRow, Error> {
        let Some(upward) = self.upward(run.ctx)? else {
            return Ok(crate::engine::execute::membership::FinalRow {
                row: row.to_vec(),
                hits: Vec::new(),
            });
        };
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        upward.final_row(run.ctx, run.tx, &known, table, row)
    }

    /// Batched mode: the row a NO ACTION referencing row through `f`
    /// outside the delete becomes once the SET NULL / SET DEFAULT actions of
    /// the delete that free it hit it, with those actions; `None` when
    /// nothing frees it.
    fn freeing(
        &self,
        run: &mut Run<'_, '_>,
        f: FkId,
        row: &[Value],
    ) -> Result<Option<Freed>, Error> {
        let Some(upward) = self.upward(run.ctx)? else {
            return Ok(None);
        };
        let fk = run.ctx.fk(f);
        let stack = &self.on_stack;
        let known = |t: TableId, k: &[Value]| stack.contains_key(&(t, k.to_vec()));
        let end = upward.final_row(run.ctx, run.tx, &known, fk.child, row)?;
        let now = fk.child_values(&end.row);
        let freed = has_null(&now)
            || (now != fk.child_values(row)
                && upward.survives(run.ctx, run.tx, &known, f, &now)?);
        Ok(freed.then_some((end.row, end.hits)))
    }
}

impl Writes {
    /// Takes the update of `child_key` (`size` bytes after it) with the
    /// edge's action (the caller checked the budget's room).
    fn take_update(&mut self, child_key: Key, size: u64, parent: Key) -> bool {
        self.bytes += size;
        self.update.push((child_key, parent));
        true
    }

    /// Takes the update of `child_key` (`size` bytes after it) with every
    /// action in `hits` (the caller checked the budget's room).
    fn take_free(&mut self, child_key: Key, size: u64, hits: Vec<(FkId, Key)>) -> bool {
        self.bytes += size;
        self.free.push((child_key, hits));
        true
    }

    /// Whether one more row of `size` bytes fits the budget after the
    /// updates taken so far (the first write of a batch always fits).
    fn room(&self, run: &Run<'_, '_>, size: u64) -> bool {
        let first = run.usage.rows_written == 0 && self.rows() == 0;
        let rows_fit = (self.rows() as u64) < run.budget.rows_left(run.usage);
        let bytes_fit = self.bytes + size <= run.budget.bytes_left(run.usage);
        first || (rows_fit && bytes_fit)
    }
}

/// The columns of `fk`'s child rows the executor reads once they are on the
/// stack: the primary key, the columns any foreign key references (to find
/// their own children), and the index of `fk`'s scan (its resume position).
fn frame_columns(ctx: Ctx<'_>, fk: &FkEdge) -> Vec<usize> {
    let node = &ctx.graph.tables[fk.child];
    let mut columns: Vec<usize> = node.pk.clone();
    for &g in &node.incoming {
        columns.extend(&ctx.fk(g).parent_columns);
    }
    if let Lookup::Index { columns: index, .. } = &fk.children {
        columns.extend(index);
    }
    columns.sort_unstable();
    columns.dedup();
    columns
}
