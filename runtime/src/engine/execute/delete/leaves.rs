//! CASCADE to rows that need nothing before they go: one set-based delete
//! per window of parents, as many rows as the budget allows.

use super::{DeleteStack, Run};
use crate::model::error::Error;
use crate::model::graph::FkId;
use crate::store::{ChildScan, ChildWrite};

impl DeleteStack {
    /// Deletes the rows referencing the top frame's current window through
    /// the CASCADE foreign key `f`, whose table is a leaf of the delete
    /// (see [`EdgePlan::DeleteLeaves`](super::edges::EdgePlan::DeleteLeaves)):
    /// one statement, within the budget, reading back only what the end
    /// check needs. Returns true when the budget stopped it.
    pub(super) fn delete_leaves(&mut self, run: &mut Run<'_, '_>, f: FkId) -> Result<bool, Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let depth = self.frames.len() - 1;
        if self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
            return Ok(false);
        }
        let prefixes = self.window_prefixes(ctx, fk);
        // Nothing referencing the leaf rows was handled here: the end check
        // looks at every foreign key it checks.
        let edges = run.changes.edges_to_check(fk.child, &|_| false);
        let columns = run.changes.columns_to_check(fk.child, &edges);
        let range = ctx.child_range(fk)?;
        let (bytes, first) = self.byte_limit(run);
        let mut scan = ChildScan::new(&range, &prefixes, self.rows_left(run));
        if !edges.is_empty() {
            scan = scan.columns(&columns);
        }
        let write = ChildWrite::new(scan).bytes(bytes, first);
        let written = run.tx.delete_children(&write)?;
        run.usage.rows_read += written.rows;
        run.count_deleted(fk.child, written.rows, written.bytes)?;
        for row in &written.returned {
            run.changes.record_deleted(fk.child, row, &edges);
        }
        if !written.exhausted {
            return Ok(true);
        }
        self.next_key(depth);
        Ok(false)
    }
}
