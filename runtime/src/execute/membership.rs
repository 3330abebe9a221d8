//! Whether a batched delete deletes a row, answered without holding the
//! rows it deletes: an upward search.
//!
//! The rows a delete removes are its roots and every row that a chain of ON
//! DELETE CASCADE foreign keys leads from to a root. So a row is deleted
//! exactly when, following its outgoing CASCADE foreign keys upward (parent,
//! grandparent, ...), the search reaches a root — or a row already known to
//! be deleted (on the executor's stack). The search reads one row per step
//! and remembers the rows it visited (for data cycles), so its memory is the
//! number of ancestors of one row, not the size of the delete.
//!
//! During the delete pass the answer stays right as rows go: a row is only
//! deleted after every row referencing it, so a row that still exists has
//! every CASCADE ancestor still present, or on the stack.

use std::collections::HashSet;

use crate::error::Error;
use crate::graph::{TableId, has_null};
use crate::lookup::Ctx;
use crate::metadata::Action;
use crate::store::Transaction;
use crate::value::{Key, Row, Value};

/// The upward search of one delete.
pub(crate) struct Upward<'a> {
    /// The roots' table.
    pub(crate) root_table: TableId,
    /// Primary keys of the roots not yet deleted.
    pub(crate) roots: &'a HashSet<Key>,
    /// Tables the delete can reach through CASCADE edges (others hold no
    /// deleted row).
    pub(crate) reachable: &'a [bool],
}

impl Upward<'_> {
    /// Whether the delete removes `row` of `table`: it is a root, `known`
    /// holds it, or its CASCADE ancestors lead to one of those.
    pub(crate) fn contains(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        known: &dyn Fn(TableId, &[Value]) -> bool,
        table: TableId,
        row: &[Value],
    ) -> Result<bool, Error> {
        if !self.reachable[table] {
            return Ok(false);
        }
        let mut visited: HashSet<(TableId, Key)> = HashSet::new();
        let mut stack: Vec<(TableId, Row)> = vec![(table, row.to_vec())];
        visited.insert((table, ctx.pk_of(table, row)));
        while let Some((table, row)) = stack.pop() {
            let key = ctx.pk_of(table, &row);
            if known(table, &key) || (table == self.root_table && self.roots.contains(&key)) {
                return Ok(true);
            }
            for &f in &ctx.graph.tables[table].outgoing {
                let fk = ctx.fk(f);
                if fk.on_delete != Action::Cascade || !self.reachable[fk.parent] {
                    continue;
                }
                let values = fk.child_values(&row);
                if has_null(&values) {
                    continue;
                }
                let Some(parent) = ctx.parent(tx, fk, &values)? else {
                    continue;
                };
                if visited.insert((fk.parent, ctx.pk_of(fk.parent, &parent))) {
                    stack.push((fk.parent, parent));
                }
            }
        }
        Ok(false)
    }
}

/// What a row becomes once every SET NULL / SET DEFAULT of the delete has
/// hit it: the row, and the foreign keys that hit it with their deleted
/// parents' keys. Computed from the rows the delete removes (an upward
/// search per referenced parent).
pub(crate) struct FinalRow {
    pub(crate) row: Row,
    pub(crate) hits: Vec<(crate::graph::FkId, Key)>,
}

impl Upward<'_> {
    /// `row` of `table` once every SET NULL / SET DEFAULT of the delete has
    /// hit it.
    pub(crate) fn final_row(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        known: &dyn Fn(TableId, &[Value]) -> bool,
        table: TableId,
        row: &[Value],
    ) -> Result<FinalRow, Error> {
        let mut after = row.to_vec();
        let mut hits = Vec::new();
        for &f in &ctx.graph.tables[table].outgoing {
            let fk = ctx.fk(f);
            if !matches!(fk.on_delete, Action::SetNull | Action::SetDefault)
                || !self.reachable[fk.parent]
            {
                continue;
            }
            let values = fk.child_values(row);
            let Some(parent) = ctx.parent(tx, fk, &values)? else {
                continue;
            };
            if !self.contains(ctx, tx, known, fk.parent, &parent)? {
                continue;
            }
            for (column, value) in super::changes::action_values(ctx, fk) {
                after[column] = value;
            }
            hits.push((f, ctx.pk_of(fk.parent, &parent)));
        }
        Ok(FinalRow { row: after, hits })
    }

    /// Whether `values` (child values of `fk`) reference a row that exists
    /// and that the delete does not remove.
    pub(crate) fn survives(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        known: &dyn Fn(TableId, &[Value]) -> bool,
        fk: crate::graph::FkId,
        values: &[Value],
    ) -> Result<bool, Error> {
        let edge = ctx.fk(fk);
        Ok(match ctx.parent(tx, edge, values)? {
            Some(parent) => !self.contains(ctx, tx, known, edge.parent, &parent)?,
            None => false,
        })
    }
}
