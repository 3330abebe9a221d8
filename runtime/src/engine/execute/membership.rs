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

use std::collections::{HashMap, HashSet};

use crate::engine::context::Ctx;
use crate::engine::execute::roots::RootSet;
use crate::model::error::{Error, RowRef};
use crate::model::graph::{TableId, has_null};
use crate::model::metadata::Action;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

/// Whether the operation deletes a row: the closure of a plan, or nothing.
pub(crate) trait Membership {
    /// Whether row `key` of `table` is deleted by the operation.
    fn contains(&self, table: TableId, key: &[Value]) -> bool;
    /// Whether any row of `table` may be deleted by the operation.
    fn may_contain(&self, table: TableId) -> bool;
}

/// The membership of an operation that deletes nothing (an update).
pub(crate) struct Nothing;

impl Membership for Nothing {
    fn contains(&self, _: TableId, _: &[Value]) -> bool {
        false
    }

    fn may_contain(&self, _: TableId) -> bool {
        false
    }
}

/// The upward search of one delete.
pub(crate) struct Upward<'a> {
    /// The roots' table.
    pub(crate) root_table: TableId,
    /// Which rows of the roots' table are roots (those not yet deleted).
    pub(crate) roots: &'a RootSet,
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
        Ok(self
            .search(ctx, tx, known, table, row, |_, _| {})?
            .is_some())
    }

    /// The path along which the delete reaches `row` of `table`: a root,
    /// then each row its delete cascades to, down to `row` itself; `None`
    /// when the delete does not remove `row`. Read on the state before the
    /// delete (every ancestor still present).
    pub(crate) fn path(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        row: &[Value],
    ) -> Result<Option<Vec<(TableId, Key)>>, Error> {
        let mut child_of: HashMap<(TableId, Key), (TableId, Key)> = HashMap::new();
        let found = self.search(ctx, tx, &|_, _| false, table, row, |parent, child| {
            child_of.insert(parent.clone(), child.clone());
        })?;
        Ok(found.map(|mut at| {
            let mut path = vec![at.clone()];
            while let Some(child) = child_of.remove(&at) {
                path.push(child.clone());
                at = child;
            }
            path
        }))
    }

    /// The upward search from `row` of `table`: the first row found that is
    /// a root or that `known` holds. `discovered(parent, child)` is called
    /// once per row reached, with the row it was reached from.
    fn search(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        known: &dyn Fn(TableId, &[Value]) -> bool,
        table: TableId,
        row: &[Value],
        mut discovered: impl FnMut(&(TableId, Key), &(TableId, Key)),
    ) -> Result<Option<(TableId, Key)>, Error> {
        if !self.reachable[table] {
            return Ok(None);
        }
        let mut visited: HashSet<(TableId, Key)> = HashSet::new();
        let mut stack: Vec<(TableId, Row)> = vec![(table, row.to_vec())];
        visited.insert((table, ctx.pk_of(table, row)));
        while let Some((table, row)) = stack.pop() {
            let node = (table, ctx.pk_of(table, &row));
            let root =
                table == self.root_table && self.roots.contains(ctx.meta(table), &node.1, &row);
            if known(table, &node.1) || root {
                return Ok(Some(node));
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
                let parent_node = (fk.parent, ctx.pk_of(fk.parent, &parent));
                if !visited.contains(&parent_node) {
                    discovered(&parent_node, &node);
                    visited.insert(parent_node);
                    stack.push((fk.parent, parent));
                }
            }
        }
        Ok(None)
    }
}

/// What a row becomes once every SET NULL / SET DEFAULT of the delete has
/// hit it: the row, and the foreign keys that hit it with their deleted
/// parents' keys. Computed from the rows the delete removes (an upward
/// search per referenced parent).
pub(crate) struct FinalRow {
    pub(crate) row: Row,
    pub(crate) hits: Vec<(crate::model::graph::FkId, Key)>,
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
            for (column, value) in crate::engine::actions::action_values(ctx, fk) {
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
        fk: crate::model::graph::FkId,
        values: &[Value],
    ) -> Result<bool, Error> {
        let edge = ctx.fk(fk);
        Ok(match ctx.parent(tx, edge, values)? {
            Some(parent) => !self.contains(ctx, tx, known, edge.parent, &parent)?,
            None => false,
        })
    }
}

/// Names, in a refusal of the delete of `roots` of `root_table`, the rows
/// through which the delete reached the refused row: fills the error's
/// `via` with the cascade path, read in `tx` on the state before the delete.
/// Other errors, refusals of a root itself, and rows that can no longer be
/// read are returned as they are.
pub(crate) fn with_cascade_path(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    root_table: TableId,
    roots: &RootSet,
    mut error: Error,
) -> Error {
    if let Error::PolicyDenied { via, .. } = &mut error {
        if let Some(parent) = via.first().cloned() {
            // A SET NULL / SET DEFAULT row: the path to its parent, which
            // the delete reached.
            let Some(id) = ctx.graph.table_id(&parent.table) else {
                return error;
            };
            if let Some(path) = path_to(ctx, tx, root_table, roots, id, &parent.key) {
                *via = path.into();
            }
            return error;
        }
    }
    let (Error::Restricted {
        table, key, via, ..
    }
    | Error::StillReferenced {
        table, key, via, ..
    }
    | Error::MissingDefault {
        table, key, via, ..
    }
    | Error::PolicyDenied {
        table, key, via, ..
    }) = &mut error
    else {
        return error;
    };
    let Some(id) = ctx.graph.table_id(table) else {
        return error;
    };
    if let Some(mut path) = path_to(ctx, tx, root_table, roots, id, key) {
        path.pop();
        *via = path.into();
    }
    error
}

/// The cascade path from a root to the row `key` of `table`, both ends
/// included, if the delete of `roots` reaches it.
fn path_to(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    root_table: TableId,
    roots: &RootSet,
    table: TableId,
    key: &[Value],
) -> Option<Vec<RowRef>> {
    let reachable = ctx.graph.cascade_reachable(root_table);
    let upward = Upward {
        root_table,
        roots,
        reachable: &reachable,
    };
    let row = tx.get(&ctx.meta(table).name, key).ok()??;
    let path = upward.path(ctx, tx, table, &row).ok()??;
    Some(
        path.into_iter()
            .map(|(table, key)| RowRef {
                table: ctx.meta(table).name.clone(),
                key,
            })
            .collect(),
    )
}
