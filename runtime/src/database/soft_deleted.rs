//! Whether reads return soft-deleted rows.

use crate::engine::context::Ctx;
use crate::model::graph::TableId;
use crate::model::value::Value;

/// Whether the reads of a [`Database`](crate::Database) or a
/// [`Tx`](crate::Tx) — `get`, `scan`, `query`, `rows` and their untyped
/// twins — return the rows whose `#[soft_delete]` column is set.
///
/// Only the reads look at it: writes, referential actions and the checks of
/// foreign keys see every row, since a soft-deleted row still exists. A row
/// whose parent is soft-deleted is returned as it is: after a soft delete
/// ([`DeleteMode::Soft`](crate::DeleteMode::Soft)) the children of the
/// hidden row stay visible, and still reference it; after a soft cascade
/// ([`DeleteMode::SoftCascade`](crate::DeleteMode::SoftCascade)) the rows a
/// CASCADE would delete are soft-deleted too, so they are hidden with it,
/// while SET NULL and SET DEFAULT children stay visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SoftDeleted {
    /// Soft-deleted rows are not returned (the default).
    #[default]
    Hidden,
    /// Soft-deleted rows are returned like the others
    /// ([`Database::including_soft_deleted`](crate::Database::including_soft_deleted)).
    Included,
}

impl SoftDeleted {
    /// Whether a read returns `row` of `table`.
    pub(crate) fn shows(self, ctx: Ctx<'_>, table: TableId, row: &[Value]) -> bool {
        match (self, ctx.graph.tables[table].soft_delete) {
            (SoftDeleted::Hidden, Some(column)) => row.get(column).is_none_or(Value::is_null),
            _ => true,
        }
    }
}
