//! Delete jobs: their rows in the store ([`JobRow`]), and what callers see
//! of them ([`JobId`], [`JobInfo`], [`JobStatus`]).
//!
//! A batched delete that does not finish in its first batch becomes a job.
//! Its row holds everything needed to resume it — the executor's stack, the
//! budget, the counts so far, as the opaque [`JobRow::state`] — and is
//! rewritten in the same transaction as every batch, so a crash between or
//! inside batches loses nothing. The roots go beside it, 1,000 keys per
//! chunk, written once (so that a batch does not rewrite them).
//!
//! Who runs a job between its batches is its lease ([`Lease`]): a worker
//! claims a job ([`Transaction::claim_job`]), and each of its batches
//! renews the lease; a worker that dies loses it when it expires, and
//! another takes the job over. A finished job's row is deleted by its last
//! batch; failed and cancelled jobs stay (inactive) until
//! [`Database::forget_job`](crate::Database::forget_job).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::engine::execute::delete::{DeleteStack, ROOT_CHUNK, Roots, SoftCheck, read_chunk};
use crate::engine::execute::roots::Start;
use crate::engine::outcome::Outcome;
use crate::model::budget::Budget;
use crate::model::error::Error;
pub(crate) use crate::model::job::JobId;
use crate::model::metadata::Name;
use crate::model::value::Key;
use crate::store::{JobFilter, JobRow, Lease, Transaction};

/// Version of the job state format.
const VERSION: u32 = 2;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobStatus {
    /// Waiting for a worker (and for its due time, if scheduled).
    Queued,
    /// Started: some batches may have committed.
    Running,
    /// Stopped by a refusal (a RESTRICT or NO ACTION row, a missing SET
    /// DEFAULT parent — found by the check pass, or inserted since it ran).
    /// The batches committed before it stay committed, and no orphan was
    /// left: the database is consistent, the delete is partly done.
    /// [`Database::retry_job`](crate::Database::retry_job) queues it again.
    Failed {
        /// The refusal, as [`Error`]'s message.
        error: String,
    },
    /// Stopped on purpose: a root of a scheduled delete was restored (or
    /// scheduled again), or [`Database::cancel_job`](crate::Database::cancel_job)
    /// was called. Committed batches stay committed; no orphan was left.
    Cancelled {
        /// Why.
        reason: String,
    },
}

impl JobStatus {
    /// Whether the job still runs (queued or running).
    pub fn is_active(&self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// What a caller sees of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobInfo {
    /// The job's id.
    pub id: JobId,
    /// SQL name of the table of its roots.
    pub table: Name,
    /// How many roots it deletes.
    pub roots: u64,
    /// Where it stands.
    pub status: JobStatus,
    /// When it was created.
    pub created: SystemTime,
    /// When it may start (scheduled deletes); `None`: at once.
    pub due: Option<SystemTime>,
    /// Batches committed so far.
    pub batches: u64,
    /// Rows deleted and updated so far, per table.
    pub outcome: Outcome,
}

/// The persisted state of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JobState {
    pub(crate) version: u32,
    pub(crate) id: JobId,
    pub(crate) status: JobStatus,
    pub(crate) created_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due_ms: Option<i64>,
    /// Whether the check pass has run (scheduled jobs run it when due).
    pub(crate) checked: bool,
    pub(crate) budget: Budget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_rows: Option<u64>,
    /// Batches committed so far.
    pub(crate) batches: u64,
    /// Times the frames were rescanned after rows appeared under them.
    #[serde(default)]
    pub(crate) rescans: u32,
    pub(crate) deleted: BTreeMap<Name, u64>,
    pub(crate) updated: BTreeMap<Name, u64>,
    pub(crate) stack: DeleteStack,
}

impl JobState {
    pub(crate) fn info(&self) -> JobInfo {
        JobInfo {
            id: self.id,
            table: self.stack.root_table().clone(),
            roots: self.stack.roots_count(),
            status: self.status.clone(),
            created: system_time(self.created_ms),
            due: self.due_ms.map(system_time),
            batches: self.batches,
            outcome: self.outcome(),
        }
    }

    pub(crate) fn outcome(&self) -> Outcome {
        Outcome {
            deleted: self.deleted.clone(),
            updated: self.updated.clone(),
            job: Some(self.id),
        }
    }

