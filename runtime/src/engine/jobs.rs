//! Delete jobs: their records in the store's job table, and what callers see
//! of them ([`JobId`], [`JobInfo`], [`JobStatus`]).
//!
//! A batched delete that does not finish in its first batch becomes a job.
//! Its record holds everything needed to resume it — the executor's stack,
//! the budget, the counts so far — and is rewritten in the same transaction
//! as every batch, so a crash between or inside batches loses nothing.
//! Records, all in the store's job table (`Transaction::put_job`):
//!
//! - `index`: the job index — the next id, a generation number bumped on
//!   every change of the set of jobs, and one small entry per job (table,
//!   due time, whether it is active). Workers poll it.
//! - `generation`: the index's generation alone: inserts read it to know
//!   whether their cache of the rows being deleted is fresh.
//! - `job-<id>`: a job's state (JSON), rewritten by every batch.
//! - `job-<id>/roots/<chunk>`: the job's roots, 1,000 keys per record,
//!   written once (so that a batch does not rewrite them).
//!
//! A finished job's records are deleted by its last batch. Failed and
//! cancelled jobs stay (inactive) until [`Database::forget_job`](crate::Database::forget_job).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::execute::delete::{DeleteStack, ROOT_CHUNK, chunk_id};
use crate::engine::outcome::Outcome;
use crate::model::budget::Budget;
use crate::model::error::Error;
pub(crate) use crate::model::job::JobId;
use crate::model::metadata::Name;
use crate::model::value::Key;
use crate::store::Transaction;

/// Record id of the job index.
pub(crate) const INDEX: &str = "index";

/// Record id of the index's generation alone (read by every insert that may
/// reference a row being deleted).
pub(crate) const GENERATION: &str = "generation";

/// Version of the job state format.
const VERSION: u32 = 1;

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
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// When it may start, in milliseconds since the Unix epoch (scheduled
    /// deletes); `None`: at once.
    pub due_ms: Option<i64>,
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
            created_ms: self.created_ms,
            due_ms: self.due_ms,
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

/// One job in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    pub(crate) id: JobId,
    pub(crate) table: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due_ms: Option<i64>,
    /// Queued or running.
    pub(crate) active: bool,
    /// A scheduled delete (checks its roots' deletion time).
    #[serde(default)]
    pub(crate) scheduled: bool,
}

/// The job index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Index {
    pub(crate) next_id: u64,
    pub(crate) generation: u64,
    pub(crate) jobs: Vec<IndexEntry>,
}

/// Record id of job `id`'s state.
pub(crate) fn record_id(id: JobId) -> String {
    format!("job-{:020}", id.0)
}

/// Record id prefix of job `id`'s root chunks.
pub(crate) fn roots_prefix(id: JobId) -> String {
    format!("job-{:020}/roots/", id.0)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn json_error(error: serde_json::Error) -> Error {
    Error::JobState(error)
}

/// The job index (empty when no job was ever created).
pub(crate) fn read_index(tx: &mut dyn Transaction) -> Result<Index, Error> {
    match tx.get_job(INDEX)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(json_error),
        None => Ok(Index::default()),
    }
}

/// Writes the job index, with a new generation.
pub(crate) fn write_index(tx: &mut dyn Transaction, index: &mut Index) -> Result<(), Error> {
    index.generation += 1;
    let bytes = serde_json::to_vec(index).map_err(json_error)?;
    tx.put_job(INDEX, &bytes)?;
    tx.put_job(GENERATION, index.generation.to_string().as_bytes())
}

/// The index's generation (0 when no job was ever created).
pub(crate) fn read_generation(tx: &mut dyn Transaction) -> Result<u64, Error> {
    Ok(tx
        .get_job(GENERATION)?
        .and_then(|bytes| std::str::from_utf8(&bytes).ok()?.parse().ok())
        .unwrap_or(0))
}

