//! `Worker`: drains delete jobs — queued by
//! [`Database::enqueue_delete_rows`](crate::Database::enqueue_delete_rows),
//! scheduled by [`DeleteMode::Scheduled`](crate::DeleteMode::Scheduled), or
//! left behind by a process that died in the middle of a batched delete.
//!
//! A worker claims the due jobs in id order and runs each batch by batch,
//! until none is left ([`Worker::run_until_idle`]), or on a background
//! thread that polls for jobs ([`Worker::spawn`]) until its handle stops it
//! (between batches: a batch is a transaction). Several workers — threads,
//! processes, machines — drain one queue together: a claim takes a lease
//! on the job ([`Transaction::claim_job`](crate::Transaction::claim_job)),
//! every batch renews it, and a job whose worker died is taken over by
//! another when its lease expires ([`Worker::lease`]).
//!
//! A SQLite store shares one connection between its clones; for a worker
//! thread that does not wait on the main thread's connection, open a second
//! one ([`SqliteStore::reopen`](crate::SqliteStore::reopen)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::context::Ctx;
use crate::engine::execute::batched::{Engine, JobEnd, run_job, run_to_end};
use crate::engine::jobs::{self, JobId};
use crate::engine::outcome::Outcome;
use crate::engine::progress::Observer;
use crate::model::error::Error;
use crate::store::{Access, Claim, Store};

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// Jobs finished, with what each deleted and updated in all.
    pub finished: Vec<(JobId, Outcome)>,
    /// Jobs that stopped on a refusal, with its message.
    pub failed: Vec<(JobId, String)>,
    /// Jobs that were cancelled, with the reason.
    pub cancelled: Vec<(JobId, String)>,
    /// Store errors met by a background worker (it retries after its poll
    /// interval); [`Worker::run_until_idle`] returns them instead.
    pub errors: Vec<String>,
}

impl WorkerReport {
    fn merge(&mut self, other: WorkerReport) {
        self.finished.extend(other.finished);
        self.failed.extend(other.failed);
        self.cancelled.extend(other.cancelled);
        self.errors.extend(other.errors);
    }
}

