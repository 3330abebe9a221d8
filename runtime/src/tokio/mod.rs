//! The async front end (cargo feature `tokio`): [`Database`], whose methods
//! run the synchronous engine on tokio's blocking pool, and [`WorkerTask`],
//! a worker that runs as a tokio task and shuts down gracefully.
//!
//! The engine stays synchronous (rusqlite is, and a batch is a short
//! transaction): each call here moves its arguments into a closure that
//! `tokio::task::spawn_blocking` runs, so an async service never blocks its
//! executor threads on the database. Arguments are therefore taken by value
//! (`'static`), and a future that is dropped does not cancel its call: the
//! operation runs to its end (a committed or rolled-back transaction) on
//! the blocking pool. A panic in the engine is resumed in the caller.
//!
//! These need a tokio runtime with its time driver on (the default of
//! `#[tokio::main]`), for the worker's sleeps.
//!
//! ```
//! use cascadia_runtime::metadata::{ColumnMeta, TableMeta};
//! use cascadia_runtime::{MemoryStore, Schema, Value, ValueType};
//!
//! # fn main() -> Result<(), cascadia_runtime::Error> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let schema = Schema::new(vec![
//!     TableMeta::new("teams")
//!         .with_column(ColumnMeta::new("id", ValueType::Integer))
//!         .with_primary_key(["id"]),
//! ])?;
//! let db = cascadia_runtime::tokio::Database::new(cascadia_runtime::Database::new(
//!     MemoryStore::new(schema)?,
//! ));
//! db.run(|db| db.insert_row("teams", vec![Value::Integer(1)])).await?;
//! let rows = db.read(|tx| tx.rows("teams")).await?;
//! assert_eq!(rows.len(), 1);
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! With `#[derive(Table)]` structs (through the facade, `cascadia::tokio`):
//! `db.insert(team).await?`, `db.get::<Team>(1).await?`,
//! `db.delete::<Team>(1).await?`.

mod worker;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::database::Tx;
use crate::engine::explain::{Explain, ExplainOptions};
use crate::engine::jobs::JobInfo;
use crate::engine::options::DeleteOptions;
use crate::engine::outcome::Outcome;
use crate::model::error::{Error, StoreErrorKind};
use crate::model::job::JobId;
use crate::model::planner::{Filter, FullScan};
use crate::model::table::Table;

pub use worker::WorkerTask;

/// An async handle on a [`Database`](crate::Database): each method runs the
/// synchronous call of the same name on tokio's blocking pool and returns
/// its result. Cloning is cheap (the database is shared).
#[derive(Debug, Clone)]
pub struct Database {
    db: Arc<crate::Database>,
}

impl Database {
    /// An async handle on `db`.
    pub fn new(db: crate::Database) -> Self {
        Database { db: Arc::new(db) }
    }

    /// The synchronous database, for calls this handle does not offer (run
    /// them in [`Database::run`] to keep them off the executor threads).
    pub fn blocking(&self) -> &crate::Database {
        &self.db
    }

    /// Runs `f` on the synchronous database on tokio's blocking pool.
    ///
    /// # Errors
    /// What `f` returns; an [`Error::Store`] of kind `Other` if the runtime
    /// shut down before the call ran.
    pub async fn run<R, E>(
        &self,
        f: impl FnOnce(&crate::Database) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let db = self.db.clone();
        blocking(move || f(&db)).await?
    }

