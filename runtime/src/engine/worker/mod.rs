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
//! A spawned worker sleeps when no job is due until its poll interval ends
//! or a job is queued through the database it was made from (or
//! [`WorkerHandle::wake`]); after a store error it retries with a capped
//! exponential backoff ([`Worker::retry_backoff`]). Its report holds counts
//! and the last [`Worker::history`] jobs and errors, never more. It reports
//! through `tracing`: an `info` event per job that ends (rows deleted and
//! updated), a `warn` per store error (with the retry delay), and totals
//! after each round that did something (and at the end of
//! [`Worker::run_until_idle`]).
//!
//! A SQLite store's clones share one writer connection (their reads take
//! reader connections, [`SqliteOptions::pool`](crate::SqliteOptions::pool)):
//! a worker's batches take turns with the application's writes, as any two
//! writers of one SQLite file do.

mod backoff;
mod report;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::context::Ctx;
use crate::engine::execute::batched::{Engine, JobEnd, run_job, run_to_end};
use crate::engine::jobs::{self, JobId};
use crate::engine::outcome::Outcome;
use crate::engine::progress::Observer;
use crate::engine::wakeup::Wakeup;
use crate::model::error::Error;
use crate::store::{Access, Claim, Store};

use backoff::Backoff;
pub use backoff::{DEFAULT_RETRY_FIRST, DEFAULT_RETRY_MAX};
pub use report::{DEFAULT_WORKER_HISTORY, WorkerReport};

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
    /// Raised when a job is queued through the database.
    wakeup: Arc<Wakeup>,
    /// How many of each kind of event the report keeps.
    history: usize,
    /// The wait before retrying after a store error.
    backoff: Backoff,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("backend", &self.store.capabilities().backend)
            .field("poll_interval", &self.poll_interval)
            .field("history", &self.history)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker over `store`, with the pending-job cap `cap`, polling every
    /// second when spawned, woken by `wakeup`.
    pub(crate) fn over(
        store: Arc<dyn Store>,
        cap: usize,
        lease: Duration,
        wakeup: Arc<Wakeup>,
    ) -> Self {
        Worker {
            store,
            cap,
            lease,
            observer: None,
            poll_interval: Duration::from_secs(1),
            wakeup,
            history: DEFAULT_WORKER_HISTORY,
            backoff: Backoff::default(),
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

    /// How long a spawned worker sleeps when no job is due (default 1 s),
    /// unless a job queued through its database, or
    /// [`WorkerHandle::wake`], wakes it first. Scheduled deletes become due
    /// without a wake-up: they wait for the next poll.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How many finished, failed and cancelled jobs, and store errors, the
    /// report keeps (default [`DEFAULT_WORKER_HISTORY`], each kind apart):
    /// the most recent ones; the report's counts cover everything.
    pub fn history(mut self, entries: usize) -> Self {
        self.history = entries;
        self
    }

    /// How long a spawned worker waits before trying again after a store
    /// error: `first` after the first error, doubling with each error in a
    /// row, never more than `max` (defaults [`DEFAULT_RETRY_FIRST`],
    /// [`DEFAULT_RETRY_MAX`]); a round without error starts over. `max` is
    /// raised to `first` when it is smaller.
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = Backoff {
            first,
            max: max.max(first),
        };
        self
    }

    /// The wake-ups this worker listens to.
    #[cfg(feature = "tokio")]
    pub(crate) fn wakeup(&self) -> &Arc<Wakeup> {
        &self.wakeup
    }

    /// How many entries of each kind its report keeps.
    #[cfg(feature = "tokio")]
    pub(crate) fn history_len(&self) -> usize {
        self.history
    }

    /// The wait before retry number `failures` (1 for the first).
    #[cfg(feature = "tokio")]
    pub(crate) fn retry_delay(&self, failures: u32) -> Duration {
        self.backoff.delay(failures)
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

    /// Claims and runs due jobs until none is left (or `stop` is raised),
    /// recording each job's end in `report` as it goes.
    pub(crate) fn run_into(
        &self,
        stop: Option<&AtomicBool>,
        report: &mut WorkerReport,
    ) -> Result<(), Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let owner = jobs::new_owner();
        let engine = self.engine(ctx, stop, &owner);
        let history = self.history;
        while let Some(id) = self.claim(&owner)? {
            match run_job(engine, id, None)? {
                JobEnd::Finished(outcome) => {
                    tracing::info!(
                        job = %id,
                        rows_deleted = outcome.deleted.values().sum::<u64>(),
                        rows_updated = outcome.updated.values().sum::<u64>(),
                        "worker: job finished"
                    );
                    report.finish(id, outcome, history);
                }
                JobEnd::Failed(error) => {
                    tracing::warn!(job = %id, %error, "worker: job failed");
                    report.fail(id, error.to_string(), history);
                }
                JobEnd::Cancelled(reason) => {
                    tracing::info!(job = %id, %reason, "worker: job cancelled");
                    report.cancel(id, reason, history);
                }
                JobEnd::Stopped => return Ok(()),
                JobEnd::NotDue | JobEnd::Gone | JobEnd::Busy => {}
            }
        }
        Ok(())
    }

    /// One round of a background worker: runs the due jobs, records what
    /// happened in `report`, and says how long to wait before the next
    /// round (the poll interval, or the backoff after `failures` store
    /// errors in a row, which it updates).
    pub(crate) fn round(
        &self,
        stop: Option<&AtomicBool>,
        report: &Mutex<WorkerReport>,
        failures: &mut u32,
    ) -> Duration {
        let mut done = WorkerReport::default();
        let result = self.run_into(stop, &mut done);
        let pause = match result {
            Ok(()) => {
                *failures = 0;
                self.poll_interval
            }
            Err(error) => {
                *failures = failures.saturating_add(1);
                let delay = self.backoff.delay(*failures);
                tracing::warn!(
                    %error,
                    failures = *failures,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "worker: store error, retrying"
                );
                done.store_error(error.to_string(), self.history);
                delay
            }
        };
        if !done.is_empty() {
            let mut report = report.lock().unwrap_or_else(PoisonError::into_inner);
            report.merge(done, self.history);
            log_totals(&report);
        }
        pause
    }

    /// Runs every due job to its end, then returns. Jobs that fail or are
    /// cancelled are reported, not returned as errors.
    ///
    /// # Errors
    /// Store errors (the job being run stays as it was, to be resumed).
    pub fn run_until_idle(&self) -> Result<WorkerReport, Error> {
        let mut report = WorkerReport::default();
        self.run_into(None, &mut report)?;
        if !report.is_empty() {
            log_totals(&report);
        }
        Ok(report)
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

    /// Runs the worker on a background thread: it drains due jobs, then
    /// sleeps until its poll interval ends or a wake-up (a job queued
    /// through its database, [`WorkerHandle::wake`]), and again, until
    /// [`WorkerHandle::stop`]. After a store error it waits out its backoff
    /// ([`Worker::retry_backoff`]) and tries again.
    pub fn spawn(self) -> WorkerHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(WorkerReport::default()));
        let wakeup = self.wakeup.clone();
        let (flag, shared) = (stop.clone(), report.clone());
        let thread = std::thread::Builder::new()
            .name("cascadia-worker".to_owned())
            .spawn(move || {
                let _span = tracing::info_span!("worker").entered();
                let mut failures = 0;
                while !flag.load(Ordering::Relaxed) {
                    // Read before looking for jobs: a job queued while this
                    // round runs ends the wait at once.
                    let seen = self.wakeup.seen();
                    let pause = self.round(Some(&flag), &shared, &mut failures);
                    if flag.load(Ordering::Relaxed) {
                        break;
                    }
                    self.wakeup.wait_past(seen, pause);
                }
            })
            .map_err(|error| error.to_string());
        WorkerHandle {
            stop,
            wakeup,
            report,
            thread,
        }
    }
}

