//! Soft cascade and its restore: the `#[soft_delete]` column (`Option<i64>`,
//! milliseconds since the Unix epoch) of the roots and of every row a
//! CASCADE would delete is set to the root's deletion time, and cleared
//! again by a restore of the root — only where it still holds that time.
//!
//! Both run the walk of the check pass ([`Walk`], [`Purpose::Mark`]) with a
//! [`Marker`] that writes the rows, one write transaction per [`Budget`].
//! A soft cascade marks top-down (the root first), so that a failure leaves
//! the root carrying the time the rest of the rows get when it runs again;
//! a restore clears bottom-up (the root last) for the same reason.
//!
//! The time identifies the marking: rows soft-deleted earlier for another
//! reason keep their own time (and so are not restored with the root), and
//! each marking of this process takes a time later than the last one, so
//! two soft cascades never share a time here.
//!
//! [`Purpose::Mark`]: super::check::Purpose::Mark

use super::batched::check_pass;
use super::check::{Purpose, Walk};
use super::delete::Progress;
use super::marker::{Marker, Write};
use super::roots::Start;
use super::usage::Usage;
use crate::engine::context::Ctx;
use crate::engine::options::DeleteOptions;
use crate::engine::outcome::Outcome;
use crate::engine::progress::{Observer, Progress as Report, ProgressEvent};
use crate::model::budget::Budget;
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::value::Key;
use crate::store::{Access, Store, Transaction};

/// [`Error::NoSoftDelete`] for the first table the cascade from `table`
/// reaches (or `table` itself) that has no soft-delete column.
fn check_columns(ctx: Ctx<'_>, table: TableId) -> Result<(), Error> {
    match first_without_column(ctx, table) {
        Some(t) => Err(Error::NoSoftDelete {
            table: ctx.meta(t).name.clone(),
        }),
        None => Ok(()),
    }
}

fn first_without_column(ctx: Ctx<'_>, table: TableId) -> Option<TableId> {
    let reachable = ctx.graph.cascade_reachable(table);
    (0..ctx.graph.tables.len())
        .filter(|&t| t == table || reachable[t])
        .find(|&t| ctx.graph.tables[t].soft_delete.is_none())
}

/// A soft cascade of `roots` of `table` in `tx`: the check of the batched
/// delete, then the marking, with no budget.
pub(crate) fn mark_in(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    roots: Start,
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    check_columns(ctx, table)?;
    let (batch_rows, max_rows) = (options.batch_rows, options.max_rows);
    let mut check = Walk::new(
        ctx,
        Purpose::Check,
        table,
        roots.clone(),
        batch_rows,
        max_rows,
    );
    if let Err(error) = check.run(ctx, tx, &Budget::UNLIMITED, &mut Usage::default()) {
        return Err(check.with_cascade_path(ctx, tx, error));
    }
    run_in(ctx, tx, table, roots, Write::Mark, batch_rows)
}

/// A soft cascade of `roots` of `table` on `store`: the check pass of the
/// batched delete (read-only), then the marking, one write transaction per
/// budget. Running it again after a failure finishes the marking.
pub(crate) fn mark_batched(
    store: &dyn Store,
    ctx: Ctx<'_>,
    table: TableId,
    roots: Start,
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    check_columns(ctx, table)?;
    let budget = options.effective_budget(ctx.schema);
    let (batch_rows, max_rows) = (options.batch_rows, options.max_rows);
    check_pass(
        store,
        ctx,
        table,
        roots.clone(),
        batch_rows,
        max_rows,
        &budget,
    )?;
    let observer = options.observer.as_ref();
    let batches = Batches {
        write: Write::Mark,
        batch_rows,
        budget: &budget,
        observer,
    };
    run_batched(store, ctx, table, roots, batches)
}

