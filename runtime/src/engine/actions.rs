//! What each referential action writes in a referencing row: the values of
//! SET NULL and SET DEFAULT (defaults evaluated now), the new key of ON
//! UPDATE CASCADE.

use crate::engine::context::Ctx;
use crate::model::graph::{FkEdge, FkId, TableId};
use crate::model::metadata::{Action, ColumnDefault};
use crate::model::value::Value;

/// The default values of `columns` of table `table`, evaluated now (a
/// computed default once per row, as SQLite evaluates a DEFAULT expression).
pub(crate) fn defaults(ctx: Ctx<'_>, table: TableId, columns: &[usize]) -> Vec<(usize, Value)> {
    let meta = ctx.meta(table);
    columns
        .iter()
        .map(|&c| {
            let value = meta.columns[c]
                .default
                .as_ref()
                .map_or(Value::Null, |d| d.value());
            (c, value)
        })
        .collect()
}

/// The columns an ON DELETE SET NULL / SET DEFAULT of `fk` writes in a
/// referencing row, with their new values (defaults evaluated now).
pub(crate) fn action_values(ctx: Ctx<'_>, fk: &FkEdge) -> Vec<(usize, Value)> {
    match fk.on_delete {
        Action::SetNull => fk.child_columns.iter().map(|&c| (c, Value::Null)).collect(),
        _ => defaults(ctx, fk.child, &fk.child_columns),
    }
}

/// The columns an ON UPDATE action of `fk` writes in a referencing row
/// when the referenced values become `new_values`: CASCADE copies them, SET
/// NULL writes NULL, SET DEFAULT the defaults (evaluated now); `None` for
/// RESTRICT and NO ACTION, which write nothing.
pub(crate) fn update_action_values(
    ctx: Ctx<'_>,
    fk: &FkEdge,
    new_values: &[Value],
) -> Option<Vec<(usize, Value)>> {
    match fk.on_update {
        Action::Restrict | Action::NoAction => None,
        Action::Cascade => Some(
            fk.child_columns
                .iter()
                .copied()
                .zip(new_values.iter().cloned())
                .collect(),
        ),
        Action::SetNull => Some(fk.child_columns.iter().map(|&c| (c, Value::Null)).collect()),
        Action::SetDefault => Some(defaults(ctx, fk.child, &fk.child_columns)),
    }
}

/// Whether the ON UPDATE action of `f` can rewrite every row referencing a
/// changed key with one set-based statement, as far as the schema tells:
/// the action writes (CASCADE, SET NULL, or SET DEFAULT with constant
/// defaults — a computed default is evaluated once per row); its rows are
/// in another table; the columns it writes are in no primary or unique key
/// of theirs (so it changes no key: no further ON UPDATE action, no unique
/// collision); no other foreign key of theirs has an ON UPDATE action that
/// writes (so nothing else writes them in the same operation); and, except
/// for SET NULL, no other foreign key of theirs shares a written column
/// (whose new key would need a parent, checked row by row).
pub(crate) fn rewrites_alone(ctx: Ctx<'_>, f: FkId) -> bool {
    let fk = ctx.fk(f);
    let node = &ctx.graph.tables[fk.child];
    let writes = |action: Action| {
        matches!(
            action,
            Action::Cascade | Action::SetNull | Action::SetDefault
        )
    };
    let constant = fk.on_update != Action::SetDefault
        || fk.child_columns.iter().all(|&c| {
            !matches!(
                ctx.meta(fk.child).columns[c].default,
                Some(ColumnDefault::Computed(_))
            )
        });
    let in_key = node
        .unique_keys
        .iter()
        .any(|(_, key)| key.iter().any(|c| fk.child_columns.contains(c)));
    let others_clash = node.outgoing.iter().filter(|&&g| g != f).any(|&g| {
        let other = ctx.fk(g);
        let shares = other
            .child_columns
            .iter()
            .any(|c| fk.child_columns.contains(c));
        writes(other.on_update) || (fk.on_update != Action::SetNull && shares)
    });
    writes(fk.on_update) && constant && fk.child != fk.parent && !in_key && !others_clash
}