/// A worker running on a background thread.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: Arc<AtomicBool>,
    wakeup: Arc<Wakeup>,
    report: Arc<Mutex<WorkerReport>>,
    thread: Result<JoinHandle<()>, String>,
}

impl WorkerHandle {
    /// Asks the worker to stop (after its current batch) without waiting.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wakeup.raise();
    }

    /// Wakes the worker if it sleeps, so that it looks for due jobs now: for
    /// jobs queued by another process or through another database value
    /// (one made from the same store wakes its workers itself). Other
    /// workers made from the same database wake too.
    pub fn wake(&self) {
        self.wakeup.raise();
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().map_or(true, JoinHandle::is_finished)
    }

    /// What the worker did so far (a copy: bounded by
    /// [`Worker::history`]).
    pub fn report(&self) -> WorkerReport {
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the worker after its current batch and waits for it; returns
    /// what it did. A panic on the worker thread, or a thread that could not
    /// be started, is reported in [`WorkerReport::errors`].
    pub fn stop(self) -> WorkerReport {
        self.request_stop();
        let ended = match self.thread {
            Ok(thread) => thread
                .join()
                .map_err(|_| "the worker thread panicked".to_owned()),
            Err(error) => Err(format!("the worker thread could not start: {error}")),
        };
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Err(error) = ended {
            report.store_error(error, usize::MAX);
        }
        report
    }
}

/// The `tracing` event with a report's counts.
fn log_totals(report: &WorkerReport) {
    tracing::info!(
        jobs_finished = report.jobs_finished,
        jobs_failed = report.jobs_failed,
        jobs_cancelled = report.jobs_cancelled,
        rows_deleted = report.rows_deleted,
        rows_updated = report.rows_updated,
        store_errors = report.store_errors,
        "worker: totals"
    );
}

/// A lease's length in milliseconds.
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}
