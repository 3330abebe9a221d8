//! The read-only plan of a delete: the closure of rows it deletes, counted
//! per table, and the refusals that can be decided before anything is
//! written.
//!
//! [`plan_delete`] walks, with an explicit stack, from the root rows through
//! every `ON DELETE CASCADE` edge (MATCH SIMPLE: a parent key with a NULL
//! column is referenced by nothing). The rows reached form the closure `D`:
//! what the delete removes. While walking it decides, on the state before
//! the operation:
//!
//! - **RESTRICT**: a row referencing a row of `D` (other than itself) through
//!   a RESTRICT foreign key refuses the delete — even if that row is in `D`
//!   too. This is cascadia's rule; SQLite's result in that corner depends on
//!   the order in which it fires actions.
//! - **NO ACTION** (checked once `D` is complete): a row referencing a row of
//!   `D` through a NO ACTION foreign key refuses the delete unless it is in
//!   `D` itself, or another SET NULL / SET DEFAULT of this delete changes the
//!   referencing columns so that they reference nothing or a surviving row.
//! - **SET NULL / SET DEFAULT**: a referencing row outside `D` is updated;
//!   it is counted, and a SET DEFAULT whose default key (without NULL) has no
//!   parent outside `D` refuses the delete.
//! - **max_rows**: deleted plus updated rows are counted as they are found,
//!   and the plan fails as soon as the count passes the limit.
//!
//! Tables whose cascade subgraph has no edge to check are skipped when no
//! count is asked for (`max_rows` unset): the schema says nothing there can
//! refuse. The closure is held in memory, bounded by `max_rows`; the
//! batched engine replaces it with a bounded membership search.

mod update;

use std::collections::{HashMap, HashSet};

use crate::engine::actions::defaults;
use crate::engine::context::Ctx;
use crate::engine::execute::membership::Membership;
use crate::model::error::{CascadePath, Error, Operation};
use crate::model::graph::{FkId, TableId, has_null};
use crate::model::metadata::Action;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

pub(crate) use update::count_update;

/// Page size of the plan's child scans.
const PAGE: usize = 512;

/// The rows a delete removes, per table.
#[derive(Debug, Default)]
pub(crate) struct Closure {
    rows: Vec<HashSet<Key>>,
}

impl Membership for Closure {
    fn contains(&self, table: TableId, key: &[Value]) -> bool {
        self.rows.get(table).is_some_and(|rows| rows.contains(key))
    }

    fn may_contain(&self, table: TableId) -> bool {
        self.rows.get(table).is_some_and(|rows| !rows.is_empty())
    }
}

/// The plan of a delete.
#[derive(Debug)]
pub(crate) struct DeletePlan {
    /// The rows the delete removes (complete for every table whose subgraph
    /// needs a check; complete everywhere when rows are counted).
    pub(crate) closure: Closure,
    /// Rows deleted, per table (when counted).
    pub(crate) deletes: Vec<u64>,
    /// Rows outside the closure that a SET NULL / SET DEFAULT updates.
    pub(crate) updates: u64,
}

/// A referencing row found through a non-cascade edge, decided once the
/// closure is complete.
struct Pending {
    fk: FkId,
    parent_key: Key,
    child: Row,
}

