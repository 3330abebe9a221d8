//! Job rows: how a store keeps delete jobs, one row per job, so that many
//! workers — threads, processes, machines — can drain one queue.
//!
//! A store keeps, per job, the few columns its queries need (active, due
//! time, lease, the roots' table) and the engine's state as opaque bytes;
//! the job's roots go in separate chunks, written once. A worker claims a
//! job with [`Transaction::claim_job`](super::Transaction::claim_job): the
//! first active, due job that no other worker holds a live lease on; server
//! stores lock it with `FOR UPDATE SKIP LOCKED`, so concurrent claims never
//! wait on each other or take the same job. The lease says who runs the job
//! between batches; a worker that dies loses it when it expires, and
//! another worker takes the job over.

use crate::model::job::JobId;

/// A worker's claim on a job between its batches: who, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The worker holding the job (an id unique to the worker's process
    /// and thread).
    pub owner: String,
    /// When the lease expires, in milliseconds since the Unix epoch.
    pub until_ms: i64,
}

impl Lease {
    /// Whether the lease keeps `owner` from running the job at `now_ms`:
    /// another worker holds it and it has not expired.
    pub fn excludes(&self, owner: &str, now_ms: i64) -> bool {
        self.owner != owner && self.until_ms > now_ms
    }
}

/// One delete job as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRow {
    /// The job's id (assigned by the store on insert, increasing).
    pub id: JobId,
    /// SQL name of the table of the job's roots.
    pub table: String,
    /// Queued or running (failed and cancelled jobs are kept, inactive,
    /// until forgotten).
    pub active: bool,
    /// When the job may start, in milliseconds since the Unix epoch
    /// (scheduled deletes); `None`: at once.
    pub due_ms: Option<i64>,
    /// Bumped by the engine whenever the job's roots or its activity
    /// change, so that readers caching the roots of active jobs know when
    /// to reload them.
    pub generation: u64,
    /// The worker running the job between batches, if any.
    pub lease: Option<Lease>,
    /// The engine's state of the job (opaque to the store). Empty in
    /// listings made without it.
    pub state: Vec<u8>,
}

impl JobRow {
    /// A new, active, unleased job of `table` with `state`; its id is
    /// assigned when it is inserted.
    pub fn new(table: impl Into<String>, due_ms: Option<i64>, state: Vec<u8>) -> Self {
        JobRow {
            id: JobId(0),
            table: table.into(),
            active: true,
            due_ms,
            generation: 0,
            lease: None,
            state,
        }
    }

    /// Whether a worker may start a batch of the job at `now_ms`: active,
    /// due, and not leased to another worker.
    pub fn claimable(&self, owner: &str, now_ms: i64) -> bool {
        self.active
            && self.due_ms.is_none_or(|due| due <= now_ms)
            && self
                .lease
                .as_ref()
                .is_none_or(|lease| !lease.excludes(owner, now_ms))
    }
}

/// Which jobs [`Transaction::list_jobs`](super::Transaction::list_jobs)
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only active jobs.
    pub active_only: bool,
    /// With their state (else [`JobRow::state`] is empty).
    pub with_state: bool,
}

impl JobFilter {
    /// Every job, with its state.
    pub const ALL: JobFilter = JobFilter {
        active_only: false,
        with_state: true,
    };

    /// The active jobs, without their state.
    pub const ACTIVE: JobFilter = JobFilter {
        active_only: true,
        with_state: false,
    };
}

/// A worker's request for a job ([`Transaction::claim_job`](super::Transaction::claim_job)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claim<'a> {
    /// The worker asking.
    pub owner: &'a str,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// When the lease it takes expires, in milliseconds since the Unix
    /// epoch.
    pub until_ms: i64,
}

impl<'a> Claim<'a> {
    /// A claim by `owner` at `now_ms` for a lease until `until_ms`.
    pub fn new(owner: &'a str, now_ms: i64, until_ms: i64) -> Self {
        Claim {
            owner,
            now_ms,
            until_ms,
        }
    }
}
