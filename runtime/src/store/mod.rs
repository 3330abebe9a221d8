//! The storage layer: a small [`Store`] trait that opens transactions, and a
//! [`Transaction`] trait with what the engine needs — get by primary key,
//! index scans with a resume position and a row limit, insert, update and
//! delete by primary key; set-based operations on the rows referencing a set
//! of parents ([`scan`]), which a SQL store runs in a statement each; and job
//! rows ([`JobRow`]) written in the same transaction as the rows, so that a
//! batch of writes and the job state that follows it commit together.
//!
//! This layer imports only the model: a backend is one folder here and one
//! cargo feature, and adding one edits no other file but the feature list.
//!
//! Stores hold rows; they enforce primary and unique keys (as SQL does, NULLs
//! never collide) but not foreign keys: referential integrity and actions are
//! the executor's job ([`Database`](crate::Database)). A store may check
//! foreign keys itself as a safety net (SQLite with `PRAGMA foreign_keys=ON`
//! checks them at commit).
//!
//! Backends, one module each: [`MemoryStore`] (always built),
//! [`SqliteStore`] (cargo feature `sqlite`, on by default) and
//! `PostgresStore` (cargo feature `postgres`).

use std::cell::RefCell;
use std::collections::HashSet;

use crate::model::error::Error;
use crate::model::index_range::IndexRange;
use crate::model::job::JobId;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};

mod job;
mod memory;
mod pool;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod scan;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_names;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use job::{Claim, JobFilter, JobRow, Lease};
pub use memory::MemoryStore;
pub use pool::PoolOptions;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use scan::{ChildScan, ChildWrite, Written};
#[cfg(feature = "sqlite")]
pub use sqlite::{JournalMode, SqliteOptions, SqliteStore, Synchronous};

/// What a transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Reads only; writes return [`Error::ReadOnly`]. On SQLite, a deferred
    /// transaction that does not block writers in WAL mode.
    Read,
    /// Reads and writes. On SQLite, `BEGIN IMMEDIATE`: the write lock is
    /// taken up front, so the transaction never fails half-way on a busy lock.
    Write,
}

impl Access {
    /// `Ok` for [`Access::Write`], else [`Error::ReadOnly`].
    pub(crate) fn check_writable(self) -> Result<(), Error> {
        match self {
            Access::Write => Ok(()),
            Access::Read => Err(Error::ReadOnly),
        }
    }
}

/// What a backend offers, for callers that adapt to it (batch sizes, whether
/// a native foreign-key check backs cascadia's).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Short backend name: `"memory"`, `"sqlite"`, `"postgres"`.
    pub backend: &'static str,
    /// Committed data survives the process (a file-backed database).
    pub durable: bool,
    /// The backend checks the declared foreign keys itself, at commit (a
    /// safety net under cascadia's own checks).
    pub native_foreign_keys: bool,
    /// Readers are not blocked by a write transaction (SQLite in WAL mode).
    pub concurrent_readers: bool,
    /// Savepoints: one operation inside a larger transaction can be undone
    /// alone. Both built-in backends have them.
    pub savepoints: bool,
    /// A write transaction excludes every other writer until it ends
    /// (SQLite's `BEGIN IMMEDIATE`, the memory store's lock): nothing can
    /// change between two statements of one transaction. The engine then
    /// skips re-checking, at the end of a batch, what it checked earlier in
    /// the same transaction.
    pub serialized_writes: bool,
    /// How many parent rows the batched engine names in one set-based
    /// statement ([`ChildScan::prefixes`]), which is also how many rows it
    /// reads into one frame: SQLite's `IN` lists take 64 values per
    /// statement, PostgreSQL's arrays take 256 (fewer round trips).
    pub parents_per_statement: usize,
}

/// A storage backend: opens transactions over the tables of its [`Schema`].
///
/// The trait is dyn-compatible on purpose: a [`Database`](crate::Database)
/// (and the batched worker that drains jobs) holds an `Arc<dyn Store>`, so
/// the executor is compiled once rather than once per backend, and programs
/// choose their backend at run time. The cost — one allocation per
/// transaction and one indirect call per row operation — is noise beside the
/// lookups each operation performs. Transactions borrow the store (`'_`):
/// SQLite's holds the connection for its lifetime.
///
/// Stores are `Send + Sync`; the built-in ones are cheap to clone and share
/// one underlying database, so a worker thread can use a clone.
pub trait Store: Send + Sync {
    /// The schema the store was opened with.
    fn schema(&self) -> &Schema;