/// Plans the delete of the rows of `table` with primary keys `roots`.
pub(crate) fn plan_delete(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    roots: &[Key],
    max_rows: Option<u64>,
) -> Result<DeletePlan, Error> {
    let tables = ctx.graph.tables.len();
    let mut closure = Closure {
        rows: vec![HashSet::new(); tables],
    };
    let mut deletes = vec![0u64; tables];
    let mut count = 0u64;
    let too_many = |limit: u64| Error::TooManyRows {
        operation: Operation::Delete,
        table: ctx.meta(table).name.clone(),
        key: roots.first().cloned().unwrap_or_default(),
        limit,
    };
    let tally = |count: &mut u64| -> Result<(), Error> {
        *count += 1;
        match max_rows {
            Some(limit) if *count > limit => Err(too_many(limit)),
            _ => Ok(()),
        }
    };
    let counting = max_rows.is_some();
    let mut stack: Vec<(TableId, Row)> = Vec::new();
    for key in roots {
        if closure.contains(table, key) {
            continue;
        }
        if let Some(row) = tx.get(&ctx.meta(table).name, key)? {
            closure.rows[table].insert(key.clone());
            deletes[table] += 1;
            tally(&mut count)?;
            stack.push((table, row));
        }
    }
    let mut no_action: Vec<Pending> = Vec::new();
    let mut set: Vec<Pending> = Vec::new();
    while let Some((parent, row)) = stack.pop() {
        if !counting && !ctx.graph.tables[parent].needs_check {
            continue;
        }
        let key = ctx.pk_of(parent, &row);
        for &f in &ctx.graph.tables[parent].incoming {
            let fk = ctx.fk(f);
            let values = fk.parent_values(&row);
            if has_null(&values) {
                continue;
            }
            let is_self = |child: &Key| fk.child == parent && *child == key;
            if fk.on_delete == Action::Restrict {
                let except = (fk.child == parent).then_some(key.as_slice());
                if let Some(child_key) = ctx.first_child(tx, fk, &values, except)? {
                    return Err(Error::Restricted {
                        operation: Operation::Delete,
                        table: ctx.meta(parent).name.clone(),
                        key,
                        foreign_key: fk.name.clone(),
                        child_key,
                        via: CascadePath::default(),
                    });
                }
                continue;
            }
            let mut after = None;
            loop {
                let page = ctx.children(tx, fk, &values, after.as_ref(), PAGE)?;
                if let Some(last) = page.last() {
                    after = Some(ctx.child_position(fk, last));
                }
                let full = page.len() == PAGE;
                for child in page {
                    let child_key = ctx.pk_of(fk.child, &child);
                    match fk.on_delete {
                        Action::Cascade => {
                            if closure.rows[fk.child].insert(child_key) {
                                deletes[fk.child] += 1;
                                tally(&mut count)?;
                                stack.push((fk.child, child));
                            }
                        }
                        _ if is_self(&child_key) => {}
                        Action::NoAction => no_action.push(Pending {
                            fk: f,
                            parent_key: key.clone(),
                            child,
                        }),
                        _ => set.push(Pending {
                            fk: f,
                            parent_key: key.clone(),
                            child,
                        }),
                    }
                }
                if !full {
                    break;
                }
            }
        }
    }

    // NO ACTION: the referencing row must be deleted too, or have its
    // columns changed by another action of this delete.
    for pending in &no_action {
        let fk = ctx.fk(pending.fk);
        let child_key = ctx.pk_of(fk.child, &pending.child);
        if closure.contains(fk.child, &child_key) {
            continue;
        }
        let (after, _) = final_row(ctx, tx, &closure, fk.child, &pending.child)?;
        let values = fk.child_values(&after);
        let still = if has_null(&values) {
            false
        } else if values == fk.child_values(&pending.child) {
            true
        } else {
            !survives(ctx, tx, &closure, pending.fk, &values)?
        };
        if still {
            return Err(Error::StillReferenced {
                operation: Operation::Delete,
                table: ctx.meta(fk.parent).name.clone(),
                key: pending.parent_key.clone(),
                foreign_key: fk.name.clone(),
                action: Action::NoAction,
                child_key,
                via: CascadePath::default(),
            });
        }
    }

    // SET NULL / SET DEFAULT: each referencing row outside the closure is
    // updated once, with every action that hits it.
    let mut updated: HashMap<(TableId, Key), ()> = HashMap::new();
    for pending in &set {
        let fk = ctx.fk(pending.fk);
        let child_key = ctx.pk_of(fk.child, &pending.child);
        if closure.contains(fk.child, &child_key)
            || updated.insert((fk.child, child_key.clone()), ()).is_some()
        {
            continue;
        }
        tally(&mut count)?;
        let (after, hits) = final_row(ctx, tx, &closure, fk.child, &pending.child)?;
        for (hit, parent_key) in hits {
            let hit_fk = ctx.fk(hit);
            if hit_fk.on_delete != Action::SetDefault {
                continue;
            }
            let values = hit_fk.child_values(&after);
            if has_null(&values) {
                continue;
            }
            if let Some(parent) = ctx.parent(tx, hit_fk, &values)? {
                let deleted = closure.contains(hit_fk.parent, &ctx.pk_of(hit_fk.parent, &parent));
                if !deleted {
                    continue;
                }
                return Err(missing_default(
                    ctx, hit, parent_key, child_key, values, true,
                ));
            }
            return Err(missing_default(
                ctx, hit, parent_key, child_key, values, false,
            ));
        }
    }
    Ok(DeletePlan {
        closure,
        deletes,
        updates: updated.len() as u64,
    })
}

fn missing_default(
    ctx: Ctx<'_>,
    fk: FkId,
    parent_key: Key,
    child_key: Key,
    default_key: Key,
    deleted: bool,
) -> Error {
    let edge = ctx.fk(fk);
    Error::MissingDefault {
        operation: Operation::Delete,
        table: ctx.meta(edge.parent).name.clone(),
        key: parent_key,
        foreign_key: edge.name.clone(),
        child_key,
        default_key,
        deleted,
        via: CascadePath::default(),
    }
}

/// Whether `values` (child values of `fk`) reference a row that survives the
/// delete.
fn survives(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    closure: &Closure,
    fk: FkId,
    values: &[Value],
) -> Result<bool, Error> {
    let edge = ctx.fk(fk);
    Ok(match ctx.parent(tx, edge, values)? {
        Some(parent) => !closure.contains(edge.parent, &ctx.pk_of(edge.parent, &parent)),
        None => false,
    })
}

/// `row` of `table` once every SET NULL / SET DEFAULT of this delete has hit
/// it, with the foreign keys that hit it and their deleted parents' keys.
fn final_row(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    closure: &Closure,
    table: TableId,
    row: &Row,
) -> Result<(Row, Vec<(FkId, Key)>), Error> {
    let mut after = row.clone();
    let mut hits = Vec::new();
    for &f in &ctx.graph.tables[table].outgoing {
        let fk = ctx.fk(f);
        if !matches!(fk.on_delete, Action::SetNull | Action::SetDefault) {
            continue;
        }
        let values = fk.child_values(row);
        let Some(parent) = ctx.parent(tx, fk, &values)? else {
            continue;
        };
        let parent_key = ctx.pk_of(fk.parent, &parent);
        if !closure.contains(fk.parent, &parent_key) {
            continue;
        }
        let set = match fk.on_delete {
            Action::SetNull => fk.child_columns.iter().map(|&c| (c, Value::Null)).collect(),
            _ => defaults(ctx, table, &fk.child_columns),
        };
        for (column, value) in set {
            after[column] = value;
        }
        hits.push((f, parent_key));
    }
    Ok((after, hits))
}