    /// Runs `f` in one write transaction on the blocking pool: committed
    /// when it returns `Ok`, rolled back on `Err` (see
    /// [`Database::write`](crate::Database::write); `E` is the
    /// application's error type).
    ///
    /// # Errors
    /// What `f` returns; store errors, converted into `E`.
    pub async fn write<R, E>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.run(move |db| db.write(f)).await
    }

    /// Runs `f` in one read transaction on the blocking pool (see
    /// [`Database::read`](crate::Database::read)).
    ///
    /// # Errors
    /// What `f` returns; store errors, converted into `E`.
    pub async fn read<R, E>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.run(move |db| db.read(f)).await
    }

    /// Inserts `row`: see [`Tx::insert`].
    ///
    /// # Errors
    /// As [`Tx::insert`].
    pub async fn insert<T>(&self, row: T) -> Result<(), Error>
    where
        T: Table + Serialize + Send + 'static,
    {
        self.run(move |db| db.insert(&row)).await
    }

    /// The row of `T` with primary key `key`: see [`Tx::get`].
    ///
    /// # Errors
    /// As [`Tx::get`].
    pub async fn get<T>(&self, key: T::PrimaryKey) -> Result<Option<T>, Error>
    where
        T: Table + DeserializeOwned + Send + 'static,
        T::PrimaryKey: Serialize + Send + 'static,
    {
        self.run(move |db| db.get::<T>(&key)).await
    }

    /// Updates the row with `row`'s primary key: see [`Tx::update`].
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub async fn update<T>(&self, row: T) -> Result<Outcome, Error>
    where
        T: Table + Serialize + Send + 'static,
    {
        self.run(move |db| db.update(&row)).await
    }

    /// Deletes the row of `T` with primary key `key` in the default mode
    /// (batched, every batch on the blocking pool): see
    /// [`Database::delete`](crate::Database::delete).
    ///
    /// # Errors
    /// As [`Database::delete_rows`](crate::Database::delete_rows).
    pub async fn delete<T>(&self, key: T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table + 'static,
        T::PrimaryKey: Serialize + Send + 'static,
    {
        self.run(move |db| db.delete::<T>(&key)).await
    }

    /// Deletes the rows of `T` with primary keys `keys` in the mode of
    /// `options`: see [`Database::delete_with`](crate::Database::delete_with).
    ///
    /// # Errors
    /// As [`Database::delete_rows`](crate::Database::delete_rows).
    pub async fn delete_with<T>(
        &self,
        keys: Vec<T::PrimaryKey>,
        options: DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table + 'static,
        T::PrimaryKey: Serialize + Send + 'static,
    {
        self.run(move |db| db.delete_with::<T>(&keys, &options))
            .await
    }

    /// Deletes the rows of `T` that match every filter: see
    /// [`Database::delete_where`](crate::Database::delete_where).
    ///
    /// # Errors
    /// As [`Database::delete_rows_where`](crate::Database::delete_rows_where).
    pub async fn delete_where<T>(
        &self,
        filters: Vec<Filter>,
        options: DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table + 'static,
    {
        self.run(move |db| db.delete_where::<T>(&filters, &options))
            .await
    }

    /// Queues a batched delete of the rows of `T` with primary keys `keys`
    /// for a worker (it wakes the database's workers): see
    /// [`Database::enqueue_delete`](crate::Database::enqueue_delete).
    ///
    /// # Errors
    /// As [`Database::enqueue_delete_rows`](crate::Database::enqueue_delete_rows).
    pub async fn enqueue_delete<T>(
        &self,
        keys: Vec<T::PrimaryKey>,
        options: DeleteOptions,
    ) -> Result<JobId, Error>
    where
        T: Table + 'static,
        T::PrimaryKey: Serialize + Send + 'static,
    {
        self.run(move |db| db.enqueue_delete::<T>(&keys, &options))
            .await
    }

    /// Typed rows by dynamic filters: see [`Tx::query`].
    ///
    /// # Errors
    /// As [`Tx::query`].
    pub async fn query<T>(&self, filters: Vec<Filter>, scan: FullScan) -> Result<Vec<T>, Error>
    where
        T: Table + DeserializeOwned + Send + 'static,
    {
        self.run(move |db| db.query::<T>(&filters, scan)).await
    }

    /// What deleting the rows of `T` with primary keys `keys` would do,
    /// without doing it: see
    /// [`Database::explain_delete_rows`](crate::Database::explain_delete_rows).
    ///
    /// # Errors
    /// As [`Database::explain_delete_rows`](crate::Database::explain_delete_rows).
    pub async fn explain_delete<T>(
        &self,
        keys: Vec<T::PrimaryKey>,
        options: ExplainOptions,
    ) -> Result<Explain, Error>
    where
        T: Table + 'static,
        T::PrimaryKey: Serialize + Send + 'static,
    {
        self.run(move |db| db.explain_delete::<T>(&keys, &options))
            .await
    }

    /// The delete jobs in the store: see
    /// [`Database::jobs`](crate::Database::jobs).
    ///
    /// # Errors
    /// Store errors; [`Error::JobState`] for an unreadable record.
    pub async fn jobs(&self) -> Result<Vec<JobInfo>, Error> {
        self.run(|db| db.jobs()).await
    }

    /// Spawns a worker of this database, with the default settings, as a
    /// tokio task: see [`WorkerTask::spawn`] to configure it.
    pub fn spawn_worker(&self) -> WorkerTask {
        WorkerTask::spawn(crate::Worker::new((*self.db).clone()))
    }
}

impl From<crate::Database> for Database {
    fn from(db: crate::Database) -> Self {
        Database::new(db)
    }
}

/// Runs `f` on the blocking pool; a panic in `f` is resumed here.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
    match ::tokio::task::spawn_blocking(f).await {
        Ok(result) => Ok(result),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(Error::store(
            "tokio",
            StoreErrorKind::Other,
            format!("the blocking task did not run: {error}"),
        )),
    }
}
