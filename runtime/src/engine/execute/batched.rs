//! The batched engine: the check pass, then one transaction per budget, the
//! job's state written in the same transaction as each batch.
//!
//! A batched delete ([`delete_batched`]):
//!
//! 1. refuses, in one transaction and changing nothing, a delete whose SET
//!    NULL / SET DEFAULT actions change a key: that is a key update, with
//!    its own ON UPDATE actions and unique checks, and key updates run in
//!    one transaction ([`delete_sync`](super::delete_sync) runs it);
//! 2. runs the check pass ([`check`](super::check)): read-only, one read
//!    transaction per `rows_read` budget, failing with the foreign key,
//!    table and key of the first refusal before anything is written;
//! 3. runs the first batch; if that finishes the delete, it commits and no
//!    job record is ever written. Otherwise the job is created in the same
//!    transaction as that first batch (or, past the pending-job cap, the
//!    roots are coalesced into an active job of the same table before any
//!    batch runs);
//! 4. runs the job's batches ([`run_job`]) until it is done.
//!
//! Each batch of a job: begin a write transaction; read the job's state
//! (reusing the in-memory copy when the stored bytes are the ones this
//! process wrote, so frames keep their loaded rows); for a scheduled delete,
//! check that the roots still carry their deletion time (else the job is
//! cancelled); run the executor on the budget; run the end check (every
//! incoming foreign key of every row deleted in the batch: nothing may
//! still reference it); write the state (or, when done, delete the job's
//! records); commit; tell the observer. Because the state is read inside the
//! write transaction, two workers on one job simply take turns. A batch that
//! leaves the job unfinished commits with
//! [`Transaction::commit_batch`]: its loss in a crash would take the job's
//! state with it, so a backend need not wait for it to be durable; the
//! batch that finishes the job commits durably.
//!
//! When a batch fails, it rolls back. A row found referencing a deleted row
//! through CASCADE / SET NULL / SET DEFAULT was inserted between batches
//! under a row already scanned: the frames rescan from the start (up to 3
//! times). Any other refusal — a RESTRICT row, a NO ACTION row outside the
//! delete, both inserted since the check — stops the job as failed, with
//! that error. Store errors (I/O, busy) leave the job as it is, to be
//! resumed.

use std::sync::atomic::{AtomicBool, Ordering};

use super::changes::Changes;
use super::check::{Purpose, Walk};
use super::delete::{DeleteStack, Progress, Roots, Run};
use super::delete_sync;
use super::membership::Nothing;
use super::roots::Start;
use super::usage::Usage;
use crate::engine::context::Ctx;
use crate::engine::jobs::{self, JobId, JobState, JobStatus, NewJob};
use crate::engine::options::DeleteOptions;
use crate::engine::outcome::Outcome;
use crate::engine::progress::{Observer, Progress as Report, ProgressEvent};
use crate::model::budget::Budget;
use crate::model::error::{Error, Operation};
use crate::model::graph::TableId;
use crate::model::metadata::{Action, Name};
use crate::model::value::Key;
use crate::store::{Access, Lease, Store, Transaction};

/// How many times a job rescans its frames after rows appeared under rows
/// it was deleting, before it fails.
const MAX_RESCANS: u32 = 3;

/// What the engine runs with.
#[derive(Clone, Copy)]
pub(crate) struct Engine<'a> {
    pub(crate) store: &'a dyn Store,
    pub(crate) ctx: Ctx<'a>,
    pub(crate) observer: Option<&'a Observer>,
    pub(crate) stop: Option<&'a AtomicBool>,
    /// The pending-job cap.
    pub(crate) cap: usize,
    /// Who runs jobs here: the owner of the leases this engine takes.
    pub(crate) owner: &'a str,
    /// How long a lease lasts, in milliseconds (each batch renews it).
    pub(crate) lease_ms: i64,
}

impl Engine<'_> {
    /// The lease this engine takes or renews now.
    fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.to_owned(),
            until_ms: jobs::now_ms().saturating_add(self.lease_ms),
        }
    }
}

