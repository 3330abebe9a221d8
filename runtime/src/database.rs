//! `Database`: typed and untyped reads and writes over a [`Store`], with
//! foreign keys checked and referential actions run.
//!
//! Typed rows go through serde ([`to_row`], [`from_row`], [`to_key`]): a
//! `#[derive(Table)]` struct is a row, its `T::PrimaryKey` a key. The
//! untyped API (table name, [`Row`], [`Key`]) is what the typed one calls and
//! what tools working from metadata use.
//!
//! Every operation is atomic: inside [`Database::write`] each one runs in a
//! savepoint and is undone alone when it fails, as one SQL statement; the
//! shorthand methods on `Database` run one operation in its own transaction.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::context::Ctx;
use crate::engine::execute::batched::{Engine, check_pass, delete_batched};
use crate::engine::execute::soft;
use crate::engine::execute::{delete_sync, update_sync};
use crate::engine::explain::{Explain, ExplainOptions};
use crate::engine::guard::Guard;
use crate::engine::integrity::{IntegrityOptions, IntegrityReport};
use crate::engine::jobs::{self, JobId, JobInfo, JobStatus, NewJob};
use crate::engine::options::{DeleteMode, DeleteOptions, UpdateOptions};
use crate::engine::outcome::Outcome;
use crate::engine::worker::Worker;
use crate::model::error::{Error, Operation};
use crate::model::graph::{TableId, has_null};
use crate::model::index_range::IndexRange;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::serde_value::{from_row, to_key, to_row};
use crate::model::table::Table;
use crate::model::value::{Key, Row, Value};
use crate::store::{Access, Store, Transaction};

/// A database: a [`Store`] and its schema, with typed CRUD and referential
/// actions.
///
/// Cloning is cheap (the store is shared). Reads and writes are synchronous;
/// the store is `Send + Sync`, so a clone can be used on another thread.
#[derive(Clone)]
pub struct Database {
    store: Arc<dyn Store>,
    guard: Arc<Guard>,
    max_pending_jobs: usize,
    job_lease: std::time::Duration,
}

/// The default pending-job cap ([`Database::with_max_pending_jobs`]).
pub const DEFAULT_MAX_PENDING_JOBS: usize = 64;

/// The default length of a worker's lease on a job
/// ([`Database::with_job_lease`]): 30 seconds.
pub const DEFAULT_JOB_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.store.capabilities().backend)
            .field("schema", self.store.schema())
            .finish()
    }
}

/// One page of an index scan.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The rows, in index order (index columns, then primary key).
    pub rows: Vec<T>,
    /// Where the next page starts, when this page is full (there may be more
    /// rows); `None` when the scan is done.
    pub next: Option<ScanPosition>,
}

impl Database {
    /// A database over `store`.
    pub fn new(store: impl Store + 'static) -> Self {
        Self::from_shared(Arc::new(store))
    }

    /// A database over a shared store.
    pub fn from_shared(store: Arc<dyn Store>) -> Self {
        Database {
            store,
            guard: Arc::new(Guard::default()),
            max_pending_jobs: DEFAULT_MAX_PENDING_JOBS,
            job_lease: DEFAULT_JOB_LEASE,
        }
    }

    /// Sets how long a claim on a delete job lasts without a batch renewing
    /// it (default [`DEFAULT_JOB_LEASE`]): a job whose worker — or whose
    /// deleting caller — died is taken over by another worker this long
    /// after its last committed batch. One batch must take less than this.
    pub fn with_job_lease(mut self, lease: std::time::Duration) -> Self {
        self.job_lease = lease;
        self
    }

    /// Sets the pending-job cap (default [`DEFAULT_MAX_PENDING_JOBS`], at
    /// least 1): when this many delete jobs are active, a new batched delete
    /// does not start a job of its own; its roots are coalesced into an
    /// active job of the same table (which then deletes them too), or, if
    /// there is none, it is refused with [`Error::TooManyJobs`] before
    /// anything is written. A job that has started is never failed by the
    /// cap. Scheduled deletes are not capped (each waits for its own time).
    pub fn with_max_pending_jobs(mut self, cap: usize) -> Self {
        self.max_pending_jobs = cap.max(1);
        self
    }