/// Drains delete jobs. Cheap to build ([`Worker::new`] takes a
/// [`Database`](crate::Database)); holds the database's store.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    /// The pending-job cap of the database it was made from.
    cap: usize,
    /// How long a claim on a job lasts without a batch renewing it.
    lease: Duration,
    observer: Option<Observer>,
    poll_interval: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("backend", &self.store.capabilities().backend)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker over `store`, with the pending-job cap `cap`, polling every
    /// second when spawned.
    pub(crate) fn over(store: Arc<dyn Store>, cap: usize, lease: Duration) -> Self {
        Worker {
            store,
            cap,
            lease,
            observer: None,
            poll_interval: Duration::from_secs(1),
        }
    }

    fn engine<'a>(
        &'a self,
        ctx: Ctx<'a>,
        stop: Option<&'a AtomicBool>,
        owner: &'a str,
    ) -> Engine<'a> {
        Engine {
            store: &*self.store,
            ctx,
            observer: self.observer.as_ref(),
            stop,
            cap: self.cap,
            owner,
            lease_ms: lease_ms(self.lease),
        }
    }

    /// Calls `observer` after every committed batch and when a job ends.
    pub fn observer(
        mut self,
        observer: impl FnMut(&crate::engine::progress::Progress) + Send + 'static,
    ) -> Self {
        self.observer = Some(Observer::new(observer));
        self
    }

    /// Calls an [`Observer`] shared with other workers or deletes.
    pub fn shared_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// How long a spawned worker sleeps when no job is due (default 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long this worker's claim on a job lasts without a batch renewing
    /// it (default: the database's, [`Database::with_job_lease`](crate::Database::with_job_lease)).
    /// A job whose worker died is taken over by another this long after its
    /// last batch; a batch must take less than this.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claims the next due job for `owner`, in its own short transaction.
    fn claim(&self, owner: &str) -> Result<Option<JobId>, Error> {
        let mut tx = self.store.begin(Access::Write)?;
        let now = jobs::now_ms();
        let until = now.saturating_add(lease_ms(self.lease));
        let claimed = tx.claim_job(&Claim::new(owner, now, until))?;
        tx.commit()?;
        Ok(claimed.map(|row| row.id))
    }

    fn run(&self, stop: Option<&AtomicBool>) -> Result<WorkerReport, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let owner = jobs::new_owner();
        let engine = self.engine(ctx, stop, &owner);
        let mut report = WorkerReport::default();
        while let Some(id) = self.claim(&owner)? {
            match run_job(engine, id, None)? {
                JobEnd::Finished(outcome) => report.finished.push((id, outcome)),
                JobEnd::Failed(error) => report.failed.push((id, error.to_string())),
                JobEnd::Cancelled(reason) => report.cancelled.push((id, reason)),
                JobEnd::Stopped => return Ok(report),
                JobEnd::NotDue | JobEnd::Gone | JobEnd::Busy => {}
            }
        }
        Ok(report)
    }

    /// Runs every due job to its end, then returns. Jobs that fail or are
    /// cancelled are reported, not returned as errors.
    ///
    /// # Errors
    /// Store errors (the job being run stays as it was, to be resumed).
    pub fn run_until_idle(&self) -> Result<WorkerReport, Error> {
        self.run(None)
    }

    /// Runs job `id` to its end now (due or not), on this thread.
    ///
    /// # Errors
    /// [`Error::UnknownJob`]; the refusal that failed the job;
    /// [`Error::JobCancelled`]; store errors.
    pub fn run_job(&self, id: JobId) -> Result<Outcome, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let owner = jobs::new_owner();
        let engine = self.engine(ctx, None, &owner);
        // Make it due.
        {
            let mut tx = self.store.begin(Access::Write)?;
            let Some((mut row, mut state)) = jobs::read(&mut *tx, id)? else {
                return Err(Error::UnknownJob { job: id });
            };
            if state.due_ms.is_some_and(|due| due > jobs::now_ms()) {
                state.due_ms = Some(jobs::now_ms());
                jobs::write(&mut *tx, &mut row, &state)?;
                tx.commit()?;
            }
        }
        match run_to_end(engine, id, None)? {
            JobEnd::Finished(outcome) => Ok(outcome),
            JobEnd::Failed(error) => Err(error),
            JobEnd::Cancelled(reason) => Err(Error::JobCancelled { job: id, reason }),
            JobEnd::Gone | JobEnd::NotDue | JobEnd::Stopped | JobEnd::Busy => Ok(Outcome {
                job: Some(id),
                ..Outcome::default()
            }),
        }
    }

    /// Runs the worker on a background thread: it drains due jobs, sleeps
    /// its poll interval, and again, until [`WorkerHandle::stop`].
    pub fn spawn(self) -> WorkerHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("cascadia-worker".to_owned())
            .spawn(move || {
                let mut report = WorkerReport::default();
                while !flag.load(Ordering::Relaxed) {
                    match self.run(Some(&flag)) {
                        Ok(done) => report.merge(done),
                        Err(error) => {
                            tracing::warn!(%error, "worker: store error, retrying");
                            report.errors.push(error.to_string());
                        }
                    }
                    let mut slept = Duration::ZERO;
                    while slept < self.poll_interval && !flag.load(Ordering::Relaxed) {
                        let step = Duration::from_millis(20).min(self.poll_interval - slept);
                        std::thread::sleep(step);
                        slept += step;
                    }
                }
                report
            })
            .map_err(|error| error.to_string());
        WorkerHandle { stop, thread }
    }
}

/// A worker running on a background thread.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: Arc<AtomicBool>,
    thread: Result<JoinHandle<WorkerReport>, String>,
}

impl WorkerHandle {
    /// Asks the worker to stop (after its current batch) without waiting.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().map_or(true, JoinHandle::is_finished)
    }

    /// Stops the worker after its current batch and waits for it; returns
    /// what it did. A panic on the worker thread, or a thread that could not
    /// be started, is reported in [`WorkerReport::errors`].
    pub fn stop(self) -> WorkerReport {
        self.request_stop();
        match self.thread {
            Ok(thread) => thread.join().unwrap_or_else(|_| WorkerReport {
                errors: vec!["the worker thread panicked".to_owned()],
                ..WorkerReport::default()
            }),
            Err(error) => WorkerReport {
                errors: vec![format!("the worker thread could not start: {error}")],
                ..WorkerReport::default()
            },
        }
    }
}

/// A lease's length in milliseconds.
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}