    /// Adds a batch's counts (per table position) to the totals.
    pub(crate) fn add_counts(&mut self, names: &[Name], deleted: &[u64], updated: &[u64]) {
        for (name, (d, u)) in names.iter().zip(deleted.iter().zip(updated)) {
            if *d > 0 {
                *self.deleted.entry(name.clone()).or_default() += d;
            }
            if *u > 0 {
                *self.updated.entry(name.clone()).or_default() += u;
            }
        }
    }
}

/// The time `ms` milliseconds after the Unix epoch (before it, when
/// negative).
pub(crate) fn system_time(ms: i64) -> SystemTime {
    let offset = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + offset
    } else {
        UNIX_EPOCH - offset
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time a soft delete writes: milliseconds since the Unix epoch, now,
/// but later than every time this process wrote before — so that each soft
/// delete and soft cascade has a time of its own, and a restore clears only
/// the rows its own delete marked. (Two processes marking in the same
/// millisecond may still share one.)
pub(crate) fn soft_delete_time() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(now);
    now.max(previous + 1)
}

/// A worker's id, unique to this process and call: the process id, the
/// time, and a counter.
pub(crate) fn new_owner() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn json_error(error: serde_json::Error) -> Error {
    Error::JobState(error)
}

/// Decodes a job state.
pub(crate) fn decode(bytes: &[u8]) -> Result<JobState, Error> {
    serde_json::from_slice(bytes).map_err(json_error)
}

/// Encodes a job state.
pub(crate) fn encode(state: &JobState) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(state).map_err(json_error)
}

/// Job `id`'s row and decoded state, if the job exists.
pub(crate) fn read(
    tx: &mut dyn Transaction,
    id: JobId,
) -> Result<Option<(JobRow, JobState)>, Error> {
    match tx.job(id)? {
        Some(row) => {
            let state = decode(&row.state)?;
            Ok(Some((row, state)))
        }
        None => Ok(None),
    }
}

/// Job `id`'s state, if the job exists.
pub(crate) fn read_state(tx: &mut dyn Transaction, id: JobId) -> Result<Option<JobState>, Error> {
    Ok(read(tx, id)?.map(|(_, state)| state))
}

/// Writes `state` into `row` (its activity follows the status; a change of
/// activity bumps the generation) and the row into the store; returns the
/// bytes written.
pub(crate) fn write(
    tx: &mut dyn Transaction,
    row: &mut JobRow,
    state: &JobState,
) -> Result<Vec<u8>, Error> {
    let active = state.status.is_active();
    if row.active != active {
        row.active = active;
        row.generation += 1;
    }
    row.due_ms = state.due_ms;
    row.state = encode(state)?;
    tx.update_job(row)?;
    Ok(row.state.clone())
}

/// Writes chunks of job `id`'s roots.
pub(crate) fn write_chunks(
    tx: &mut dyn Transaction,
    id: JobId,
    chunks: &[(u64, Vec<Key>)],
) -> Result<(), Error> {
    for (chunk, keys) in chunks {
        let bytes = crate::model::compact::encode_keys(keys).map_err(json_error)?;
        tx.put_job_roots(id, *chunk, &bytes)?;
    }
    Ok(())
}

/// The roots of a job: its keys (reading its chunks), or its condition
/// (from the start).
pub(crate) fn read_start(tx: &mut dyn Transaction, state: &JobState) -> Result<Start, Error> {
    match state.stack.root_query() {
        Some(mut query) => {
            query.restart();
            Ok(Start::Query(Box::new(query)))
        }
        None => Ok(Start::Keys(read_roots(tx, state)?)),
    }
}

/// Every root key of a job (reading its chunks); for a job whose roots are
/// a condition, every row that matches it now.
pub(crate) fn read_roots(tx: &mut dyn Transaction, state: &JobState) -> Result<Vec<Key>, Error> {
    if let Some(mut query) = state.stack.root_query() {
        query.restart();
        return query.all_keys(tx, state.stack.root_table());
    }
    let mut roots = Vec::new();
    let chunks = state.stack.roots_end().div_ceil(ROOT_CHUNK as u64);
    for chunk in 0..chunks {
        roots.extend(read_chunk(tx, state.id, chunk)?);
    }
    Ok(roots)
}

/// Sets a job's status and writes it; returns the bytes written.
pub(crate) fn set_status(
    tx: &mut dyn Transaction,
    row: &mut JobRow,
    state: &mut JobState,
    status: JobStatus,
) -> Result<Vec<u8>, Error> {
    state.status = status;
    write(tx, row, state)
}