/// How a run of a job ended.
#[derive(Debug)]
pub(crate) enum JobEnd {
    /// Every row deleted.
    Finished(Outcome),
    /// Stopped on a refusal (the job is marked failed).
    Failed(Error),
    /// Stopped on a cancellation (the job is marked cancelled).
    Cancelled(String),
    /// Not due yet.
    NotDue,
    /// The stop flag was raised (between batches).
    Stopped,
    /// The job's record is gone (finished by another worker, forgotten).
    Gone,
    /// Another worker holds the job's lease.
    Busy,
}

/// Whether an error leaves the job to be resumed (a store error) rather than
/// failing it (a refusal).
fn transient(error: &Error) -> bool {
    error.is_transient()
}

/// Whether a failed batch met a row inserted between batches under a row it
/// deletes, which a rescan handles.
fn rescannable(error: &Error) -> bool {
    matches!(
        error,
        Error::StillReferenced { action, .. }
            if matches!(action, Action::Cascade | Action::SetNull | Action::SetDefault)
    )
}

/// The check pass of the delete of `roots` of `table`: refuses the delete
/// (RESTRICT, NO ACTION, SET DEFAULT, `max_rows`) before anything is
/// written. Skipped when the schema shows nothing can refuse and nothing is
/// counted.
pub(crate) fn check_pass(
    store: &dyn Store,
    ctx: Ctx<'_>,
    table: TableId,
    roots: Start,
    batch_rows: usize,
    max_rows: Option<u64>,
    budget: &Budget,
) -> Result<(), Error> {
    if max_rows.is_none() && !ctx.graph.tables[table].needs_check && ctx.policy.is_none() {
        return Ok(());
    }
    let _span = tracing::debug_span!("check", table = %ctx.meta(table).name).entered();
    let mut walk = Walk::new(ctx, Purpose::Check, table, roots, batch_rows, max_rows);
    let mut transactions = 0u64;
    loop {
        let mut tx = store.begin(Access::Read)?;
        let mut usage = Usage::default();
        transactions += 1;
        let progress = match walk.run(ctx, &mut *tx, budget, &mut usage) {
            Ok(progress) => progress,
            Err(error) => return Err(walk.with_cascade_path(ctx, &mut *tx, error)),
        };
        drop(tx);
        if progress == Progress::Done {
            tracing::debug!(transactions, "check pass done");
            return Ok(());
        }
    }
}

/// What one batch did.
struct Batch {
    progress: Progress,
    usage: Usage,
    deleted: Vec<u64>,
    updated: Vec<u64>,
}

/// Runs one batch of `stack` in `tx`, with the end check.
fn run_batch(
    engine: Engine<'_>,
    tx: &mut dyn Transaction,
    stack: &mut DeleteStack,
    budget: &Budget,
) -> Result<Batch, Error> {
    let ctx = engine.ctx;
    let root = (Operation::Delete, stack.root_table().clone(), Key::new());
    let mut changes = Changes::new(ctx, &Nothing, None, root).check_every_edge();
    let mut usage = Usage::default();
    let mut deleted = vec![0u64; ctx.graph.tables.len()];
    let capabilities = engine.store.capabilities();
    let progress = stack.run(&mut Run {
        ctx,
        tx,
        changes: &mut changes,
        budget,
        usage: &mut usage,
        deleted: &mut deleted,
        serialized: capabilities.serialized_writes,
        window: capabilities.parents_per_statement,
    })?;
    if !matches!(progress, Progress::Cancelled { .. }) {
        changes.finish(tx)?;
    }
    Ok(Batch {
        progress,
        usage,
        deleted,
        updated: changes.updated.clone(),
    })
}

fn table_names(ctx: Ctx<'_>) -> Vec<Name> {
    (0..ctx.graph.tables.len())
        .map(|t| ctx.meta(t).name.clone())
        .collect()
}

fn counts(names: &[Name], values: &[u64]) -> std::collections::BTreeMap<Name, u64> {
    names
        .iter()
        .zip(values)
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| (name.clone(), *n))
        .collect()
}

