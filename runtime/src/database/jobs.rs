//! The delete jobs of a [`Database`]: listing, cancelling, retrying,
//! forgetting; and the [`Worker`] that drains them.

use super::Database;
use crate::engine::jobs::{self, JobId, JobInfo, JobStatus};
use crate::engine::worker::Worker;
use crate::model::error::Error;
use crate::store::Access;

impl Database {
    /// Every delete job (active, failed or cancelled), by id.
    ///
    /// # Errors
    /// Store errors; [`Error::JobState`] for an unreadable record.
    pub fn jobs(&self) -> Result<Vec<JobInfo>, Error> {
        let mut tx = self.store.begin(Access::Read)?;
        let mut infos = Vec::new();
        for row in tx.list_jobs(crate::store::JobFilter::ALL)? {
            infos.push(jobs::decode(&row.state)?.info());
        }
        infos.sort_by_key(|info| info.id);
        Ok(infos)
    }

    /// Creates the store's job tables if missing (SQLite:
    /// [`JOBS_TABLE`](crate::store::sqlite::JOBS_TABLE) and its roots
    /// table), for a deployment that wants them before the first job —
    /// which creates them otherwise. Opening a database never does.
    ///
    /// # Errors
    /// Store errors (a read-only database, locking).
    pub fn setup_jobs(&self) -> Result<(), Error> {
        self.store.setup_jobs()
    }

    /// Job `id`, if it exists (finished jobs are gone).
    ///
    /// # Errors
    /// Store errors.
    pub fn job(&self, id: JobId) -> Result<Option<JobInfo>, Error> {
        let mut tx = self.store.begin(Access::Read)?;
        Ok(jobs::read_state(&mut *tx, id)?.map(|state| state.info()))
    }

    /// Cancels job `id`: a worker running it stops before its next batch.
    /// Committed batches stay committed; no orphan is left. Returns false
    /// when the job was not active.
    ///
    /// # Errors
    /// [`Error::UnknownJob`], store errors.
    pub fn cancel_job(&self, id: JobId) -> Result<bool, Error> {
        self.change_job(id, |state| {
            if !state.status.is_active() {
                return Ok(None);
            }
            Ok(Some(JobStatus::Cancelled {
                reason: "cancelled by Database::cancel_job".to_owned(),
            }))
        })
    }

    /// Queues a failed or cancelled job `id` again: its check pass runs
    /// again, and its frames rescan their referencing rows. Returns false
    /// when the job was active already.
    ///
    /// # Errors
    /// [`Error::UnknownJob`], store errors.
    pub fn retry_job(&self, id: JobId) -> Result<bool, Error> {
        self.change_job(id, |state| {
            if state.status.is_active() {
                return Ok(None);
            }
            state.checked = false;
            state.rescans = 0;
            state.stack.rescan();
            state.stack.restart_roots();
            Ok(Some(JobStatus::Queued))
        })
    }

    /// Removes the record of a failed or cancelled job. Returns false when
    /// there was none.
    ///
    /// # Errors
    /// [`Error::JobActive`] for an active job, store errors.
    pub fn forget_job(&self, id: JobId) -> Result<bool, Error> {
        let mut tx = self.store.begin(Access::Write)?;
        let Some(state) = jobs::read_state(&mut *tx, id)? else {
            return Ok(false);
        };
        if state.status.is_active() {
            return Err(Error::JobActive { job: id });
        }
        tx.delete_job(id)?;
        tx.commit()?;
        Ok(true)
    }

    fn change_job(
        &self,
        id: JobId,
        change: impl FnOnce(&mut jobs::JobState) -> Result<Option<JobStatus>, Error>,
    ) -> Result<bool, Error> {
        let mut tx = self.store.begin(Access::Write)?;
        let Some((mut row, mut state)) = jobs::read(&mut *tx, id)? else {
            return Err(Error::UnknownJob { job: id });
        };
        let Some(status) = change(&mut state)? else {
            return Ok(false);
        };
        jobs::set_status(&mut *tx, &mut row, &mut state, status)?;
        tx.commit()?;
        Ok(true)
    }
}

impl Worker {
    /// A worker that drains the delete jobs of `db` (it shares the
    /// database's store and pending-job cap), polling every second when
    /// spawned.
    pub fn new(db: Database) -> Self {
        Worker::over(db.store, db.max_pending_jobs, db.job_lease, db.wakeup)
    }
}
