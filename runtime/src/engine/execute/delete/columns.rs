//! SET NULL / SET DEFAULT on rows the delete keeps, hit by one action
//! alone: one set-based update per window of parents, as many rows as the
//! budget allows.

use super::{DeleteStack, Run};
use crate::engine::actions::action_values;
use crate::model::error::Error;
use crate::model::graph::{FkId, TableId, has_null};
use crate::model::metadata::Action;
use crate::model::value::Value;
use crate::store::{ChildScan, ChildWrite};

impl DeleteStack {
    /// Sets the columns of the rows referencing the top frame's current
    /// window (of `table`) through the SET NULL / SET DEFAULT foreign key
    /// `f` (see [`EdgePlan::SetColumns`](super::edges::EdgePlan::SetColumns)):
    /// one statement, within the budget (defaults here are constants).
    /// Returns true when the budget stopped it.
    pub(super) fn set_columns(
        &mut self,
        run: &mut Run<'_, '_>,
        table: TableId,
        f: FkId,
    ) -> Result<bool, Error> {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let depth = self.frames.len() - 1;
        if self.frames[depth].key >= self.frames[depth].keys.len() {
            self.next_fk(depth);
            return Ok(false);
        }
        let mut set = action_values(ctx, fk);
        let valid = ctx.normalize_set(fk.child, &mut set).is_ok();
        if !valid
            || (fk.on_delete == Action::SetDefault && !self.default_parent_exists(run, f, &set)?)
        {
            // Row by row, so that the refusal names the row it is about.
            return self.scan_rows(run, table, f);
        }
        let prefixes = self.window_prefixes(ctx, fk);
        let range = ctx.child_range(fk)?;
        let (bytes, first) = self.byte_limit(run);
        let scan = ChildScan::new(&range, &prefixes, self.rows_left(run));
        let write = ChildWrite::new(scan).bytes(bytes, first);
        let written = run.tx.update_children(&write, &set)?;
        run.usage.rows_read += written.rows;
        run.usage.rows_written += written.rows;
        run.usage.bytes_written += written.bytes;
        run.changes
            .count_updated(fk.child, written.rows, written.bytes)?;
        if !written.exhausted {
            return Ok(true);
        }
        self.next_key(depth);
        Ok(false)
    }

    /// For SET DEFAULT through `f`: whether the default key `set` writes has
    /// a parent (a key with a NULL references nothing and needs none). The
    /// check pass (batched) or the plan (sync) has refused a default parent
    /// that the delete itself removes.
    fn default_parent_exists(
        &self,
        run: &mut Run<'_, '_>,
        f: FkId,
        set: &[(usize, Value)],
    ) -> Result<bool, Error> {
        let fk = run.ctx.fk(f);
        let values: Vec<Value> = fk
            .child_columns
            .iter()
            .map(|c| {
                set.iter()
                    .find(|(column, _)| column == c)
                    .map_or(Value::Null, |(_, value)| value.clone())
            })
            .collect();
        if has_null(&values) {
            return Ok(true);
        }
        Ok(run.ctx.parent(run.tx, fk, &values)?.is_some())
    }
}