/// Deletes the rows of `table` that `roots` names, in batched mode (see the
/// module's documentation), on the calling thread.
///
/// # Errors
/// The refusals of the check pass (nothing written); a refusal met by a
/// later batch (the job is then failed, the batches before it committed);
/// [`Error::JobCancelled`]; store errors (the job stays, to be resumed).
pub(crate) fn delete_batched(
    engine: Engine<'_>,
    table: TableId,
    roots: Start,
    options: &DeleteOptions,
) -> Result<Outcome, Error> {
    let ctx = engine.ctx;
    let name = ctx.meta(table).name.clone();
    let _span = tracing::debug_span!("batched_delete", table = %name).entered();
    if let Start::Keys(keys) = &roots {
        for key in keys {
            ctx.check_key(table, key)?;
        }
    }
    let reachable = ctx.graph.cascade_reachable(table);
    if ctx.graph.delete_changes_keys(&reachable) {
        tracing::debug!("the delete's actions change keys: one transaction");
        let mut tx = engine.store.begin(Access::Write)?;
        let keys = match roots {
            Start::Keys(keys) => keys,
            Start::Query(mut query) => query.all_keys(&mut *tx, &name)?,
        };
        let outcome = delete_sync(ctx, &mut *tx, table, &keys, options)?;
        tx.commit()?;
        return Ok(outcome);
    }
    let budget = options.effective_budget(ctx.schema);
    check_pass(
        engine.store,
        ctx,
        table,
        roots.clone(),
        options.batch_rows,
        options.max_rows,
        &budget,
    )?;

    let mut tx = engine.store.begin(Access::Write)?;
    if jobs::active(&mut *tx)?.len() >= engine.cap {
        // Past the cap: no new job, the roots join an active one.
        let job = new_job(&name, roots, &budget, options, None, &[], &[], ctx);
        let (id, _) = jobs::create(&mut *tx, job, engine.cap, true)?;
        tx.commit()?;
        return finish_inline(engine, id, None);
    }
    let stack_roots = match &roots {
        Start::Keys(keys) => Roots::Inline(keys.clone()),
        Start::Query(query) => Roots::Query(query.clone()),
    };
    let mut stack = DeleteStack::new(name.clone(), stack_roots, options.batch_rows).batched(None);
    let batch = run_batch(engine, &mut *tx, &mut stack, &budget)?;
    let names = table_names(ctx);
    let deleted = counts(&names, &batch.deleted);
    let updated = counts(&names, &batch.updated);
    if batch.progress == Progress::Done {
        batch_hook();
        tx.commit()?;
        let outcome = Outcome {
            deleted,
            updated,
            job: None,
        };
        notify(
            engine,
            None,
            &name,
            ProgressEvent::Finished,
            1,
            &outcome,
            &batch.usage,
            0,
        );
        return Ok(outcome);
    }
    let held = stack.held_rows();
    // What the first batch learnt of the rows' costs (not persisted).
    let row_costs = stack.row_costs().clone();
    let mut job = new_job(
        &name,
        roots,
        &budget,
        options,
        Some(stack),
        &batch.deleted,
        &batch.updated,
        ctx,
    );
    job.lease = Some(engine.lease());
    let (id, bytes) = jobs::create(&mut *tx, job, usize::MAX, false)?;
    let state = jobs::read_state(&mut *tx, id)?;
    batch_hook();
    tx.commit_batch()?;
    let outcome = Outcome {
        deleted,
        updated,
        job: Some(id),
    };
    notify(
        engine,
        Some(id),
        &name,
        ProgressEvent::Batch,
        1,
        &outcome,
        &batch.usage,
        held,
    );
    let cache = state.map(|mut state| {
        state.stack.set_row_costs(row_costs);
        (bytes, state)
    });
    finish_inline(engine, id, cache)
}

/// Runs job `id` to its end on the calling thread, for a delete that waits
/// for its rows to be gone. While another worker holds the job's lease, it
/// waits (and takes the job over if the lease expires).
fn finish_inline(
    engine: Engine<'_>,
    id: JobId,
    cache: Option<(Vec<u8>, JobState)>,
) -> Result<Outcome, Error> {
    match run_to_end(engine, id, cache)? {
        JobEnd::Finished(outcome) => Ok(outcome),
        JobEnd::Failed(error) => Err(error),
        JobEnd::Cancelled(reason) => Err(Error::JobCancelled { job: id, reason }),
        JobEnd::Stopped | JobEnd::NotDue | JobEnd::Busy => Err(Error::JobCancelled {
            job: id,
            reason: "stopped before it finished".to_owned(),
        }),
        JobEnd::Gone => Ok(Outcome {
            job: Some(id),
            ..Outcome::default()
        }),
    }
}

