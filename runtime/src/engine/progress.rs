//! Progress of batched deletes: an observer callback, called after each
//! committed batch and when a job ends.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use cascadia_runtime::DeleteOptions;
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = seen.clone();
//! let options = DeleteOptions::default().observer(move |progress| {
//!     log.lock().unwrap().push(progress.rows_deleted());
//! });
//! # let _ = options;
//! ```
//!
//! A progress bar (e.g. `indicatif`) takes its length from
//! [`Database::explain_delete`](crate::Database::explain_delete) and its
//! position from [`Progress::rows_deleted`]; `examples/quickstart.rs` in the
//! repository draws one this way.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::engine::outcome::Outcome;
use crate::model::job::JobId;
use crate::model::metadata::Name;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// A batch committed.
    Batch,
    /// The job finished: every row is deleted.
    Finished,
    /// The job stopped on a refusal (see [`JobStatus::Failed`](crate::JobStatus::Failed)).
    Failed {
        /// The refusal's message.
        error: String,
    },
    /// The job was cancelled (see [`JobStatus::Cancelled`](crate::JobStatus::Cancelled)).
    Cancelled {
        /// Why.
        reason: String,
    },
}

/// The progress of one batched delete, after a committed batch or at its
/// end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The job (`None` when the whole delete fit in its first batch and no
    /// job record was needed).
    pub job: Option<JobId>,
    /// SQL name of the roots' table.
    pub table: Name,
    /// What happened.
    pub event: ProgressEvent,
    /// Batches committed so far.
    pub batches: u64,
    /// Rows deleted and updated so far, per table.
    pub outcome: Outcome,
    /// Rows written (deleted plus updated) by the batch just committed.
    pub batch_rows_written: u64,
    /// Bytes written (serialised row sizes) by that batch. Under a budget
    /// with no byte limit, the rows of set-based writes may be left
    /// uncounted (the SQLite store does not read their sizes then; see
    /// [`Budget`](crate::Budget)).
    pub batch_bytes_written: u64,
    /// Rows read by that batch.
    pub batch_rows_read: u64,
    /// Rows the executor holds in memory after that batch (keys on its
    /// stack): at most depth × `batch_rows`, whatever the fan-out.
    pub held_rows: usize,
}

impl Progress {
    /// Rows deleted so far, in every table.
    pub fn rows_deleted(&self) -> u64 {
        self.outcome.deleted.values().sum()
    }

    /// Rows written so far (deleted plus updated), in every table.
    pub fn rows_written(&self) -> u64 {
        self.outcome.rows_written()
    }
}

/// A progress callback: any `FnMut(&Progress) + Send` closure. Called on the
/// thread running the delete, after a batch commits (never inside a
/// transaction, so it may read the database).
#[derive(Clone)]
pub struct Observer(Arc<Mutex<Callback>>);

/// The callback an [`Observer`] holds.
type Callback = dyn FnMut(&Progress) + Send;

impl Observer {
    /// An observer calling `f`.
    pub fn new(f: impl FnMut(&Progress) + Send + 'static) -> Self {
        Observer(Arc::new(Mutex::new(f)))
    }

    /// Calls the callback (a callback that panicked before is still called).
    pub(crate) fn notify(&self, progress: &Progress) {
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(progress);
    }
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}

impl<F: FnMut(&Progress) + Send + 'static> From<F> for Observer {
    fn from(f: F) -> Self {
        Observer::new(f)
    }
}
