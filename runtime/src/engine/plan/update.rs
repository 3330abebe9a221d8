//! The read-only count of an update, for `max_rows`: how many rows the
//! update and its ON UPDATE actions would write, counted before anything is
//! written.
//!
//! [`count_update`] follows the update as [`Changes`](crate::engine::execute::changes)
//! would run it, on the state before the operation: each row whose new
//! values differ from its old ones is counted once, and each foreign key
//! whose referenced values it changes (MATCH SIMPLE: an old key with a NULL
//! is referenced by nothing) leads, through CASCADE, SET NULL or SET
//! DEFAULT, to the rows referencing the old values, with the action's
//! values. RESTRICT and NO ACTION write nothing and are left to the
//! execution, which refuses them. The count stops — and the update fails
//! with [`Error::TooManyRows`] — as soon as it passes the limit, so its
//! memory is bounded by the limit.
//!
//! The count is a lower bound of what the execution counts (the execution
//! applies a second action on a row to its already changed values, which can
//! only reach more rows), so it never refuses an update that the execution
//! would let through; the execution keeps its own exact check.

use std::collections::HashSet;

use super::PAGE;
use crate::engine::actions::{rewrites_alone, update_action_values};
use crate::engine::context::Ctx;
use crate::model::error::{Error, Operation};
use crate::model::graph::{FkId, TableId, has_null};
use crate::model::value::{Key, Row};
use crate::store::ChildScan;
use crate::store::Transaction;

/// Counts the rows that replacing `rows` (current primary key, new row) of
/// `table` would write, with every ON UPDATE action, and fails with
/// [`Error::TooManyRows`] as soon as the count passes `limit`.
pub(crate) fn count_update(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    rows: &[(Key, Row)],
    limit: u64,
) -> Result<(), Error> {
    let mut count = Count {
        counted: HashSet::new(),
        uncounted: 0,
        limit,
        root: (
            table,
            rows.first().map(|(key, _)| key.clone()).unwrap_or_default(),
        ),
    };
    // Each (row, foreign key) is followed once, which ends data cycles.
    let mut followed: HashSet<(FkId, Key)> = HashSet::new();
    let mut stack: Vec<(TableId, Row, Row)> = Vec::new();
    for (key, new) in rows {
        if let Some(old) = tx.get(&ctx.meta(table).name, key)? {
            count.add(ctx, &mut stack, table, old, new.clone())?;
        }
    }
    while let Some((table, old, new)) = stack.pop() {
        let key = ctx.pk_of(table, &old);
        for &f in &ctx.graph.tables[table].incoming {
            let fk = ctx.fk(f);
            let old_values = fk.parent_values(&old);
            let new_values = fk.parent_values(&new);
            if has_null(&old_values) || old_values == new_values {
                continue;
            }
            let Some(set) = update_action_values(ctx, fk, &new_values) else {
                continue;
            };
            if !followed.insert((f, key.clone())) {
                continue;
            }
            // The updated rows' own table is written by the update itself:
            // its rows must be read, so that one the update already counts
            // is not counted twice.
            if rewrites_alone(ctx, f) && fk.child != count.root.0 {
                // Its rows change no key and nothing else writes them: each
                // is counted once, without reading it.
                let range = ctx.child_range(fk)?;
                let prefixes = [ctx.index_prefix(fk, &old_values)];
                let rows = tx.count_children(&ChildScan::new(&range, &prefixes, 1))?;
                count.add_many(ctx, rows)?;
                continue;
            }
            let mut after = None;
            loop {
                let page = ctx.children(tx, fk, &old_values, after.as_ref(), PAGE)?;
                if let Some(last) = page.last() {
                    after = Some(ctx.child_position(fk, last));
                }
                let full = page.len() == PAGE;
                for child in page {
                    let mut changed = child.clone();
                    for (column, value) in &set {
                        changed[*column] = value.clone();
                    }
                    count.add(ctx, &mut stack, fk.child, child, changed)?;
                }
                if !full {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The rows counted so far, against the limit of the update of `root`
/// (its table and first key, as [`Error::TooManyRows`] names them).
struct Count {
    counted: HashSet<(TableId, Key)>,
    /// Rows counted without their keys (reached by one path only).
    uncounted: u64,
    limit: u64,
    root: (TableId, Key),
}

impl Count {
    /// Counts `rows` rows that no other path reaches.
    fn add_many(&mut self, ctx: Ctx<'_>, rows: u64) -> Result<(), Error> {
        self.uncounted += rows;
        self.check(ctx)
    }

    /// Fails once the count passes the limit.
    fn check(&self, ctx: Ctx<'_>) -> Result<(), Error> {
        if self.counted.len() as u64 + self.uncounted > self.limit {
            return Err(Error::TooManyRows {
                operation: Operation::Update,
                table: ctx.meta(self.root.0).name.clone(),
                key: self.root.1.clone(),
                limit: self.limit,
            });
        }
        Ok(())
    }

    /// Counts `old` of `table` becoming `new` (normalised as the execution
    /// writes it) if that changes it, and queues it to follow its actions.
    fn add(
        &mut self,
        ctx: Ctx<'_>,
        stack: &mut Vec<(TableId, Row, Row)>,
        table: TableId,
        old: Row,
        new: Row,
    ) -> Result<(), Error> {
        // A row the execution cannot write is its error to report.
        let Ok(new) = ctx.normalize(table, new) else {
            return Ok(());
        };
        if new == old {
            return Ok(());
        }
        if self.counted.insert((table, ctx.pk_of(table, &old))) {
            self.check(ctx)?;
        }
        stack.push((table, old, new));
        Ok(())
    }
}