    /// What the backend offers.
    fn capabilities(&self) -> Capabilities;

    /// Opens a transaction. It rolls back when dropped uncommitted.
    ///
    /// # Errors
    /// [`Error::NestedTransaction`] if this thread already holds a
    /// transaction on this store; backend errors (SQLite: busy, I/O).
    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error>;

    /// Creates what the store keeps jobs in, if missing. Optional: the
    /// first job written creates it; a store that opens a database without
    /// writing (SQLite) leaves it to this call or to the first job. Does
    /// nothing by default.
    ///
    /// # Errors
    /// Backend errors (a read-only database, locking).
    fn setup_jobs(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// A transaction of a [`Store`]: row operations, set-based operations on
/// the rows referencing some parents, savepoints, job rows. Dropping it
/// without [`commit`](Transaction::commit) rolls everything back.
///
/// Tables are named by SQL name; rows hold one value per column in column
/// order; keys are primary-key values in key order. The caller (the
/// executor) passes rows of the right shape and types; stores check shapes
/// and keys, not foreign keys.
///
/// The set-based operations ([`scan_children`](Self::scan_children),
/// [`count_children`](Self::count_children),
/// [`delete_many`](Self::delete_many),
/// [`delete_children`](Self::delete_children),
/// [`update_children`](Self::update_children)) have row-at-a-time default
/// implementations over `scan`, `delete` and `update` ([`scan`]
/// module's functions), so a key-value or document store implements only
/// the row operations; a SQL store overrides them with a few statements per
/// call (`DELETE ... RETURNING`, `UPDATE ... WHERE fk IN (...)`).
pub trait Transaction {
    /// Whether the transaction may write.
    fn access(&self) -> Access;

    /// The schema of the store the transaction belongs to.
    fn schema(&self) -> &Schema;

    /// Whether the database runs the actions of the schema's
    /// [`native`](crate::ForeignKeyMeta::native) foreign keys itself when
    /// a referenced key changes or a referenced row goes: then the engine
    /// only counts their rows. False by default (a store with no foreign
    /// keys of its own: the engine runs every action).
    fn runs_native_actions(&self) -> bool {
        false
    }

    /// The row with primary key `key`, if any.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`], backend errors.
    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error>;

    /// The rows whose primary keys are among `keys`, in no particular
    /// order; a key with no row adds none (SQL: `SELECT ... WHERE k =
    /// ANY($1)`). The default calls [`get`](Transaction::get) once per key,
    /// which is cheap in-process and one round trip per key over a
    /// network: a networked store answers in one statement. Pass distinct
    /// keys: a repeated key yields its row once per repeat from the default
    /// and once from a one-statement store.
    ///
    /// # Errors
    /// As [`get`](Transaction::get).
    fn get_many(&mut self, table: &str, keys: &[Key]) -> Result<Vec<Row>, Error> {
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            rows.extend(self.get(table, key)?);
        }
        Ok(rows)
    }

    /// Up to `limit` rows of `range`, ordered by the index's columns then the
    /// primary key, starting strictly after `after` when given. NULL never
    /// matches a prefix value or a range (as in SQL).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::InvalidRange`] (unknown index, too
    /// many prefix values, a range with no column left, `Unindexed`), backend
    /// errors.
    fn scan(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error>;

    /// Up to `limit` rows whose columns at positions `columns` equal `values`
    /// (NULL equals nothing), by primary key, strictly after primary key
    /// `after` when given. A full scan of the table: the executor uses it
    /// only for foreign keys declared `unindexed`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], backend errors.
    fn scan_where(
        &mut self,
        table: &str,
        columns: &[usize],
        values: &[Value],
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>, Error>;

    /// Up to `scan.limit` rows referencing any of several parents (see
    /// [`ChildScan`]), each with its serialised size ([`Value::size_bytes`]
    /// summed over every column, whether returned or not). The default runs
    /// one [`scan`](Transaction::scan) per prefix
    /// ([`scan::children_one_by_one`]) and returns every column.
    ///
    /// # Errors
    /// As [`scan`](Transaction::scan).
    fn scan_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        scan::children_one_by_one(self, scan)
    }

    /// How many rows reference any of the parents of `scan` (its `limit`
    /// and `columns` are ignored). The default counts pages of
    /// [`scan_children`](Transaction::scan_children).
    ///
    /// # Errors
    /// As [`scan`](Transaction::scan).
    fn count_children(&mut self, scan: &ChildScan<'_>) -> Result<u64, Error> {
        scan::count_children_by_pages(self, scan)
    }

    /// Inserts a row.
    ///
    /// # Errors
    /// [`Error::Duplicate`] if its primary key or a unique key (without NULL)
    /// exists; [`Error::RowShape`]; [`Error::ReadOnly`]; backend errors.
    fn insert(&mut self, table: &str, row: &[Value]) -> Result<(), Error>;

    /// Replaces the row with primary key `key` by `row`, which may have
    /// another primary key. Returns whether the row existed.
    ///
    /// # Errors
    /// [`Error::Duplicate`] if the new row collides with another row's
    /// primary or unique key; [`Error::RowShape`]; [`Error::ReadOnly`];
    /// backend errors.
    fn update(&mut self, table: &str, key: &[Value], row: &[Value]) -> Result<bool, Error>;

    /// Deletes the row with primary key `key`; returns whether it existed.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn delete(&mut self, table: &str, key: &[Value]) -> Result<bool, Error>;

    /// Deletes the rows with the given primary keys; returns how many existed.
    ///
    /// # Errors
    /// As [`delete`](Transaction::delete).
    fn delete_many(&mut self, table: &str, keys: &[Key]) -> Result<u64, Error> {
        let mut deleted = 0;
        for key in keys {
            deleted += u64::from(self.delete(table, key)?);
        }
        Ok(deleted)
    }

    /// Deletes up to `write.scan.limit` rows referencing any of the parents
    /// of `write.scan`, in scan order, within `write.bytes`; returns how
    /// many, their sizes, and the columns asked for (SQL: `DELETE ...
    /// WHERE key IN (SELECT ... LIMIT n) RETURNING ...`). The default reads
    /// the rows, then deletes them by key
    /// ([`scan::delete_children_one_by_one`]).
    ///
    /// # Errors
    /// [`Error::ReadOnly`], as [`scan`](Transaction::scan), backend errors.
    fn delete_children(&mut self, write: &ChildWrite<'_>) -> Result<Written, Error> {
        scan::delete_children_one_by_one(self, write)
    }

    /// Sets the columns `set` (position, value) on up to `write.scan.limit`
    /// rows referencing any of the parents of `write.scan`, in scan order,
    /// within `write.bytes` (counted on the rows as updated); returns how
    /// many, their sizes, and the columns asked for, as updated (SQL:
    /// `UPDATE ... SET ... WHERE key IN (SELECT ... LIMIT n) RETURNING
    /// ...`). The executor uses it for SET NULL and SET DEFAULT, and to
    /// rewrite the foreign-key columns of the rows referencing a changed key
    /// (ON UPDATE CASCADE); it never sets a column of a unique key this way.
    /// The default reads the rows, then replaces each
    /// ([`scan::update_children_one_by_one`]).
    ///
    /// # Errors
    /// [`Error::ReadOnly`], as [`scan`](Transaction::scan), backend errors.
    fn update_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: &[(usize, Value)],
    ) -> Result<Written, Error> {
        scan::update_children_one_by_one(self, write, set)
    }

    /// Opens a savepoint: what follows can be undone alone with
    /// [`rollback_to_savepoint`](Transaction::rollback_to_savepoint).
    /// Savepoints nest.
    ///
    /// # Errors
    /// Backend errors.
    fn savepoint(&mut self) -> Result<(), Error>;

    /// Keeps what was done since the innermost savepoint and closes it.
    ///
    /// # Errors
    /// [`Error::NoSavepoint`], backend errors.
    fn release_savepoint(&mut self) -> Result<(), Error>;

    /// Undoes what was done since the innermost savepoint and closes it.
    ///
    /// # Errors
    /// [`Error::NoSavepoint`], backend errors.
    fn rollback_to_savepoint(&mut self) -> Result<(), Error>;

    /// Inserts a job (its `id` is ignored) and returns the id the store
    /// gave it: larger than every id given before.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn insert_job(&mut self, job: &JobRow) -> Result<JobId, Error>;

    /// Job `id`, with its state. In a write transaction of a server store,
    /// the job's row stays locked until the transaction ends.
    ///
    /// # Errors
    /// Backend errors.
    fn job(&mut self, id: JobId) -> Result<Option<JobRow>, Error>;

    /// Replaces job `job.id`'s row; returns whether it existed.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn update_job(&mut self, job: &JobRow) -> Result<bool, Error>;

    /// Deletes job `id` and its roots; returns whether it existed.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn delete_job(&mut self, id: JobId) -> Result<bool, Error>;

    /// The jobs `filter` selects, by id.
    ///
    /// # Errors
    /// Backend errors.
    fn list_jobs(&mut self, filter: JobFilter) -> Result<Vec<JobRow>, Error>;

    /// Claims the active, due job with the smallest id that no other worker
    /// holds a live lease on ([`JobRow::claimable`]): sets its lease to
    /// `claim`'s owner and expiry, and returns it with its state. In a
    /// server store the row is locked until the transaction ends, and rows
    /// other transactions hold are skipped (`FOR UPDATE SKIP LOCKED`), so
    /// concurrent claims never return the same job.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn claim_job(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error>;

    /// Writes chunk `chunk` of job `id`'s roots (insert or replace).
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn put_job_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error>;

    /// Chunk `chunk` of job `id`'s roots, if written.
    ///
    /// # Errors
    /// Backend errors.
    fn job_roots(&mut self, id: JobId, chunk: u64) -> Result<Option<Vec<u8>>, Error>;

    /// Commits everything written in the transaction.
    ///
    /// # Errors
    /// Backend errors (SQLite: a foreign key its own check finds violated, in
    /// which case everything is rolled back).
    fn commit(self: Box<Self>) -> Result<(), Error>;

    /// Commits a batch of a job whose state this same transaction wrote:
    /// a crash that loses the commit loses the batch and the job's state
    /// together, and the job resumes from the state that survived. So a
    /// backend may return before the commit is durable, where its user
    /// allows it (PostgreSQL: `SET LOCAL synchronous_commit TO OFF` when
    /// `PostgresOptions::durable_batches` is off); a later durable commit
    /// makes it durable too. The engine commits the batch that finishes a
    /// job, and every other write, with [`commit`](Self::commit). The
    /// default commits as `commit` does.
    ///
    /// # Errors
    /// As [`commit`](Self::commit).
    fn commit_batch(self: Box<Self>) -> Result<(), Error> {
        self.commit()
    }
}

thread_local! {
    /// Stores (by address of their shared state) on which this thread holds a
    /// transaction: opening a second one would wait for itself forever.
    static OPEN: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
}

/// Marks a store as holding a transaction on this thread until dropped.
pub(crate) struct OpenMark(usize);

impl OpenMark {
    /// Marks store `id`, or fails with [`Error::NestedTransaction`].
    pub(crate) fn new(id: usize) -> Result<Self, Error> {
        OPEN.with(|open| {
            if open.borrow_mut().insert(id) {
                Ok(OpenMark(id))
            } else {
                Err(Error::NestedTransaction)
            }
        })
    }
}

impl Drop for OpenMark {
    fn drop(&mut self) {
        // `try_with`: the thread-local may already be gone at thread exit.
        let _ = OPEN.try_with(|open| open.borrow_mut().remove(&self.0));
    }
}

/// Checks that a range can be executed on `table` and returns the column
/// positions of its index, in index order.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn range_columns(schema: &Schema, range: &IndexRange) -> Result<Vec<usize>, Error> {
    let (_, table) = schema.resolve(&range.table)?;
    let meta = schema.meta(table);
    let invalid = |reason: String| Error::InvalidRange {
        table: meta.name.clone(),
        reason,
    };
    let columns = range
        .index_columns(meta)
        .ok_or_else(|| invalid(format!("the table has no index {:?}", range.index)))?;
    if range.prefix.len() > columns.len() {
        return Err(invalid(format!(
            "{} prefix values for an index of {} columns",
            range.prefix.len(),
            columns.len()
        )));
    }
    if range.range.is_some() && range.prefix.len() >= columns.len() {
        return Err(invalid(
            "a range after every column of the index is set by the prefix".to_owned(),
        ));
    }
    Ok(columns
        .iter()
        .filter_map(|c| meta.column_position(c))
        .collect())
}