/// The active jobs (without their state).
pub(crate) fn active(tx: &mut dyn Transaction) -> Result<Vec<JobRow>, Error> {
    tx.list_jobs(JobFilter::ACTIVE)
}

/// What a new job is.
pub(crate) struct NewJob {
    pub(crate) table: Name,
    pub(crate) roots: Start,
    pub(crate) due_ms: Option<i64>,
    pub(crate) checked: bool,
    pub(crate) budget: Budget,
    pub(crate) max_rows: Option<u64>,
    /// The stack, if the job already ran (its first batch in this
    /// transaction); else a fresh one is made from `roots`.
    pub(crate) stack: Option<DeleteStack>,
    pub(crate) batch_rows: usize,
    pub(crate) soft: Option<SoftCheck>,
    /// Batches already run (the first, in this transaction), and their
    /// counts.
    pub(crate) batches: u64,
    pub(crate) deleted: BTreeMap<Name, u64>,
    pub(crate) updated: BTreeMap<Name, u64>,
    /// The lease of the worker that runs it, if one already does.
    pub(crate) lease: Option<Lease>,
}

/// Appends `roots` to an active job of `table` that runs at once (not
/// scheduled), for the pending-job cap; returns its id and state bytes, or
/// `None` when there is no such job.
fn coalesce(
    tx: &mut dyn Transaction,
    table: &str,
    roots: Vec<Key>,
) -> Result<Option<(JobId, Vec<u8>)>, Error> {
    let candidates: Vec<JobId> = active(tx)?
        .into_iter()
        .filter(|row| row.due_ms.is_none() && row.table == table)
        .map(|row| row.id)
        .collect();
    for id in candidates {
        let Some((mut row, mut state)) = read(tx, id)? else {
            continue;
        };
        if !state.status.is_active() {
            continue;
        }
        let chunks = state.stack.append_roots(roots);
        write_chunks(tx, id, &chunks)?;
        row.generation += 1;
        let bytes = write(tx, &mut row, &state)?;
        tracing::debug!(job = %id, %table, "coalesced into an active job (pending-job cap)");
        return Ok(Some((id, bytes)));
    }
    Ok(None)
}

/// Creates a job in `tx`: its row and its roots.
///
/// With `coalesce` and at least `cap` active jobs, the roots are appended
/// to an active job of the same table that runs at once (not scheduled)
/// instead; its id is returned. With no such job the job is refused with
/// [`Error::TooManyJobs`]. Without `coalesce` the cap is not checked.
pub(crate) fn create(
    tx: &mut dyn Transaction,
    job: NewJob,
    cap: usize,
    coalesce_past_cap: bool,
) -> Result<(JobId, Vec<u8>), Error> {
    if coalesce_past_cap && active(tx)?.len() >= cap {
        let table = job.table.clone();
        let coalesced = match job.roots {
            Start::Keys(keys) => coalesce(tx, &table, keys)?,
            // Roots found by a condition join no other job.
            Start::Query(_) => None,
        };
        return coalesced.ok_or(Error::TooManyJobs { table, cap });
    }
    let mut row = JobRow::new(job.table.to_string(), job.due_ms, Vec::new());
    row.lease = job.lease.clone();
    let id = tx.insert_job(&row)?;
    row.id = id;
    let roots = match job.roots {
        Start::Keys(keys) => {
            let count = keys.len() as u64;
            let chunks: Vec<(u64, Vec<Key>)> = keys
                .chunks(ROOT_CHUNK)
                .enumerate()
                .map(|(i, keys)| (i as u64, keys.to_vec()))
                .collect();
            write_chunks(tx, id, &chunks)?;
            Roots::Stored {
                job: id,
                end: count,
                count,
            }
        }
        Start::Query(query) => Roots::Query(query),
    };
    let stack = match job.stack {
        Some(mut stack) => {
            if !stack.roots_by_condition() {
                stack.store_roots(roots);
            }
            stack
        }
        None => DeleteStack::new(job.table.clone(), roots, job.batch_rows).batched(job.soft),
    };
    let state = JobState {
        version: VERSION,
        id,
        status: if job.batches == 0 {
            JobStatus::Queued
        } else {
            JobStatus::Running
        },
        created_ms: now_ms(),
        due_ms: job.due_ms,
        checked: job.checked,
        budget: job.budget,
        max_rows: job.max_rows,
        batches: job.batches,
        rescans: 0,
        deleted: job.deleted,
        updated: job.updated,
        stack,
    };
    let bytes = write(tx, &mut row, &state)?;
    Ok((id, bytes))
}