/// Restores the rows `keys` of `table` in `tx`: with the rows their soft
/// cascade marked when one can start at `table`, else the roots alone.
pub(crate) fn restore_in(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    keys: &[Key],
) -> Result<Outcome, Error> {
    if first_without_column(ctx, table).is_some() {
        return super::soft::restore(ctx, tx, table, keys);
    }
    check_keys(ctx, table, keys)?;
    let roots = Start::Keys(keys.to_vec());
    run_in(ctx, tx, table, roots, Write::Clear, RESTORE_ROWS)
}

/// [`restore_in`] on `store`, one write transaction per `budget` when the
/// restore walks a closure. Running it again after a failure finishes it.
pub(crate) fn restore_batched(
    store: &dyn Store,
    ctx: Ctx<'_>,
    table: TableId,
    keys: &[Key],
    budget: &Budget,
) -> Result<Outcome, Error> {
    if first_without_column(ctx, table).is_some() {
        let mut tx = store.begin(Access::Write)?;
        let outcome = super::soft::restore(ctx, &mut *tx, table, keys)?;
        tx.commit()?;
        return Ok(outcome);
    }
    check_keys(ctx, table, keys)?;
    let roots = Start::Keys(keys.to_vec());
    let batches = Batches {
        write: Write::Clear,
        batch_rows: RESTORE_ROWS,
        budget,
        observer: None,
    };
    run_batched(store, ctx, table, roots, batches)
}

/// Rows per frame of a restore's walk.
const RESTORE_ROWS: usize = 1_000;

fn check_keys(ctx: Ctx<'_>, table: TableId, keys: &[Key]) -> Result<(), Error> {
    keys.iter().try_for_each(|key| ctx.check_key(table, key))
}

/// Marks or clears the closure of `roots` of `table` in `tx`, with no
/// budget.
fn run_in(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    table: TableId,
    roots: Start,
    write: Write,
    batch_rows: usize,
) -> Result<Outcome, Error> {
    let mut walk = Walk::marking(ctx, table, roots, batch_rows, Marker::new(ctx, write));
    walk.run(ctx, tx, &Budget::UNLIMITED, &mut Usage::default())?;
    Ok(walk_outcome(ctx, &walk))
}

/// How [`run_batched`] writes and reports.
struct Batches<'a> {
    write: Write,
    batch_rows: usize,
    budget: &'a Budget,
    /// Told after each committed batch, and at the end.
    observer: Option<&'a Observer>,
}

/// Marks or clears the closure of `roots` of `table` on `store`, one write
/// transaction per budget; a failure keeps what committed before it.
fn run_batched(
    store: &dyn Store,
    ctx: Ctx<'_>,
    table: TableId,
    roots: Start,
    how: Batches<'_>,
) -> Result<Outcome, Error> {
    let name = &ctx.meta(table).name;
    let _span = tracing::debug_span!("soft cascade", table = %name, write = ?how.write).entered();
    let marker = Marker::new(ctx, how.write);
    let mut walk = Walk::marking(ctx, table, roots, how.batch_rows, marker);
    let mut batches = 0u64;
    loop {
        let mut tx = store.begin(Access::Write)?;
        let mut usage = Usage::default();
        let progress = walk.run(ctx, &mut *tx, how.budget, &mut usage)?;
        tx.commit()?;
        batches += 1;
        let outcome = walk_outcome(ctx, &walk);
        let done = progress == Progress::Done;
        if let Some(observer) = how.observer {
            observer.notify(&Report {
                job: None,
                table: name.clone(),
                event: ProgressEvent::Batch,
                batches,
                outcome: outcome.clone(),
                batch_rows_written: usage.rows_written,
                batch_bytes_written: usage.bytes_written,
                batch_rows_read: usage.rows_read,
                held_rows: walk.held_rows(),
            });
        }
        if done {
            tracing::debug!(batches, "soft cascade done");
            return Ok(outcome);
        }
    }
}

fn walk_outcome(ctx: Ctx<'_>, walk: &Walk) -> Outcome {
    walk.marker
        .as_ref()
        .map_or_else(Outcome::default, |marker| marker.outcome(ctx))
}