/// A job for a batched delete; with `stack`, the job's first batch ran
/// already (its counts are `deleted` and `updated`).
#[allow(clippy::too_many_arguments)]
fn new_job(
    name: &Name,
    roots: Start,
    budget: &Budget,
    options: &DeleteOptions,
    stack: Option<DeleteStack>,
    deleted: &[u64],
    updated: &[u64],
    ctx: Ctx<'_>,
) -> NewJob {
    let batches = u64::from(stack.is_some());
    let names = table_names(ctx);
    NewJob {
        table: name.clone(),
        roots,
        due_ms: None,
        checked: true,
        budget: *budget,
        max_rows: options.max_rows,
        stack,
        batch_rows: options.batch_rows,
        soft: None,
        batches,
        deleted: counts(&names, deleted),
        updated: counts(&names, updated),
        lease: None,
    }
}

/// Tells the observer.
#[allow(clippy::too_many_arguments)]
fn notify(
    engine: Engine<'_>,
    job: Option<JobId>,
    table: &Name,
    event: ProgressEvent,
    batches: u64,
    outcome: &Outcome,
    usage: &Usage,
    held_rows: usize,
) {
    if let Some(observer) = engine.observer {
        observer.notify(&Report {
            job,
            table: table.clone(),
            event,
            batches,
            outcome: outcome.clone(),
            batch_rows_written: usage.rows_written,
            batch_bytes_written: usage.bytes_written,
            batch_rows_read: usage.rows_read,
            held_rows,
        });
    }
}

fn notify_state(engine: Engine<'_>, state: &JobState, event: ProgressEvent, usage: &Usage) {
    notify(
        engine,
        Some(state.id),
        state.stack.root_table(),
        event,
        state.batches,
        &state.outcome(),
        usage,
        state.stack.held_rows(),
    );
}

/// Test hook, not public API: a function run inside each batch's write
/// transaction of a batched delete, just before it commits. Crash tests set
/// it (once per process) to sleep, so that a `SIGKILL` lands inside an open
/// transaction.
pub static BATCH_HOOK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Runs [`BATCH_HOOK`], if set.
fn batch_hook() {
    if let Some(hook) = BATCH_HOOK.get() {
        hook();
    }
}

/// Marks job `id` failed or cancelled in a new transaction (after the
/// batch's own rolled back), and tells the observer.
fn stop_job(engine: Engine<'_>, id: JobId, status: JobStatus) -> Result<(), Error> {
    let mut tx = engine.store.begin(Access::Write)?;
    let Some((mut row, mut state)) = jobs::read(&mut *tx, id)? else {
        return Ok(());
    };
    if !state.status.is_active() {
        return Ok(());
    }
    row.lease = None;
    let event = match &status {
        JobStatus::Failed { error } => ProgressEvent::Failed {
            error: error.clone(),
        },
        JobStatus::Cancelled { reason } => ProgressEvent::Cancelled {
            reason: reason.clone(),
        },
        _ => ProgressEvent::Batch,
    };
    jobs::set_status(&mut *tx, &mut row, &mut state, status)?;
    tx.commit()?;
    notify_state(engine, &state, event, &Usage::default());
    Ok(())
}

/// Gives up this engine's lease on job `id` (a worker stopping between
/// batches), so that another worker may take the job at once.
fn release_lease(engine: Engine<'_>, id: JobId) -> Result<(), Error> {
    let mut tx = engine.store.begin(Access::Write)?;
    let Some(mut row) = tx.job(id)? else {
        return Ok(());
    };
    if row.lease.as_ref().is_some_and(|l| l.owner == engine.owner) {
        row.lease = None;
        tx.update_job(&row)?;
        tx.commit()?;
    }
    Ok(())
}

