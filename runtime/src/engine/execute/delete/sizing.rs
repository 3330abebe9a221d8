//! Frame sizes from what a row brings: the rows written per row of a table
//! (the row itself and every row its delete cascades to or updates),
//! learned from the frames pushed and deleted within one batch. A new frame
//! then takes as many rows as the batch has room for, whole, instead of the
//! store's whole window: a frame whose referencing rows do not all fit is
//! cut by the budget, and its rest costs the next batch extra statements.
//!
//! Until a frame of a table has been measured, its frames take the whole
//! window, halved for each of them a batch ended inside (so that one
//! eventually fits a batch and is measured). The figure is an average, so
//! a frame may still be cut (a skewed fan-out); nothing else depends on it.

use super::{DeleteStack, Run};
use crate::engine::context::Ctx;
use crate::model::error::Error;
use crate::model::graph::TableId;

/// Rows written per row of each table, summed over the frames measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowCosts {
    /// Per table: rows written while its measured frames were on the stack
    /// (their own rows included), and those frames' rows.
    measured: Vec<(u64, u64)>,
    /// Per table: how many of its frames a batch ended inside.
    cut: Vec<u32>,
}

impl RowCosts {
    /// Records a frame of `rows` rows of `table` that was pushed and deleted
    /// in one batch, `written` rows written in between (its own included).
    pub(super) fn record(&mut self, table: TableId, written: u64, rows: u64) {
        if self.measured.len() <= table {
            self.measured.resize(table + 1, (0, 0));
        }
        let (total, count) = &mut self.measured[table];
        *total += written;
        *count += rows;
    }

    /// Records that a batch ended inside a frame of `table` pushed in it.
    pub(super) fn record_cut(&mut self, table: TableId) {
        if self.cut.len() <= table {
            self.cut.resize(table + 1, 0);
        }
        self.cut[table] = self.cut[table].saturating_add(1);
    }

    /// How many rows of `table` fit in `room` rows written, whole; `None`
    /// before any frame of `table` was measured.
    fn fitting(&self, table: TableId, room: u64) -> Option<u64> {
        match self.measured.get(table) {
            Some(&(written, rows)) if rows > 0 && written > 0 => {
                Some((u128::from(room) * u128::from(rows) / u128::from(written)) as u64)
            }
            _ => None,
        }
    }

    /// `most` halved once per frame of `table` a batch ended inside.
    fn halved(&self, table: TableId, most: usize) -> usize {
        let cuts = self.cut.get(table).copied().unwrap_or(0);
        most.checked_shr(cuts).unwrap_or(0).max(1)
    }
}

impl DeleteStack {
    /// How many rows the next frame of `table` takes: at most a frame's
    /// worth ([`frame_rows`](Self::frame_rows)), and, once a frame of
    /// `table` was measured, no more than the rows the budget has room for
    /// with everything they bring (before: a frame's worth halved once per
    /// frame of `table` a batch ended inside). 0 when not one fits a batch that has
    /// written rows already: the batch should end there. Tables on a cycle
    /// of foreign keys, and a half-deleted data cycle, keep the whole frame.
    pub(super) fn frame_size(&self, run: &Run<'_, '_>, table: TableId) -> usize {
        let most = self.frame_rows(run.ctx, table);
        if run.ctx.graph.tables[table].in_cycle || !self.may_commit() {
            return most;
        }
        let room = self.rows_left(run) as u64;
        let Some(fitting) = self.row_costs.fitting(table, room) else {
            return self.row_costs.halved(table, most);
        };
        let fitting = usize::try_from(fitting).unwrap_or(usize::MAX).min(most);
        if run.usage.rows_written == 0 {
            fitting.max(1)
        } else {
            fitting
        }
    }

    /// What the stack has learnt of its rows' costs.
    pub(crate) fn row_costs(&self) -> &RowCosts {
        &self.row_costs
    }

    /// Keeps `costs` (learnt by this stack before it was persisted and read
    /// back).
    pub(crate) fn set_row_costs(&mut self, costs: RowCosts) {
        self.row_costs = costs;
    }

    /// At the end of a batch: records the frames pushed in it that it
    /// ended inside.
    pub(super) fn record_cuts(&mut self, ctx: Ctx<'_>) -> Result<(), Error> {
        for depth in 0..self.frames.len() {
            if self.frames[depth].fresh {
                let table = Self::resolve(ctx, &self.frames[depth].table)?;
                self.row_costs.record_cut(table);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RowCosts;

    #[test]
    fn a_frame_takes_the_rows_whose_measured_cost_fits_the_room() {
        let mut costs = RowCosts::default();
        assert_eq!(costs.fitting(1, 100), None);
        assert_eq!(costs.halved(1, 64), 64);
        costs.record_cut(1);
        costs.record_cut(1);
        assert_eq!(costs.halved(1, 64), 16);
        // 11 rows written per row: 9 fit in 100, none in 10.
        costs.record(1, 44, 4);
        assert_eq!(costs.fitting(1, 100), Some(9));
        assert_eq!(costs.fitting(1, 10), Some(0));
        costs.record(1, 66, 6);
        assert_eq!(costs.fitting(1, 110), Some(10));
        // Another table is unaffected; halving stops at one row.
        assert_eq!(costs.fitting(2, 100), None);
        for _ in 0..100 {
            costs.record_cut(2);
        }
        assert_eq!(costs.halved(2, 64), 1);
    }
}
