//! The [`Marker`] of a soft cascade and its restore: it writes the
//! `#[soft_delete]` column of each row the walk of the check pass visits
//! ([`Walk`](super::check::Walk)), within the transaction's [`Budget`] —
//! the root's deletion time when marking, NULL when clearing.

use std::collections::BTreeMap;

use super::usage::Usage;
use crate::engine::context::Ctx;
use crate::engine::jobs;
use crate::engine::outcome::Outcome;
use crate::model::budget::Budget;
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;
use crate::store::scan::row_size;

/// Whether the marker sets or clears the soft-delete column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Set it to the root's time where it is NULL (soft cascade).
    Mark,
    /// Clear it where it holds the root's time (restore).
    Clear,
}

/// Writes the soft-delete column of the rows a [`Walk`](super::check::Walk) visits.
pub(crate) struct Marker {
    write: Write,
    /// The soft-delete column of each table.
    columns: Vec<Option<usize>>,
    /// The time a root that is not yet soft-deleted gets.
    now: i64,
    /// Rows written, per table.
    written: Vec<u64>,
}

impl Marker {
    pub(crate) fn new(ctx: Ctx<'_>, write: Write) -> Self {
        Marker {
            write,
            columns: ctx.graph.tables.iter().map(|t| t.soft_delete).collect(),
            now: jobs::soft_delete_time(),
            written: vec![0; ctx.graph.tables.len()],
        }
    }

    fn column(&self, ctx: Ctx<'_>, table: TableId) -> Result<usize, Error> {
        self.columns[table].ok_or_else(|| Error::NoSoftDelete {
            table: ctx.meta(table).name.clone(),
        })
    }

    /// Whether one more write of `row` stays within `budget` (the first
    /// write of a transaction always does).
    fn fits(budget: &Budget, usage: &Usage, row: &[Value]) -> bool {
        usage.rows_written == 0
            || (budget.rows_left(usage) > 0 && budget.bytes_left(usage) >= row_size(row))
    }

    fn write(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        row: &Row,
        usage: &mut Usage,
    ) -> Result<(), Error> {
        tx.update(&ctx.meta(table).name, &ctx.pk_of(table, row), row)?;
        usage.rows_written += 1;
        usage.bytes_written += row_size(row);
        self.written[table] += 1;
        Ok(())
    }

    /// The roots `found` of `table`, grouped by deletion time: when
    /// marking, a root keeps the time it carries and the others get now
    /// (and are marked here); when clearing, roots that are not
    /// soft-deleted are left out (there is nothing to restore under them).
    pub(crate) fn roots(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        found: Vec<Row>,
        usage: &mut Usage,
    ) -> Result<Vec<(i64, Vec<Row>)>, Error> {
        let column = self.column(ctx, table)?;
        let mut groups: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
        for mut row in found {
            let at = match (self.write, &row[column]) {
                (_, Value::Integer(at)) => *at,
                (Write::Mark, _) => {
                    row[column] = Value::Integer(self.now);
                    self.write(ctx, tx, table, &row, usage)?;
                    self.now
                }
                (Write::Clear, _) => continue,
            };
            groups.entry(at).or_default().push(row);
        }
        Ok(groups.into_iter().collect())
    }

    /// Marks the rows of `page` of `table` (read in this transaction) that
    /// are not soft-deleted with `at`, in order, while `budget` allows.
    /// Returns how many rows of `page` are done (all of them when
    /// clearing: rows are cleared on the way up).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn enter(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        page: &[Row],
        at: i64,
        budget: &Budget,
        usage: &mut Usage,
    ) -> Result<usize, Error> {
        if self.write == Write::Clear {
            return Ok(page.len());
        }
        let column = self.column(ctx, table)?;
        for (done, row) in page.iter().enumerate() {
            if !row[column].is_null() {
                continue;
            }
            if !Self::fits(budget, usage, row) {
                return Ok(done);
            }
            let mut row = row.clone();
            row[column] = Value::Integer(at);
            self.write(ctx, tx, table, &row, usage)?;
        }
        Ok(page.len())
    }

    /// Clears the rows `keys` of `table` that still carry `at`, read again
    /// in this transaction, in order, while `budget` allows. Returns how
    /// many keys are done (all of them when marking).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn leave(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        keys: &[Key],
        at: i64,
        budget: &Budget,
        usage: &mut Usage,
    ) -> Result<usize, Error> {
        if self.write == Write::Mark {
            return Ok(keys.len());
        }
        let column = self.column(ctx, table)?;
        for (done, key) in keys.iter().enumerate() {
            usage.rows_read += 1;
            let Some(mut row) = tx.get(&ctx.meta(table).name, key)? else {
                continue;
            };
            if row[column] != Value::Integer(at) {
                continue;
            }
            if !Self::fits(budget, usage, &row) {
                return Ok(done);
            }
            row[column] = Value::Null;
            self.write(ctx, tx, table, &row, usage)?;
        }
        Ok(keys.len())
    }

    /// The rows written, as an outcome's updated rows.
    pub(crate) fn outcome(&self, ctx: Ctx<'_>) -> Outcome {
        Outcome::from_counts(ctx, &vec![0; self.written.len()], &self.written)
    }
}