    /// The pending-job cap.
    pub fn max_pending_jobs(&self) -> usize {
        self.max_pending_jobs
    }

    /// The engine of batched deletes over this database, running jobs as
    /// `owner`.
    fn engine<'a>(
        &'a self,
        ctx: Ctx<'a>,
        observer: Option<&'a crate::engine::progress::Observer>,
        owner: &'a str,
    ) -> Engine<'a> {
        Engine {
            store: &*self.store,
            ctx,
            observer,
            stop: None,
            cap: self.max_pending_jobs,
            owner,
            lease_ms: crate::engine::worker::lease_ms(self.job_lease),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        self.store.schema()
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Runs `f` in one write transaction: committed when `f` returns `Ok`,
    /// rolled back when it returns an error. Each operation inside is atomic
    /// on its own.
    ///
    /// # Errors
    /// What `f` returns; store errors from opening or committing.
    pub fn write<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        self.write_with(true, f)
    }

    /// One operation in its own transaction: no savepoint is needed (a
    /// failure drops the whole transaction), which spares SQLite its
    /// sub-journal.
    fn write_one<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        self.write_with(false, f)
    }

    fn write_with<R>(
        &self,
        savepoints: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let mut tx = Tx {
            ctx,
            tx: self.store.begin(Access::Write)?,
            savepoints,
            guard: &self.guard,
        };
        let result = f(&mut tx)?;
        tx.tx.commit()?;
        Ok(result)
    }

    /// Runs `f` in one read transaction (writes fail with [`Error::ReadOnly`]).
    ///
    /// # Errors
    /// What `f` returns; store errors.
    pub fn read<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let mut tx = Tx {
            ctx,
            tx: self.store.begin(Access::Read)?,
            savepoints: true,
            guard: &self.guard,
        };
        f(&mut tx)
    }

    /// Inserts a row: see [`Tx::insert`].
    ///
    /// # Errors
    /// As [`Tx::insert`].
    pub fn insert<T: Table + Serialize>(&self, row: &T) -> Result<(), Error> {
        self.write_one(|tx| tx.insert(row))
    }

    /// The row with primary key `key`: see [`Tx::get`].
    ///
    /// # Errors
    /// As [`Tx::get`].
    pub fn get<T>(&self, key: &T::PrimaryKey) -> Result<Option<T>, Error>
    where
        T: Table + DeserializeOwned,
        T::PrimaryKey: Serialize,
    {
        self.read(|tx| tx.get::<T>(key))
    }

    /// Updates a row by its primary key: see [`Tx::update`].
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub fn update<T: Table + Serialize>(&self, row: &T) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.update(row))
    }

    /// Replaces the row with primary key `key`, changing its key: see
    /// [`Tx::update_key`].
    ///
    /// # Errors
    /// As [`Tx::update_key`].
    pub fn update_key<T>(&self, key: &T::PrimaryKey, row: &T) -> Result<Outcome, Error>
    where
        T: Table + Serialize,
        T::PrimaryKey: Serialize,
    {
        self.write_one(|tx| tx.update_key(key, row))
    }

    /// Deletes the row with primary key `key` and runs every action, in
    /// the default mode ([`DeleteMode::Batched`]): see
    /// [`Database::delete_rows`]. Deleting a missing row does nothing.
    ///
    /// # Errors
    /// As [`Database::delete_rows`].
    pub fn delete<T>(&self, key: &T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.delete_with::<T>(std::slice::from_ref(key), &DeleteOptions::default())
    }

    /// Deletes the rows of `T` with primary keys `keys`, as one operation,
    /// in the mode of `options`: see [`Database::delete_rows`].
    ///
    /// # Errors
    /// As [`Database::delete_rows`]; [`Error::Conversion`] for a key that
    /// does not convert.
    pub fn delete_with<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.delete_rows(&name, &keys, options)
    }

    /// One page of an index scan: see [`Tx::scan`].
    ///
    /// # Errors
    /// As [`Tx::scan`].
    pub fn scan<T: Table + DeserializeOwned>(
        &self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        self.read(|tx| tx.scan(range, after, limit))
    }

    /// Inserts an untyped row: see [`Tx::insert_row`].
    ///
    /// # Errors
    /// As [`Tx::insert_row`].
    pub fn insert_row(&self, table: &str, row: Row) -> Result<(), Error> {
        self.write_one(|tx| tx.insert_row(table, row))
    }

    /// An untyped row by primary key: see [`Tx::get_row`].
    ///
    /// # Errors
    /// As [`Tx::get_row`].
    pub fn get_row(&self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        self.read(|tx| tx.get_row(table, key))
    }

    /// Replaces an untyped row: see [`Tx::update_row`].
    ///
    /// # Errors
    /// As [`Tx::update_row`].
    pub fn update_row(&self, table: &str, key: &[Value], row: Row) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.update_row(table, key, row, &UpdateOptions::default()))
    }

    /// Deletes the rows of `table` with primary keys `keys` as one
    /// operation (one SQL `DELETE` statement's semantics), running every
    /// referential action, in the mode of `options`:
    ///
    /// - [`DeleteMode::Batched`] (the default): the check pass refuses the
    ///   delete before anything is written; then one transaction per
    ///   budget, on this thread, until every row is gone. The returned
    ///   [`Outcome`] counts every row the delete removed (with
    ///   [`Outcome::job`] set when it took more than one batch). Memory stays
    ///   bounded by depth × `batch_rows`.
    /// - [`DeleteMode::Sync`]: one transaction.
    /// - [`DeleteMode::Soft`], [`DeleteMode::Scheduled`]: the roots'
    ///   `#[soft_delete]` column is set (and a job scheduled), in one
    ///   transaction; the outcome counts them as updated.
    ///
    /// Missing rows are ignored.
    ///
    /// # Errors
    /// [`Error::Restricted`] (RESTRICT), [`Error::StillReferenced`] (NO
    /// ACTION), [`Error::MissingDefault`] (SET DEFAULT), [`Error::Duplicate`]
    /// (a SET DEFAULT or induced CASCADE colliding on a unique key),
    /// [`Error::TooManyRows`] (past `max_rows`, before anything is written),
    /// [`Error::TooManyJobs`], [`Error::NoSoftDelete`], [`Error::KeyShape`]
    /// or [`Error::TypeMismatch`] (a key of the wrong arity or type), store
    /// errors. Nothing is changed when the delete is refused before
    /// its first batch. In batched mode a refusal met by a later batch (a
    /// row inserted since the check pass) stops the job as failed: the
    /// batches before it stay committed, without any orphan.
    pub fn delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        match options.mode {
            DeleteMode::Batched => {
                let ctx = Ctx::new(self.store.schema())?;
                let table = self.store.schema().resolve(table)?.1;
                let owner = jobs::new_owner();
                let engine = self.engine(ctx, options.observer.as_ref(), &owner);
                delete_batched(engine, table, keys, options)
            }
            _ => self.write_one(|tx| tx.delete_rows(table, keys, options)),
        }
    }

    /// Queues a batched delete of the rows of `T` with primary keys `keys`
    /// for a [`Worker`](crate::Worker): see [`Database::enqueue_delete_rows`].
    ///
    /// # Errors
    /// As [`Database::enqueue_delete_rows`].
    pub fn enqueue_delete<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<JobId, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.enqueue_delete_rows(&name, &keys, options)
    }

    /// Queues a batched delete of the rows of `table` with primary keys
    /// `keys`: the check pass runs now (refusing the delete before anything
    /// is written), then a job is written for a [`Worker`](crate::Worker) to
    /// run. Past the pending-job cap the roots join an active job of the
    /// same table, whose id is returned.
    ///
    /// # Errors
    /// The refusals of the check pass (see [`Database::delete_rows`]),
    /// [`Error::TooManyJobs`], store errors.
    pub fn enqueue_delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<JobId, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let id = self.store.schema().resolve(table)?.1;
        for key in keys {
            ctx.check_key(id, key)?;
        }
        let name = ctx.meta(id).name.clone();
        let budget = options.effective_budget(ctx.schema);
        let reachable = ctx.graph.cascade_reachable(id);
        let single = ctx.graph.delete_changes_keys(&reachable);
        if !single {
            check_pass(
                &*self.store,
                ctx,
                id,
                keys.to_vec(),
                options.batch_rows,
                options.max_rows,
                &budget,
            )?;
        }
        let mut tx = self.store.begin(Access::Write)?;
        let (job, _) = jobs::create(
            &mut *tx,
            NewJob {
                table: name,
                roots: keys.to_vec(),
                due_ms: None,
                checked: !single,
                budget,
                max_rows: options.max_rows,
                stack: None,
                batch_rows: options.batch_rows,
                soft: None,
                batches: 0,
                deleted: Default::default(),
                updated: Default::default(),
                lease: None,
            },
            self.max_pending_jobs,
            true,
        )?;
        tx.commit()?;
        Ok(job)
    }

    /// Clears the `#[soft_delete]` column of the rows of `T` with primary
    /// keys `keys`: see [`Database::restore_rows`].
    ///
    /// # Errors
    /// As [`Database::restore_rows`].
    pub fn restore<T>(&self, keys: &[T::PrimaryKey]) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.restore_rows(&name, &keys)
    }

    /// Clears the `#[soft_delete]` column of the rows of `table` with
    /// primary keys `keys` (rows not soft-deleted are left alone). A
    /// scheduled delete of one of them cancels itself at its next check
    /// (when due, or before its next batch): rows it already deleted stay
    /// deleted. The outcome counts the restored rows as updated.
    ///
    /// # Errors
    /// [`Error::NoSoftDelete`], [`Error::KeyShape`] or [`Error::TypeMismatch`]
    /// (a key of the wrong arity or type), store errors.
    pub fn restore_rows(&self, table: &str, keys: &[Key]) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.restore_rows(table, keys))
    }

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

    /// What deleting the rows of `T` with primary keys `keys` would do:
    /// see [`Database::explain_delete_rows`].
    ///
    /// # Errors
    /// As [`Database::explain_delete_rows`].
    pub fn explain_delete<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &ExplainOptions,
    ) -> Result<Explain, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.explain_delete_rows(&name, &keys, options)
    }

    /// What deleting the rows of `table` with primary keys `keys` would do,
    /// without doing it: per table, the rows it would delete and update,
    /// and each foreign key that would refuse it (with the first row that
    /// refuses). Read-only and bounded: one read transaction per read
    /// budget, at most [`ExplainOptions::max_rows`] rows counted (past it
    /// the report says it is truncated).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`] or [`Error::TypeMismatch`]
    /// (a key of the wrong arity or type), store errors.
    pub fn explain_delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &ExplainOptions,
    ) -> Result<Explain, Error> {
        crate::engine::explain::explain(&*self.store, table, keys, options)
    }

    /// Looks for orphans: for every foreign key, the rows whose key
    /// references no row (MATCH SIMPLE). Read-only; reads every row of
    /// every table with a foreign key, a page at a time, one read
    /// transaction per read budget.
    ///
    /// # Errors
    /// Store errors.
    pub fn check_integrity(&self, options: &IntegrityOptions) -> Result<IntegrityReport, Error> {
        crate::engine::integrity::check_integrity(&*self.store, options)
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

    /// Every row of `table`, by primary key (reads the whole table).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, Error> {
        self.read(|tx| tx.rows(table))
    }
}

