//! `WorkerTask`: a [`Worker`] run as a tokio task. Each round of jobs runs on
//! the blocking pool; between rounds the task sleeps, without a thread,
//! until its poll interval ends, a job is queued through its database, or
//! it is woken or shut down. A shutdown lets the batch under way commit,
//! stops before the next one, and returns the report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::engine::wakeup::Wakeup;
use crate::engine::worker::{Worker, WorkerReport};

/// A worker running as a tokio task ([`WorkerTask::spawn`]). Dropping it
/// asks the worker to stop after its current batch, without waiting;
/// [`WorkerTask::shutdown`] waits, and returns the report.
#[derive(Debug)]
pub struct WorkerTask {
    stop: Arc<AtomicBool>,
    wakeup: Arc<Wakeup>,
    report: Arc<Mutex<WorkerReport>>,
    /// `None` once [`WorkerTask::shutdown`] took it.
    task: Option<::tokio::task::JoinHandle<()>>,
}

impl WorkerTask {
    /// Runs `worker` as a task on the current tokio runtime: it drains due
    /// jobs on the blocking pool, then sleeps until its poll interval ends
    /// or a wake-up (a job queued through its database,
    /// [`WorkerTask::wake`]), and again, until [`WorkerTask::shutdown`].
    /// After a store error it waits out its backoff
    /// ([`Worker::retry_backoff`]). Configure the worker first:
    /// `WorkerTask::spawn(Worker::new(db).history(16))`.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn(worker: Worker) -> WorkerTask {
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(WorkerReport::default()));
        let wakeup = worker.wakeup().clone();
        let task = ::tokio::spawn(run(worker, stop.clone(), report.clone()));
        WorkerTask {
            stop,
            wakeup,
            report,
            task: Some(task),
        }
    }

    /// Wakes the worker if it sleeps, so that it looks for due jobs now
    /// (for jobs queued by another process or another database value).
    pub fn wake(&self) {
        self.wakeup.raise();
    }

    /// What the worker did so far (a copy, bounded by
    /// [`Worker::history`]).
    pub fn report(&self) -> WorkerReport {
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task
            .as_ref()
            .is_none_or(::tokio::task::JoinHandle::is_finished)
    }

    /// Shuts the worker down gracefully: the batch under way commits (a
    /// batch is one transaction), the job it belongs to stays queued, its
    /// position saved, for the next worker; then the task ends. Returns
    /// what the worker did. A panic of the task is reported in
    /// [`WorkerReport::errors`].
    pub async fn shutdown(mut self) -> WorkerReport {
        self.request_stop();
        let ended = match self.task.take() {
            Some(task) => task.await,
            None => Ok(()),
        };
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Err(error) = ended {
            report.store_error(
                format!("the worker task ended abnormally: {error}"),
                usize::MAX,
            );
        }
        report
    }
}

impl WorkerTask {
    /// Asks the worker to stop after its current batch, without waiting.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wakeup.raise();
    }
}

impl Drop for WorkerTask {
    fn drop(&mut self) {
        self.request_stop();
    }
}

/// The task: rounds on the blocking pool, sleeps between them.
async fn run(worker: Worker, stop: Arc<AtomicBool>, report: Arc<Mutex<WorkerReport>>) {
    let wakeup = worker.wakeup().clone();
    let worker = Arc::new(worker);
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        // Listen before looking for jobs: a job queued during the round
        // ends the sleep after it.
        let woken = wakeup.notify.notified();
        let mut woken = std::pin::pin!(woken);
        woken.as_mut().enable();
        let seen = wakeup.seen();

        let (round_worker, round_stop, round_report) =
            (worker.clone(), stop.clone(), report.clone());
        let round = ::tokio::task::spawn_blocking(move || {
            let mut failed = failures;
            let pause = round_worker.round(Some(&round_stop), &round_report, &mut failed);
            (pause, failed)
        })
        .await;
        let pause = match round {
            Ok((pause, failed)) => {
                failures = failed;
                pause
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let message = format!("a worker round ended abnormally: {error}");
                tracing::warn!(%message, "worker: retrying");
                report
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .store_error(message, worker.history_len());
                worker.retry_delay(failures)
            }
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if wakeup.seen() != seen {
            continue;
        }
        let _ = ::tokio::time::timeout(pause, woken).await;
    }
}
