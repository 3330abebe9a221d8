//! `WorkerReport`: what a worker did — totals over its whole run, and the
//! last few finished jobs, failures, cancellations and store errors, so a
//! worker that runs for months holds a bounded report.

use crate::engine::outcome::Outcome;
use crate::model::job::JobId;

/// How many of each kind of event a report keeps by default
/// ([`Worker::history`](crate::Worker::history)).
pub const DEFAULT_WORKER_HISTORY: usize = 64;

/// What a worker did: counts over its whole run, and the most recent jobs
/// and errors (at most [`Worker::history`](crate::Worker::history) of each,
/// oldest first; older ones are dropped, their counts kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerReport {
    /// The most recent jobs finished, with what each deleted and updated.
    pub finished: Vec<(JobId, Outcome)>,
    /// The most recent jobs that stopped on a refusal, with its message.
    pub failed: Vec<(JobId, String)>,
    /// The most recent jobs cancelled, with the reason.
    pub cancelled: Vec<(JobId, String)>,
    /// The most recent store errors met by a background worker (it retries
    /// after a backoff, [`Worker::retry_backoff`](crate::Worker::retry_backoff));
    /// [`Worker::run_until_idle`](crate::Worker::run_until_idle) returns its
    /// error instead.
    pub errors: Vec<String>,
    /// Jobs finished, in all.
    pub jobs_finished: u64,
    /// Jobs failed on a refusal, in all.
    pub jobs_failed: u64,
    /// Jobs cancelled, in all.
    pub jobs_cancelled: u64,
    /// Store errors met, in all.
    pub store_errors: u64,
    /// Rows deleted by the finished jobs, in all tables.
    pub rows_deleted: u64,
    /// Rows updated (SET NULL, SET DEFAULT) by the finished jobs.
    pub rows_updated: u64,
}

impl WorkerReport {
    /// Records a finished job, keeping at most `history` of them.
    pub(crate) fn finish(&mut self, job: JobId, outcome: Outcome, history: usize) {
        self.jobs_finished += 1;
        self.rows_deleted += outcome.deleted.values().sum::<u64>();
        self.rows_updated += outcome.updated.values().sum::<u64>();
        push_bounded(&mut self.finished, (job, outcome), history);
    }

    /// Records a job failed on a refusal.
    pub(crate) fn fail(&mut self, job: JobId, message: String, history: usize) {
        self.jobs_failed += 1;
        push_bounded(&mut self.failed, (job, message), history);
    }

    /// Records a cancelled job.
    pub(crate) fn cancel(&mut self, job: JobId, reason: String, history: usize) {
        self.jobs_cancelled += 1;
        push_bounded(&mut self.cancelled, (job, reason), history);
    }

    /// Records a store error.
    pub(crate) fn store_error(&mut self, message: String, history: usize) {
        self.store_errors += 1;
        push_bounded(&mut self.errors, message, history);
    }

    /// Adds `later`, a report of what came after this one.
    pub(crate) fn merge(&mut self, later: WorkerReport, history: usize) {
        self.jobs_finished += later.jobs_finished;
        self.jobs_failed += later.jobs_failed;
        self.jobs_cancelled += later.jobs_cancelled;
        self.store_errors += later.store_errors;
        self.rows_deleted += later.rows_deleted;
        self.rows_updated += later.rows_updated;
        extend_bounded(&mut self.finished, later.finished, history);
        extend_bounded(&mut self.failed, later.failed, history);
        extend_bounded(&mut self.cancelled, later.cancelled, history);
        extend_bounded(&mut self.errors, later.errors, history);
    }

    /// Whether the report records nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.jobs_finished + self.jobs_failed + self.jobs_cancelled + self.store_errors == 0
    }
}

fn push_bounded<T>(list: &mut Vec<T>, item: T, history: usize) {
    list.push(item);
    trim(list, history);
}

fn extend_bounded<T>(list: &mut Vec<T>, items: Vec<T>, history: usize) {
    list.extend(items);
    trim(list, history);
}

/// Drops the oldest entries past `history`.
fn trim<T>(list: &mut Vec<T>, history: usize) {
    if list.len() > history {
        let excess = list.len() - history;
        list.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_the_last_entries_and_every_count() {
        let mut report = WorkerReport::default();
        for n in 0..10 {
            report.store_error(format!("error {n}"), 3);
        }
        assert_eq!(report.store_errors, 10);
        assert_eq!(report.errors, ["error 7", "error 8", "error 9"]);

        let mut later = WorkerReport::default();
        later.store_error("error 10".into(), 3);
        report.merge(later, 3);
        assert_eq!(report.store_errors, 11);
        assert_eq!(report.errors, ["error 8", "error 9", "error 10"]);
    }

    #[test]
    fn a_history_of_zero_keeps_counts_only() {
        let mut report = WorkerReport::default();
        report.store_error("lost".into(), 0);
        assert!(report.errors.is_empty());
        assert_eq!(report.store_errors, 1);
    }
}