/// The reason given when a scheduled root no longer carries its time.
/// Stops job `id` as cancelled because its root `key` was restored (or
/// scheduled again) since the job started.
fn cancel_restored(
    engine: Engine<'_>,
    id: JobId,
    state: &JobState,
    key: &Key,
) -> Result<JobEnd, Error> {
    let reason = format!(
        "{} {} was restored or scheduled again",
        state.stack.root_table(),
        crate::model::value::display_key(key)
    );
    stop_job(
        engine,
        id,
        JobStatus::Cancelled {
            reason: reason.clone(),
        },
    )?;
    Ok(JobEnd::Cancelled(reason))
}

/// Runs the check pass of a job that has not run it (a scheduled delete,
/// when due; a retried job), and marks it checked.
fn check_job(engine: Engine<'_>, state: &JobState) -> Result<Option<JobEnd>, Error> {
    let ctx = engine.ctx;
    let table = ctx.graph.resolve_table(state.stack.root_table())?;
    let roots = {
        let mut tx = engine.store.begin(Access::Read)?;
        let roots = jobs::read_start(&mut *tx, state)?;
        if let (Some(soft), Start::Keys(keys)) = (state.stack.soft_check(), &roots) {
            for key in keys {
                let Some(row) = tx.get(state.stack.root_table(), key)? else {
                    continue;
                };
                if row.get(soft.column) != Some(&crate::model::value::Value::Integer(soft.at)) {
                    drop(tx);
                    return cancel_restored(engine, state.id, state, key).map(Some);
                }
            }
        }
        roots
    };
    let reachable = ctx.graph.cascade_reachable(table);
    if !ctx.graph.delete_changes_keys(&reachable) {
        if let Err(error) = check_pass(
            engine.store,
            ctx,
            table,
            roots,
            state.stack.batch_rows(),
            state.max_rows,
            &state.budget,
        ) {
            if transient(&error) {
                return Err(error);
            }
            stop_job(
                engine,
                state.id,
                JobStatus::Failed {
                    error: error.to_string(),
                },
            )?;
            return Ok(Some(JobEnd::Failed(error)));
        }
    }
    let mut tx = engine.store.begin(Access::Write)?;
    let Some((mut row, mut fresh)) = jobs::read(&mut *tx, state.id)? else {
        return Ok(Some(JobEnd::Gone));
    };
    if !fresh.checked && fresh.status.is_active() {
        fresh.checked = true;
        jobs::write(&mut *tx, &mut row, &fresh)?;
        tx.commit()?;
    }
    Ok(None)
}

/// Runs job `id` to its end (see [`run_job`]); while another worker holds
/// the job's lease, waits, with a growing pause (20 ms to 1 s), and takes
/// the job over if the lease expires.
pub(crate) fn run_to_end(
    engine: Engine<'_>,
    id: JobId,
    mut cache: Option<(Vec<u8>, JobState)>,
) -> Result<JobEnd, Error> {
    let mut pause = std::time::Duration::from_millis(20);
    loop {
        match run_job(engine, id, cache.take())? {
            JobEnd::Busy => {
                if engine.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                    return Ok(JobEnd::Stopped);
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_secs(1));
            }
            end => return Ok(end),
        }
    }
}

