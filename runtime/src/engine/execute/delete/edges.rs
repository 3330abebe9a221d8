//! How the executor handles one incoming foreign key of a frame: skip it,
//! one set-based statement for all the frame's rows, or the referencing rows
//! read and decided one by one.

use super::{DeleteStack, Run};
use crate::engine::context::Ctx;
use crate::model::graph::{FkId, Lookup, TableId};
use crate::model::metadata::Action;

/// How the executor handles one incoming foreign key of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EdgePlan {
    /// Nothing to do: the plan (sync) or the check pass and the end check
    /// (batched) decide the edge.
    Skip,
    /// CASCADE to rows that need nothing before they go: a set-based
    /// delete ([`DeleteStack::delete_leaves`]).
    DeleteLeaves,
    /// SET NULL / SET DEFAULT on rows the delete keeps, hit by this edge
    /// alone: a set-based update ([`DeleteStack::set_columns`]).
    SetColumns,
    /// Read the referencing rows and decide each
    /// ([`DeleteStack::scan_rows`]).
    RowByRow,
}

impl DeleteStack {
    /// How to handle the incoming foreign key `f` of the top frame's table.
    pub(super) fn edge_plan(&self, run: &Run<'_, '_>, f: FkId) -> EdgePlan {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        if self.skips(run, f) {
            return EdgePlan::Skip;
        }
        let indexed = matches!(fk.children, Lookup::Index { .. });
        match fk.on_delete {
            Action::Cascade if indexed && self.is_leaf(run, fk.child) => EdgePlan::DeleteLeaves,
            Action::SetNull | Action::SetDefault if indexed && self.sets_alone(run, f) => {
                EdgePlan::SetColumns
            }
            _ => EdgePlan::RowByRow,
        }
    }

    /// Whether the executor leaves `f` alone: in batched mode, an edge it
    /// does not scan ([`batched_scan`]); in sync mode, a RESTRICT / NO
    /// ACTION edge none of whose referencing rows the delete removes (the
    /// plan has decided those).
    pub(super) fn skips(&self, run: &Run<'_, '_>, f: FkId) -> bool {
        let fk = run.ctx.fk(f);
        if self.batched {
            !batched_scan(run.ctx, self.reachable(), f)
        } else {
            matches!(fk.on_delete, Action::Restrict | Action::NoAction)
                && !run.changes.deleted().may_contain(fk.child)
        }
    }

    /// Whether the rows of `table` need nothing before they are deleted:
    /// the table is on no cycle of foreign keys (no row of it can be on the
    /// stack) and the executor skips every foreign key that references it.
    fn is_leaf(&self, run: &Run<'_, '_>, table: TableId) -> bool {
        let node = &run.ctx.graph.tables[table];
        !node.in_cycle && node.incoming.iter().all(|&g| self.skips(run, g))
    }

    /// Whether the SET NULL / SET DEFAULT of `f` can update its referencing
    /// rows with one statement: the delete removes none of them, no other
    /// SET NULL / SET DEFAULT of the delete can hit them, neither this
    /// action nor any other of the delete changes a key (then the delete is
    /// a key update too, run row by row with its ON UPDATE actions), and —
    /// for SET DEFAULT — the defaults are constants (a computed default is
    /// evaluated once per row, as SQLite evaluates a `DEFAULT` expression)
    /// and no other foreign key of theirs shares a written column (whose
    /// new key would need a parent of its own, checked row by row).
    fn sets_alone(&self, run: &Run<'_, '_>, f: FkId) -> bool {
        let ctx = run.ctx;
        let fk = ctx.fk(f);
        let removed = if self.batched {
            self.reachable()[fk.child]
        } else {
            run.changes.deleted().may_contain(fk.child)
        };
        let others = ctx.graph.tables[fk.child]
            .outgoing
            .iter()
            .filter(|&&g| g != f);
        let mut overlapping = others.filter(|&&g| {
            let other = ctx.fk(g);
            let acts = matches!(other.on_delete, Action::SetNull | Action::SetDefault)
                && self.may_delete(run, other.parent);
            let shares = other
                .child_columns
                .iter()
                .any(|c| fk.child_columns.contains(c));
            acts || (fk.on_delete == Action::SetDefault && shares)
        });
        let constant = fk.on_delete == Action::SetNull || constant_defaults(ctx, f);
        !removed
            && constant
            && !fk.delete_changes_key
            && !ctx.graph.delete_changes_keys(self.reachable())
            && overlapping.next().is_none()
    }

    /// Whether the delete may remove rows of `table`.
    fn may_delete(&self, run: &Run<'_, '_>, table: TableId) -> bool {
        if self.batched {
            self.reachable()[table]
        } else {
            run.changes.deleted().may_contain(table)
        }
    }

    /// The tables the delete reaches through CASCADE edges (batched mode;
    /// set by `prepare`).
    pub(super) fn reachable(&self) -> &[bool] {
        self.reachable.as_deref().unwrap_or_default()
    }
}

/// Whether every column the SET DEFAULT of `f` writes has a constant
/// default (or none: NULL).
fn constant_defaults(ctx: Ctx<'_>, f: FkId) -> bool {
    let fk = ctx.fk(f);
    let columns = &ctx.meta(fk.child).columns;
    fk.child_columns.iter().all(|&c| {
        !matches!(
            columns[c].default,
            Some(crate::model::metadata::ColumnDefault::Computed(_))
        )
    })
}

/// Whether batched mode must scan `f` (an incoming foreign key of a deleted
/// row): always for the actions that write, and for NO ACTION when a
/// referencing row may be deleted too, or freed by another action.
/// Otherwise the end check of the batch finds any referencing row
/// (RESTRICT, NO ACTION) and refuses.
pub(super) fn batched_scan(ctx: Ctx<'_>, reachable: &[bool], f: FkId) -> bool {
    let fk = ctx.fk(f);
    match fk.on_delete {
        Action::Cascade | Action::SetNull | Action::SetDefault => true,
        Action::Restrict => false,
        Action::NoAction => reachable[fk.child] || freed_by_another(ctx, reachable, f),
    }
}

/// Whether a NO ACTION row through `f` may be freed by another foreign key
/// of its table, sharing a column, whose SET NULL / SET DEFAULT the delete
/// can set off.
pub(super) fn freed_by_another(ctx: Ctx<'_>, reachable: &[bool], f: FkId) -> bool {
    let fk = ctx.fk(f);
    ctx.graph.tables[fk.child].outgoing.iter().any(|&g| {
        let other = ctx.fk(g);
        g != f
            && matches!(other.on_delete, Action::SetNull | Action::SetDefault)
            && reachable[other.parent]
            && other
                .child_columns
                .iter()
                .any(|c| fk.child_columns.contains(c))
    })
}