impl Worker {
    /// A worker that drains the delete jobs of `db` (it shares the
    /// database's store and pending-job cap), polling every second when
    /// spawned.
    pub fn new(db: Database) -> Self {
        Worker::over(db.store, db.max_pending_jobs, db.job_lease)
    }
}

/// A transaction of a [`Database`]: typed and untyped operations, each
/// atomic (run in a savepoint and undone alone on error).
pub struct Tx<'a> {
    ctx: Ctx<'a>,
    tx: Box<dyn Transaction + 'a>,
    /// Whether each operation runs in a savepoint (false when the
    /// transaction holds one operation).
    savepoints: bool,
    /// Refuses children of rows being deleted.
    guard: &'a Guard,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("access", &self.tx.access())
            .finish_non_exhaustive()
    }
}

impl<'a> Tx<'a> {
    /// The schema of the database this transaction belongs to.
    pub fn schema(&self) -> &'a Schema {
        self.ctx.schema
    }

    /// Runs `f` in a savepoint: undone alone if it fails.
    fn atomic<R>(
        &mut self,
        f: impl FnOnce(Ctx<'a>, &mut dyn Transaction) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if !self.savepoints {
            return f(self.ctx, &mut *self.tx);
        }
        self.tx.savepoint()?;
        match f(self.ctx, &mut *self.tx) {
            Ok(result) => {
                self.tx.release_savepoint()?;
                Ok(result)
            }
            Err(error) => {
                // The operation's own error matters more than a failure to
                // roll back (after which the whole transaction is dropped).
                let _ = self.tx.rollback_to_savepoint();
                Err(error)
            }
        }
    }

    fn table_of<T: Table>(&self) -> Result<TableId, Error> {
        let name = &T::META.name;
        let (_, id) = self.ctx.schema.resolve(name)?;
        if self.ctx.meta(id).columns.len() != T::META.columns.len() {
            return Err(Error::UnknownTable {
                table: format!(
                    "{name} (the schema's `{name}` is not the table of `{}`)",
                    T::META.type_name
                ),
            });
        }
        Ok(id)
    }

    fn resolve(&self, table: &str) -> Result<TableId, Error> {
        Ok(self.ctx.schema.resolve(table)?.1)
    }

    /// Inserts a row. Its foreign keys must reference existing rows (MATCH
    /// SIMPLE: a key with a NULL column is not checked; a row may reference
    /// itself), as SQLite checks them.
    ///
    /// # Errors
    /// [`Error::MissingParent`] naming the foreign key and the missing key;
    /// [`Error::Duplicate`] if its primary key or a unique key exists;
    /// [`Error::Conversion`], [`Error::TypeMismatch`], [`Error::NotNull`]
    /// for a row that does not fit the table; [`Error::UnknownTable`] if the
    /// schema lacks `T`.
    pub fn insert<T: Table + Serialize>(&mut self, row: &T) -> Result<(), Error> {
        let table = self.table_of::<T>()?;
        let row = to_row(self.ctx.meta(table), row)?;
        self.insert_at(table, row)
    }

    /// The row of `T` with primary key `key`, if any.
    ///
    /// # Errors
    /// [`Error::Conversion`] if the key or the stored row does not fit `T`;
    /// [`Error::UnknownTable`]; store errors.
    pub fn get<T>(&mut self, key: &T::PrimaryKey) -> Result<Option<T>, Error>
    where
        T: Table + DeserializeOwned,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let key = to_key(key)?;
        match self.get_at(table, &key)? {
            Some(row) => Ok(Some(from_row(T::META, row)?)),
            None => Ok(None),
        }
    }

    /// Updates the row with `row`'s primary key to `row`. If a primary or
    /// unique key that other rows reference changes, their ON UPDATE actions
    /// run; changed foreign keys must reference existing rows.
    ///
    /// # Errors
    /// [`Error::NotFound`] if no row has that key; the refusals of
    /// [`Tx::update_row`].
    pub fn update<T: Table + Serialize>(&mut self, row: &T) -> Result<Outcome, Error> {
        let table = self.table_of::<T>()?;
        let row = to_row(self.ctx.meta(table), row)?;
        let key = self.ctx.pk_of(table, &row);
        self.update_at(table, vec![(key, row)], &UpdateOptions::default())
    }

    /// Replaces the row with primary key `key` by `row`, whose primary key
    /// may differ: a key change, with its ON UPDATE actions.
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub fn update_key<T>(&mut self, key: &T::PrimaryKey, row: &T) -> Result<Outcome, Error>
    where
        T: Table + Serialize,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let key = to_key(key)?;
        let row = to_row(self.ctx.meta(table), row)?;
        self.update_at(table, vec![(key, row)], &UpdateOptions::default())
    }

    /// Deletes the row of `T` with primary key `key` and runs every
    /// referential action, in this transaction. Deleting a missing row does
    /// nothing.
    ///
    /// # Errors
    /// The refusals of [`Tx::delete_rows`].
    pub fn delete<T>(&mut self, key: &T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.delete_with::<T>(std::slice::from_ref(key), &DeleteOptions::default())
    }

    /// Deletes the rows of `T` with primary keys `keys`, as one operation.
    ///
    /// # Errors
    /// The refusals of [`Tx::delete_rows`]; [`Error::Conversion`] for a key
    /// that does not convert.
    pub fn delete_with<T>(
        &mut self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let keys = keys.iter().map(to_key).collect::<Result<Vec<_>, _>>()?;
        self.delete_at(table, &keys, options)
    }

    fn delete_at(
        &mut self,
        table: TableId,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        match options.mode {
            DeleteMode::Soft => self.atomic(|ctx, tx| soft::soft_delete(ctx, tx, table, keys)),
            DeleteMode::Scheduled(delay) => {
                self.atomic(|ctx, tx| soft::schedule(ctx, tx, table, keys, delay, options))
            }
            _ => self.atomic(|ctx, tx| delete_sync(ctx, tx, table, keys, options)),
        }
    }

    /// Clears the `#[soft_delete]` column of the rows of `table` with
    /// primary keys `keys`: see [`Database::restore_rows`].
    ///
    /// # Errors
    /// As [`Database::restore_rows`].
    pub fn restore_rows(&mut self, table: &str, keys: &[Key]) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.atomic(|ctx, tx| soft::restore(ctx, tx, table, keys))
    }

    /// Up to `limit` rows of `range` (ordered by the index's columns, then
    /// the primary key), after `after`.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is not on `T`'s table or does not
    /// fit its index; [`Error::Conversion`]; store errors.
    pub fn scan<T: Table + DeserializeOwned>(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        let table = self.table_of::<T>()?;
        if range.table != self.ctx.meta(table).name {
            return Err(Error::InvalidRange {
                table: range.table.clone(),
                reason: format!("the range is not on `{}`", T::META.name),
            });
        }
        let page = self.scan_rows(range, after, limit)?;
        Ok(Page {
            rows: page
                .rows
                .into_iter()
                .map(|row| from_row(T::META, row))
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Inserts an untyped row into `table`.
    ///
    /// # Errors
    /// As [`Tx::insert`], plus [`Error::RowShape`].
    pub fn insert_row(&mut self, table: &str, row: Row) -> Result<(), Error> {
        let table = self.resolve(table)?;
        self.insert_at(table, row)
    }

    /// The untyped row of `table` with primary key `key`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`], store errors.
    pub fn get_row(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let table = self.resolve(table)?;
        self.get_at(table, key)
    }

    /// Replaces the row of `table` with primary key `key` by `row` (its key
    /// may change), running the ON UPDATE actions of every referenced key
    /// whose value changes.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Restricted`] (RESTRICT),
    /// [`Error::StillReferenced`] (NO ACTION), [`Error::MissingDefault`]
    /// (SET DEFAULT), [`Error::MissingParent`] (a changed foreign key),
    /// [`Error::Duplicate`] (a primary or unique key collision, also from a
    /// CASCADE), [`Error::TooManyRows`]; row shape and type errors.
    pub fn update_row(
        &mut self,
        table: &str,
        key: &[Value],
        row: Row,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.update_at(table, vec![(key.to_vec(), row)], options)
    }

    /// Replaces several rows of `table` as one operation (as one SQL
    /// `UPDATE` statement: NO ACTION is checked once all are done).
    ///
    /// # Errors
    /// As [`Tx::update_row`].
    pub fn update_rows(
        &mut self,
        table: &str,
        rows: Vec<(Key, Row)>,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.update_at(table, rows, options)
    }

    /// Deletes the rows of `table` with primary keys `keys` as one operation
    /// (as one SQL `DELETE` statement), running every referential action,
    /// in this transaction: [`DeleteMode::Batched`] and [`DeleteMode::Sync`]
    /// both run the whole delete here (a transaction cannot be split into
    /// batches); [`DeleteMode::Soft`] and [`DeleteMode::Scheduled`] write the
    /// soft-delete column (and the job) here. Missing rows are ignored.
    ///
    /// # Errors
    /// [`Error::Restricted`] (RESTRICT), [`Error::StillReferenced`] (NO
    /// ACTION), [`Error::MissingDefault`] (SET DEFAULT), [`Error::Duplicate`]
    /// (a SET DEFAULT or induced CASCADE colliding on a unique key),
    /// [`Error::TooManyRows`] (past `max_rows`, before anything is written),
    /// [`Error::KeyShape`] or [`Error::TypeMismatch`] (a key of the wrong
    /// arity or type), store errors. Nothing is changed on error.
    pub fn delete_rows(
        &mut self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.delete_at(table, keys, options)
    }

    /// Up to `limit` untyped rows of `range`, after `after`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::InvalidRange`], store errors.
    pub fn scan_rows(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<Row>, Error> {
        let rows = self.tx.scan(range, after, limit)?;
        let next = match rows.last() {
            Some(last) if rows.len() == limit => {
                Some(ScanPosition::after_row(self.ctx.schema, range, last)?)
            }
            _ => None,
        };
        Ok(Page { rows, next })
    }

    /// Every row of `table`, by primary key (reads the whole table, page by
    /// page).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&mut self, table: &str) -> Result<Vec<Row>, Error> {
        let id = self.resolve(table)?;
        let range = IndexRange::new(self.ctx.meta(id).name.clone(), crate::IndexRef::PrimaryKey);
        let mut rows = Vec::new();
        let mut after = None;
        loop {
            let page = self.scan_rows(&range, after.as_ref(), 1_000)?;
            rows.extend(page.rows);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(rows),
            }
        }
    }

    fn get_at(&mut self, table: TableId, key: &[Value]) -> Result<Option<Row>, Error> {
        self.ctx.check_key(table, key)?;
        self.tx.get(&self.ctx.meta(table).name, key)
    }

    fn insert_at(&mut self, table: TableId, row: Row) -> Result<(), Error> {
        let guard = self.guard;
        self.atomic(|ctx, tx| {
            let row = ctx.normalize(table, row)?;
            for &f in &ctx.graph.tables[table].outgoing {
                let fk = ctx.fk(f);
                let values = fk.child_values(&row);
                if has_null(&values) {
                    continue;
                }
                // A row may reference itself.
                if fk.parent == table && fk.parent_values(&row) == values {
                    continue;
                }
                let Some(parent) = ctx.parent(tx, fk, &values)? else {
                    return Err(Error::MissingParent {
                        operation: Operation::Insert,
                        table: ctx.meta(table).name.clone(),
                        key: ctx.pk_of(table, &row),
                        foreign_key: fk.name.clone(),
                        parent_key: values,
                    });
                };
                guard.check(
                    ctx,
                    tx,
                    Operation::Insert,
                    table,
                    &ctx.pk_of(table, &row),
                    f,
                    &parent,
                )?;
            }
            tx.insert(&ctx.meta(table).name, &row)
        })
    }

    fn update_at(
        &mut self,
        table: TableId,
        rows: Vec<(Key, Row)>,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let guard = self.guard;
        self.atomic(|ctx, tx| {
            // A changed foreign key may not point at a row being deleted.
            if !ctx.graph.tables[table].outgoing.is_empty() && guard.may_refuse(ctx, tx)? {
                for (key, row) in &rows {
                    let Some(old) = tx.get(&ctx.meta(table).name, key)? else {
                        continue;
                    };
                    for &f in &ctx.graph.tables[table].outgoing {
                        let fk = ctx.fk(f);
                        let values = fk.child_values(row);
                        if has_null(&values) || values == fk.child_values(&old) {
                            continue;
                        }
                        if let Some(parent) = ctx.parent(tx, fk, &values)? {
                            guard.check(ctx, tx, Operation::Update, table, key, f, &parent)?;
                        }
                    }
                }
            }
            update_sync(ctx, tx, table, rows, options)
        })
    }
}

/// The SQL name of `T`'s table and `keys` as untyped keys.
fn typed_keys<T>(schema: &Schema, keys: &[T::PrimaryKey]) -> Result<(String, Vec<Key>), Error>
where
    T: Table,
    T::PrimaryKey: Serialize,
{
    let (_, id) = schema.resolve(&T::META.name)?;
    if schema.meta(id).columns.len() != T::META.columns.len() {
        return Err(Error::UnknownTable {
            table: format!(
                "{} (the schema's `{}` is not the table of `{}`)",
                T::META.name,
                T::META.name,
                T::META.type_name
            ),
        });
    }
    let keys = keys.iter().map(to_key).collect::<Result<Vec<_>, _>>()?;
    Ok((T::META.name.to_string(), keys))
}
