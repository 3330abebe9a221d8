//! Deleting a frame's rows once every row referencing them is handled: all
//! of them, or as many as the budget allows when the frame may be split.

use super::{DeleteStack, Run};
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::value::{Key, Row};

impl DeleteStack {
    /// Deletes the top frame's rows (of `table`), now that every
    /// referencing row is handled: all of them, or as many as the budget
    /// allows when the frame may be split (not atomic, no data cycle half
    /// deleted). Records them for the end check: a fresh frame on a store
    /// that serialises writers handled its scanned foreign keys in this
    /// transaction, so only the others are checked. Returns true when the
    /// budget left no room for any row.
    pub(super) fn delete_top(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
    ) -> Result<bool, Error> {
        let depth = self.frames.len() - 1;
        let splittable = !self.frames[depth].atomic && self.may_commit();
        let take = if splittable {
            self.fitting(run, depth)
        } else {
            self.frames[depth].keys.len()
        };
        if take == 0 && !self.frames[depth].keys.is_empty() {
            return Ok(true);
        }
        let clean =
            self.serialized && self.frames[depth].fresh && !run.ctx.graph.tables[table].in_cycle;
        let edges = run
            .changes
            .edges_to_check(table, &|f| clean && !self.skips(run, f));
        let frame = &mut self.frames[depth];
        let rows = frame.rows.get_or_insert_with(Vec::new);
        let name = frame.table.clone();
        let keys: Vec<Key> = frame.keys.drain(..take).collect();
        let gone: Vec<(Row, u64)> = rows.drain(..take.min(rows.len())).collect();
        if run.ctx.graph.tables[table].in_cycle {
            for key in &keys {
                self.on_stack.remove(&(table, key.clone()));
            }
        }
        // A frame pushed and deleted whole in this batch tells what its
        // rows cost.
        let mut measured = None;
        if self.frames[depth].keys.is_empty() {
            measured = self
                .frames
                .pop()
                .and_then(|frame| frame.fresh.then_some(frame.pushed));
        }
        let count = run.tx.delete_many(&name, &keys)?;
        let bytes: u64 = gone.iter().map(|(_, size)| size).sum();
        for (row, _) in &gone {
            run.changes.record_deleted(table, row, &edges);
        }
        run.count_deleted(table, count, bytes)?;
        if let Some((written_before, rows)) = measured {
            let written = run.usage.rows_written.saturating_sub(written_before);
            self.row_costs.record(table, written, rows);
        }
        if self
            .barrier
            .is_some_and(|barrier| self.frames.len() <= barrier)
        {
            self.barrier = None;
        }
        Ok(false)
    }

    /// How many of the frame at `depth`'s rows the budget has room for (the
    /// first always fits a batch that wrote nothing yet).
    fn fitting(&self, run: &Run<'_, '_>, depth: usize) -> usize {
        let frame = &self.frames[depth];
        let rows_left = run.budget.rows_left(run.usage);
        let bytes_left = run.budget.bytes_left(run.usage);
        let fresh = run.usage.rows_written == 0;
        let sizes = frame.rows.as_deref().unwrap_or_default();
        let mut bytes = 0u64;
        let mut take = 0;
        for (_, size) in sizes {
            let first = fresh && take == 0;
            bytes += size;
            if (take as u64 >= rows_left || bytes > bytes_left) && !first {
                break;
            }
            take += 1;
        }
        take
    }
}
