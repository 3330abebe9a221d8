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

mod delete;
mod jobs;
mod query;
mod soft_deleted;
mod tx;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::context::Ctx;
use crate::engine::execute::batched::Engine;
use crate::engine::guard::Guard;
use crate::engine::options::UpdateOptions;
use crate::engine::outcome::Outcome;
use crate::engine::policy::{Policies, Policy, PolicyContext};
use crate::engine::wakeup::Wakeup;
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::index_range::IndexRange;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::serde_value::to_key;
use crate::model::table::Table;
use crate::model::value::{Key, Row, Value};
use crate::store::{Access, Store};

pub(crate) use delete::Target;
pub use soft_deleted::SoftDeleted;
pub use tx::Tx;

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
    soft_deleted: SoftDeleted,
    policies: Arc<Policies>,
    context: Option<PolicyContext>,
    /// Raised when a job is queued, to wake this database's workers.
    wakeup: Arc<Wakeup>,
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
    /// Where the next page starts, when the scan read a full page (there
    /// may be more rows); `None` when the scan is done. With soft-deleted
    /// rows hidden ([`SoftDeleted::Hidden`]), a page may hold fewer rows
    /// than asked for, even none, and still have a next page.
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
            soft_deleted: SoftDeleted::Hidden,
            policies: Arc::new(Policies::default()),
            context: None,
            wakeup: Arc::new(Wakeup::default()),
        }
    }

    /// This database with `policy` consulted for every row of `T`'s table
    /// that an operation would change (see [`Policy`]), after the table's
    /// policies added before; `name` names it in [`Error::PolicyDenied`].
    /// Clones made before do not see it.
    ///
    /// # Panics
    /// Never: a `T` missing from the schema has no rows to guard, and the
    /// policy is then never consulted.
    pub fn with_policy<T: Table>(
        self,
        name: impl Into<String>,
        policy: impl Policy + 'static,
    ) -> Self {
        match self.store.schema().resolve(&T::META.name) {
            Ok((_, table)) => self.add_policy(table, name.into(), Arc::new(policy)),
            Err(_) => self,
        }
    }

    /// [`Database::with_policy`] for the table with SQL name `table`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`] when the schema has no such table.
    pub fn with_table_policy(
        self,
        table: &str,
        name: impl Into<String>,
        policy: impl Policy + 'static,
    ) -> Result<Self, Error> {
        let (_, id) = self.store.schema().resolve(table)?;
        Ok(self.add_policy(id, name.into(), Arc::new(policy)))
    }

    fn add_policy(mut self, table: TableId, name: String, policy: Arc<dyn Policy>) -> Self {
        Arc::make_mut(&mut self.policies).add(table, name.into(), policy);
        self
    }

    /// This database (sharing its store and policies) with `context` as the
    /// value row policies see for every operation that does not pass its
    /// own (e.g. one handle per request, with the acting user):
    /// `db.with_context(user).delete::<Project>(&[7])`.
    pub fn with_context(&self, context: impl std::any::Any + Send + Sync) -> Self {
        Database {
            context: Some(Arc::new(context)),
            ..self.clone()
        }
    }

    /// The engine's view of the schema, with this database's policies and
    /// the context `context` (else the database's own).
    pub(crate) fn ctx<'a>(&'a self, context: Option<&'a PolicyContext>) -> Result<Ctx<'a>, Error> {
        Ok(Ctx::new(self.store.schema())?
            .with_policies(&self.policies, context.or(self.context.as_ref())))
    }

    /// This database (sharing its store) with reads that return
    /// soft-deleted rows too: `db.including_soft_deleted().get::<Post>(&1)`.
    /// See [`SoftDeleted`] for what reads return by default.
    pub fn including_soft_deleted(&self) -> Self {
        Database {
            soft_deleted: SoftDeleted::Included,
            ..self.clone()
        }
    }

    /// Whether this database's reads return soft-deleted rows.
    pub fn soft_deleted(&self) -> SoftDeleted {
        self.soft_deleted
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
    /// `f` may fail with the application's own error type `E`, any type
    /// that a cascadia [`Error`] converts into (`?` on a cascadia call
    /// inside `f` converts it): a business rule aborts the transaction by
    /// returning its error, and the caller gets that error back as it was.
    /// When `f` returns `Ok(..)` and nothing else names `E`, name it:
    /// `db.write(|tx| { tx.insert(&row)?; Ok::<_, cascadia::Error>(()) })`.
    ///
    /// # Errors
    /// What `f` returns (everything it wrote is rolled back); store errors
    /// from opening or committing, converted into `E`.
    pub fn write<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.write_with(true, f)
    }

    /// One operation in its own transaction: no savepoint is needed (a
    /// failure drops the whole transaction), which spares SQLite its
    /// sub-journal.
    fn write_one<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        self.write_with(false, f)
    }

    fn write_with<R, E: From<Error>>(
        &self,
        savepoints: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut tx = Tx {
            ctx: self.ctx(None)?,
            tx: self.store.begin(Access::Write)?,
            savepoints,
            guard: &self.guard,
            soft_deleted: self.soft_deleted,
            policies: &self.policies,
            context: self.context.as_ref(),
        };
        // On `Err`, `tx` is dropped uncommitted: the store rolls it back.
        let result = f(&mut tx)?;
        tx.tx.commit()?;
        Ok(result)
    }

    /// Runs `f` in one read transaction (writes fail with [`Error::ReadOnly`]).
    /// As with [`Database::write`], `f` may fail with any error type `E`
    /// that a cascadia [`Error`] converts into.
    ///
    /// # Errors
    /// What `f` returns; store errors, converted into `E`.
    pub fn read<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut tx = Tx {
            ctx: self.ctx(None)?,
            tx: self.store.begin(Access::Read)?,
            savepoints: true,
            guard: &self.guard,
            soft_deleted: self.soft_deleted,
            policies: &self.policies,
            context: self.context.as_ref(),
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

    /// Replaces several untyped rows as one operation, with `options`: see
    /// [`Tx::update_rows`].
    ///
    /// # Errors
    /// As [`Tx::update_rows`].
    pub fn update_rows(
        &self,
        table: &str,
        rows: Vec<(Key, Row)>,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.update_rows(table, rows, options))
    }

    /// Every row of `table`, by primary key (reads the whole table).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, Error> {
        self.read(|tx| tx.rows(table))
    }

    /// Up to `limit` untyped rows of `range`, after `after`: see
    /// [`Tx::scan_rows`].
    ///
    /// # Errors
    /// As [`Tx::scan_rows`].
    pub fn scan_rows(
        &self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<Row>, Error> {
        self.read(|tx| tx.scan_rows(range, after, limit))
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
