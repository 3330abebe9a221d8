//! The executor of referential actions: deletes (batched, sync, soft,
//! scheduled) and key updates, with SQL's and SQLite's semantics.
//!
//! The semantics are documented, with their sources, in
//! [`crate::semantics`].
//!
//! # Shape
//!
//! One pipeline, plan → execute → store:
//!
//! - `sync`: the plan ([`plan`](crate::engine::plan)) walks the rows the delete
//!   removes, counting them (failing fast past `max_rows`) and deciding
//!   RESTRICT, NO ACTION and SET DEFAULT; then the bottom-up executor
//!   ([`delete`]) deletes, from an explicit stack whose memory is bounded by
//!   depth × batch size, with an unlimited budget in one transaction.
//! - `batched`: the check pass ([`check`]) decides the same refusals
//!   read-only, in bounded memory (an upward search, [`membership`], instead
//!   of the plan's set of rows), one read transaction per read budget; then
//!   the same executor runs one budget per transaction, its stack persisted
//!   with each batch ([`batched`], [`crate::engine::jobs`]).
//! - SET NULL / SET DEFAULT updates and key updates go through [`changes`],
//!   which also runs the end check of each transaction; with `max_rows`, a
//!   key update is counted first ([`plan`](crate::engine::plan)).

pub(crate) mod batched;
pub(crate) mod changes;
pub(crate) mod check;
pub(crate) mod delete;
pub(crate) mod marker;
pub(crate) mod membership;
pub(crate) mod roots;
pub(crate) mod soft;
pub(crate) mod soft_cascade;
mod usage;

pub(crate) use usage::Usage;

use crate::engine::context::Ctx;
use crate::engine::options::{DeleteOptions, UpdateOptions};
use crate::engine::outcome::Outcome;
use crate::engine::plan::{count_update, plan_delete};
use crate::model::budget::Budget;
use crate::model::error::{Error, Operation};
use crate::model::graph::TableId;
use crate::model::value::{Key, Row};
use crate::store::Transaction;

use changes::{Cause, Changes, Patch};
use check::{Purpose, Walk};
use delete::{DeleteStack, Progress, Roots, Run};
use membership::Nothing;

/// Deletes the rows of `table` with primary keys `keys`, and runs every
/// action, in `tx`. The caller rolls back on error.
pub(crate) fn delete_sync(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    let _span =
        tracing::debug_span!("delete", table = %ctx.meta(table).name, roots = keys.len()).entered();
    for key in keys {
        ctx.check_key(table, key)?;
    }
    ask_policies(ctx, tx, table, keys, options.batch_rows)?;
    let plan = match plan_delete(ctx, tx, table, keys, options.max_rows) {
        Ok(plan) => plan,
        Err(error) => {
            let roots = roots::RootSet::Keys(keys.iter().cloned().collect());
            return Err(membership::with_cascade_path(ctx, tx, table, &roots, error));
        }
    };
    let name = ctx.meta(table).name.clone();
    let root = (
        Operation::Delete,
        name.clone(),
        keys.first().cloned().unwrap_or_default(),
    );
    let mut changes = Changes::new(ctx, &plan.closure, options.max_rows, root);
    let mut stack = DeleteStack::new(name, Roots::Inline(keys.to_vec()), options.batch_rows);
    let mut deleted = vec![0u64; ctx.graph.tables.len()];
    let mut usage = Usage::default();
    let progress = stack.run(&mut Run {
        ctx,
        tx,
        changes: &mut changes,
        budget: &Budget::UNLIMITED,
        usage: &mut usage,
        deleted: &mut deleted,
        serialized: false,
        window: delete::WINDOW,
    })?;
    debug_assert_eq!(progress, Progress::Done);
    changes.finish(tx)?;
    tracing::debug!(
        table = %ctx.meta(table).name,
        roots = keys.len(),
        planned_deletes = plan.deletes.iter().sum::<u64>(),
        planned_updates = plan.updates,
        rows_written = changes.written,
        "sync delete"
    );
    Ok(Outcome::from_counts(ctx, &deleted, &changes.updated))
}

/// Asks the row policies, if any, about every row the delete of `keys`
/// would change, by the check walk in `tx`, before anything is written.
pub(crate) fn ask_policies(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
    batch_rows: usize,
) -> Result<(), Error> {
    if ctx.policy.is_none() {
        return Ok(());
    }
    let start = roots::Start::Keys(keys.to_vec());
    let mut walk = Walk::new(ctx, Purpose::Check, table, start, batch_rows, None);
    match walk.run(ctx, tx, &Budget::UNLIMITED, &mut Usage::default()) {
        Ok(_) => Ok(()),
        Err(error) => Err(walk.with_cascade_path(ctx, tx, error)),
    }
}

/// Replaces rows of `table` (by current primary key) with new rows, and runs
/// every ON UPDATE action, in `tx`. The caller rolls back on error.
pub(crate) fn update_sync(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    rows: Vec<(Key, Row)>,
    options: &UpdateOptions,
) -> Result<Outcome, Error> {
    let name = ctx.meta(table).name.clone();
    let _span = tracing::debug_span!("update", table = %name, rows = rows.len()).entered();
    let mut normalized = Vec::with_capacity(rows.len());
    for (key, row) in rows {
        ctx.check_key(table, &key)?;
        normalized.push((key, ctx.normalize(table, row)?));
    }
    let root = (
        Operation::Update,
        name.clone(),
        normalized
            .first()
            .map(|(k, _)| k.clone())
            .unwrap_or_default(),
    );
    if let Some(limit) = options.max_rows {
        count_update(ctx, tx, table, &normalized, limit)?;
    }
    let mut changes = Changes::new(ctx, &Nothing, options.max_rows, root);
    if normalized.len() == 1 {
        changes = changes.set_based();
    }
    for (key, row) in normalized {
        if tx.get(&name, &key)?.is_none() {
            return Err(Error::NotFound {
                table: name.clone(),
                key,
            });
        }
        changes.apply(
            tx,
            Patch {
                table,
                key,
                set: row.into_iter().enumerate().collect(),
                cause: Cause::Root,
            },
        )?;
    }
    changes.finish(tx)?;
    tracing::debug!(rows_written = changes.written, "sync update");
    let deleted = vec![0u64; ctx.graph.tables.len()];
    Ok(Outcome::from_counts(ctx, &deleted, &changes.updated))
}