/// Job `id`'s state, if the job exists.
pub(crate) fn read_state(tx: &mut dyn Transaction, id: JobId) -> Result<Option<JobState>, Error> {
    match tx.get_job(&record_id(id))? {
        Some(bytes) => decode(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Decodes a job state.
pub(crate) fn decode(bytes: &[u8]) -> Result<JobState, Error> {
    serde_json::from_slice(bytes).map_err(json_error)
}

/// Encodes and writes a job state; returns the bytes written.
pub(crate) fn write_state(tx: &mut dyn Transaction, state: &JobState) -> Result<Vec<u8>, Error> {
    let bytes = serde_json::to_vec(state).map_err(json_error)?;
    tx.put_job(&record_id(state.id), &bytes)?;
    Ok(bytes)
}

/// Writes root chunks of job `id`.
pub(crate) fn write_chunks(
    tx: &mut dyn Transaction,
    id: JobId,
    chunks: &[(u64, Vec<Key>)],
) -> Result<(), Error> {
    let prefix = roots_prefix(id);
    for (chunk, keys) in chunks {
        let bytes = crate::model::compact::encode_keys(keys).map_err(json_error)?;
        tx.put_job(&chunk_id(&prefix, *chunk), &bytes)?;
    }
    Ok(())
}

/// Every root of a job (reading its chunks).
pub(crate) fn read_roots(tx: &mut dyn Transaction, state: &JobState) -> Result<Vec<Key>, Error> {
    let prefix = roots_prefix(state.id);
    let mut roots = Vec::new();
    let chunks = state.stack.roots_end().div_ceil(ROOT_CHUNK as u64);
    for chunk in 0..chunks {
        if let Some(bytes) = tx.get_job(&chunk_id(&prefix, chunk))? {
            roots.extend(crate::model::compact::decode_keys(&bytes).map_err(json_error)?);
        }
    }
    Ok(roots)
}

/// Deletes every record of a job and its index entry.
pub(crate) fn remove(tx: &mut dyn Transaction, state: &JobState) -> Result<(), Error> {
    let prefix = roots_prefix(state.id);
    for chunk in 0..state.stack.roots_end().div_ceil(ROOT_CHUNK as u64) {
        tx.delete_job(&chunk_id(&prefix, chunk))?;
    }
    tx.delete_job(&record_id(state.id))?;
    let mut index = read_index(tx)?;
    index.jobs.retain(|entry| entry.id != state.id);
    write_index(tx, &mut index)
}

/// Sets a job's status, in its state and in the index.
pub(crate) fn set_status(
    tx: &mut dyn Transaction,
    state: &mut JobState,
    status: JobStatus,
) -> Result<Vec<u8>, Error> {
    let active = status.is_active();
    state.status = status;
    let bytes = write_state(tx, state)?;
    let mut index = read_index(tx)?;
    if let Some(entry) = index.jobs.iter_mut().find(|e| e.id == state.id) {
        if entry.active != active {
            entry.active = active;
            write_index(tx, &mut index)?;
        }
    }
    Ok(bytes)
}

/// What a new job is.
pub(crate) struct NewJob {
    pub(crate) table: Name,
    pub(crate) roots: Vec<Key>,
    pub(crate) due_ms: Option<i64>,
    pub(crate) checked: bool,
    pub(crate) budget: Budget,
    pub(crate) max_rows: Option<u64>,
    /// The stack, if the job already ran (its first batch in this
    /// transaction); else a fresh one is made from `roots`.
    pub(crate) stack: Option<DeleteStack>,
    pub(crate) batch_rows: usize,
    pub(crate) soft: Option<crate::engine::execute::delete::SoftCheck>,
    /// Batches already run (the first, in this transaction), and their
    /// counts.
    pub(crate) batches: u64,
    pub(crate) deleted: BTreeMap<Name, u64>,
    pub(crate) updated: BTreeMap<Name, u64>,
}

/// Creates a job in `tx`: its roots, its state and its index entry.
///
/// With `coalesce` and at least `cap` active jobs, the roots are appended
/// to an active job of the same table that runs at once (not scheduled, not
/// started by this call) instead; its id is returned. With no such job the
/// job is created anyway past the cap when `coalesce` is false, and refused
/// with [`Error::TooManyJobs`] when it is true.
pub(crate) fn create(
    tx: &mut dyn Transaction,
    job: NewJob,
    cap: usize,
    coalesce: bool,
) -> Result<(JobId, Vec<u8>), Error> {
    let mut index = read_index(tx)?;
    let active = index.jobs.iter().filter(|e| e.active).count();
    if coalesce && active >= cap {
        let candidates: Vec<JobId> = index
            .jobs
            .iter()
            .filter(|e| e.active && !e.scheduled && e.due_ms.is_none() && e.table == job.table)
            .map(|e| e.id)
            .collect();
        for id in candidates {
            let Some(mut state) = read_state(tx, id)? else {
                continue;
            };
            if !state.status.is_active() {
                continue;
            }
            let chunks = state.stack.append_roots(job.roots);
            write_chunks(tx, id, &chunks)?;
            let bytes = write_state(tx, &state)?;
            write_index(tx, &mut index)?;
            tracing::debug!(job = %id, table = %job.table, "coalesced into an active job (pending-job cap)");
            return Ok((id, bytes));
        }
        return Err(Error::TooManyJobs {
            table: job.table,
            cap,
        });
    }
    index.next_id = index.next_id.max(1);
    let id = JobId(index.next_id);
    index.next_id += 1;
    let prefix = roots_prefix(id);
    let count = job.roots.len() as u64;
    let chunks: Vec<(u64, Vec<Key>)> = job
        .roots
        .chunks(ROOT_CHUNK)
        .enumerate()
        .map(|(i, keys)| (i as u64, keys.to_vec()))
        .collect();
    write_chunks(tx, id, &chunks)?;
    let roots = crate::engine::execute::delete::Roots::Stored {
        prefix,
        end: count,
        count,
    };
    let stack = match job.stack {
        Some(mut stack) => {
            stack.store_roots(roots);
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
    let bytes = write_state(tx, &state)?;
    index.jobs.push(IndexEntry {
        id,
        table: job.table,
        due_ms: job.due_ms,
        active: true,
        scheduled: job.soft.is_some(),
    });
    write_index(tx, &mut index)?;
    Ok((id, bytes))
}