/// Runs job `id` batch by batch until it ends, the stop flag is raised, or
/// a store error occurs; [`JobEnd::Busy`] at once when another worker holds
/// its lease. Each batch takes or renews this engine's lease in its own
/// transaction. `cache` is the job's state as this process last wrote it.
pub(crate) fn run_job(
    engine: Engine<'_>,
    id: JobId,
    mut cache: Option<(Vec<u8>, JobState)>,
) -> Result<JobEnd, Error> {
    let ctx = engine.ctx;
    let _span = tracing::info_span!("job", job = %id).entered();
    let names = table_names(ctx);
    let mut rescan = false;
    loop {
        if engine.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            release_lease(engine, id)?;
            return Ok(JobEnd::Stopped);
        }
        let mut tx = engine.store.begin(Access::Write)?;
        let Some(mut row) = tx.job(id)? else {
            return Ok(JobEnd::Gone);
        };
        let now = jobs::now_ms();
        if row
            .lease
            .as_ref()
            .is_some_and(|l| l.excludes(engine.owner, now))
        {
            return Ok(JobEnd::Busy);
        }
        let mut state = match cache.take() {
            Some((cached, state)) if cached == row.state => state,
            _ => jobs::decode(&row.state)?,
        };
        match &state.status {
            JobStatus::Failed { error } => {
                return Ok(JobEnd::Failed(Error::JobFailed {
                    job: id,
                    error: error.clone(),
                }));
            }
            JobStatus::Cancelled { reason } => return Ok(JobEnd::Cancelled(reason.clone())),
            _ => {}
        }
        if state.due_ms.is_some_and(|due| due > now) {
            return Ok(JobEnd::NotDue);
        }
        if !state.checked {
            drop(tx);
            if let Some(end) = check_job(engine, &state)? {
                return Ok(end);
            }
            continue;
        }
        if state.status == JobStatus::Queued {
            state.status = JobStatus::Running;
        }
        if rescan {
            state.stack.rescan();
            state.rescans += 1;
            rescan = false;
        }
        if let Some(key) = state.stack.check_roots(&mut *tx)? {
            drop(tx);
            return cancel_restored(engine, id, &state, &key);
        }
        let batch_no = state.batches + 1;
        let _batch = tracing::debug_span!("batch", job = %id, batch = batch_no).entered();
        let result = if state.stack.is_single_transaction(ctx)? {
            run_pinned(ctx, &mut *tx, &mut state)
        } else {
            let budget = state.budget;
            run_batch(engine, &mut *tx, &mut state.stack, &budget)
        };
        let batch = match result {
            Ok(batch) => batch,
            Err(error) => {
                drop(tx);
                if transient(&error) {
                    return Err(error);
                }
                if rescannable(&error) && state.rescans < MAX_RESCANS {
                    tracing::debug!(%error, "rows appeared under rows being deleted: rescanning");
                    rescan = true;
                    continue;
                }
                stop_job(
                    engine,
                    id,
                    JobStatus::Failed {
                        error: error.to_string(),
                    },
                )?;
                return Ok(JobEnd::Failed(error));
            }
        };
        match batch.progress {
            Progress::Cancelled { key } => {
                drop(tx);
                return cancel_restored(engine, id, &state, &key);
            }
            Progress::Done => {
                state.add_counts(&names, &batch.deleted, &batch.updated);
                state.batches += 1;
                tx.delete_job(id)?;
                batch_hook();
                tx.commit()?;
                tracing::debug!(batches = state.batches, "job finished");
                notify_state(engine, &state, ProgressEvent::Finished, &batch.usage);
                return Ok(JobEnd::Finished(state.outcome()));
            }
            Progress::Paused => {
                state.add_counts(&names, &batch.deleted, &batch.updated);
                state.batches += 1;
                row.lease = Some(engine.lease());
                let bytes = jobs::write(&mut *tx, &mut row, &state)?;
                batch_hook();
                tx.commit_batch()?;
                notify_state(engine, &state, ProgressEvent::Batch, &batch.usage);
                cache = Some((bytes, state));
            }
        }
    }
}

/// A job whose delete changes keys: the whole delete in this one
/// transaction, planned as `sync` does.
fn run_pinned(
    ctx: Ctx<'_>,
    tx: &mut dyn Transaction,
    state: &mut JobState,
) -> Result<Batch, Error> {
    let table = ctx.graph.resolve_table(state.stack.root_table())?;
    let roots = jobs::read_roots(tx, state)?;
    let options = DeleteOptions {
        max_rows: state.max_rows,
        batch_rows: state.stack.batch_rows(),
        ..DeleteOptions::default()
    };
    let outcome = delete_sync(ctx, tx, table, &roots, &options)?;
    let names = table_names(ctx);
    let per_table = |map: &std::collections::BTreeMap<Name, u64>| -> Vec<u64> {
        names
            .iter()
            .map(|n| map.get(n).copied().unwrap_or(0))
            .collect()
    };
    Ok(Batch {
        progress: Progress::Done,
        usage: Usage {
            rows_written: outcome.rows_written(),
            ..Usage::default()
        },
        deleted: per_table(&outcome.deleted),
        updated: per_table(&outcome.updated),
    })
}
