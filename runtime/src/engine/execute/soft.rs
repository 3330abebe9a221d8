//! Soft and scheduled deletes, and restoring: writes of a table's
//! `#[soft_delete]` column (`Option<i64>`, milliseconds since the Unix
//! epoch).
//!
//! - `soft`: the column of each root is set to now; a row already
//!   soft-deleted keeps its time. Nothing else changes.
//! - `scheduled(delay)`: the same, except that every root gets now (a
//!   second schedule replaces the first: the first job sees another time and
//!   cancels itself), and a job due at now + delay deletes the roots in
//!   batched mode, checking before each batch that their time still
//!   matches. Both writes commit in one transaction.
//! - `restore`: the column is cleared, which cancels a scheduled job at its
//!   next check.

use std::collections::BTreeMap;
use std::time::Duration;

use super::delete::SoftCheck;
use crate::engine::context::Ctx;
use crate::engine::execute::roots::Start;
use crate::engine::jobs::{self, NewJob};
use crate::engine::options::DeleteOptions;
use crate::engine::outcome::Outcome;
use crate::engine::policy::Asked;
use crate::model::error::{Error, Operation};
use crate::model::graph::TableId;
use crate::model::value::{Key, Value};
use crate::store::Transaction;

/// Position of `table`'s soft-delete column, or [`Error::NoSoftDelete`].
fn column(ctx: Ctx<'_>, table: TableId) -> Result<usize, Error> {
    ctx.graph.tables[table]
        .soft_delete
        .ok_or_else(|| Error::NoSoftDelete {
            table: ctx.meta(table).name.clone(),
        })
}

/// Sets the soft-delete column of the rows `keys` of `table` to `at`
/// (keeping an earlier time unless `replace`). Returns the keys of the rows
/// that exist and how many rows changed.
fn mark(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
    at: i64,
    replace: bool,
) -> Result<(Vec<Key>, u64), Error> {
    let column = column(ctx, table)?;
    let name = &ctx.meta(table).name;
    let mut existing = Vec::new();
    let mut changed = 0;
    for key in keys {
        ctx.check_key(table, key)?;
        let Some(mut row) = tx.get(name, key)? else {
            continue;
        };
        if existing.contains(key) {
            continue;
        }
        ctx.ask(Operation::Delete, Asked::deleted(table, &row, None))?;
        existing.push(key.clone());
        if !row[column].is_null() && !replace {
            continue;
        }
        if row[column] == Value::Integer(at) {
            continue;
        }
        row[column] = Value::Integer(at);
        tx.update(name, key, &row)?;
        changed += 1;
    }
    Ok((existing, changed))
}

fn outcome(ctx: Ctx<'_>, table: TableId, changed: u64) -> Outcome {
    let mut updated = BTreeMap::new();
    if changed > 0 {
        updated.insert(ctx.meta(table).name.clone(), changed);
    }
    Outcome {
        updated,
        ..Outcome::default()
    }
}

/// A soft delete of the rows `keys` of `table`, in `tx`.
pub(crate) fn soft_delete(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
) -> Result<Outcome, Error> {
    let (_, changed) = mark(ctx, tx, table, keys, jobs::soft_delete_time(), false)?;
    Ok(outcome(ctx, table, changed))
}

/// A scheduled delete of the rows `keys` of `table`, in `tx`: soft now, and
/// a job due after `delay` (never coalesced: its due time and its roots'
/// deletion time are its own).
pub(crate) fn schedule(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
    delay: Duration,
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    let column = column(ctx, table)?;
    // The job runs later, with no context: the policies are asked now.
    super::ask_policies(ctx, tx, table, keys, options.batch_rows)?;
    let at = jobs::soft_delete_time();
    let (existing, changed) = mark(ctx, tx, table, keys, at, true)?;
    let mut result = outcome(ctx, table, changed);
    if existing.is_empty() {
        return Ok(result);
    }
    let delay = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    let (id, _) = jobs::create(
        tx,
        NewJob {
            table: ctx.meta(table).name.clone(),
            roots: Start::Keys(existing),
            due_ms: Some(at.saturating_add(delay)),
            checked: false,
            budget: options.effective_budget(ctx.schema),
            max_rows: options.max_rows,
            stack: None,
            batch_rows: options.batch_rows,
            soft: Some(SoftCheck { column, at }),
            batches: 0,
            deleted: BTreeMap::new(),
            updated: BTreeMap::new(),
            lease: None,
        },
        usize::MAX,
        false,
    )?;
    result.job = Some(id);
    Ok(result)
}

/// Clears the soft-delete column of the rows `keys` of `table`, in `tx`.
/// Returns how many rows were soft-deleted.
pub(crate) fn restore(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
) -> Result<Outcome, Error> {
    let column = column(ctx, table)?;
    let name = &ctx.meta(table).name;
    let mut changed = 0;
    for key in keys {
        ctx.check_key(table, key)?;
        let Some(mut row) = tx.get(name, key)? else {
            continue;
        };
        if row[column].is_null() {
            continue;
        }
        row[column] = Value::Null;
        tx.update(name, key, &row)?;
        changed += 1;
    }
    Ok(outcome(ctx, table, changed))
}
