//! The storage layer: a small [`Store`] trait that opens transactions, and a
//! [`Transaction`] trait with the row operations the executor needs — get by
//! primary key, index scans with a resume position and a row limit, insert,
//! update and delete by primary key — plus job records written in the same
//! transaction as the rows, so that a batch of writes and the job state that
//! follows it commit together.
//!
//! Stores hold rows; they enforce primary and unique keys (as SQL does, NULLs
//! never collide) but not foreign keys: referential integrity and actions are
//! the executor's job ([`Database`](crate::Database)). A store may check
//! foreign keys itself as a safety net (SQLite with `PRAGMA foreign_keys=ON`
//! checks them at commit).
//!
//! Backends, one module each: [`MemoryStore`] (always built) and
//! [`SqliteStore`] (cargo feature `sqlite`, on by default).

use std::cell::RefCell;
use std::collections::HashSet;

use crate::model::error::Error;
use crate::model::index_range::IndexRange;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};

mod memory;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use memory::MemoryStore;
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
    /// Short backend name: `"memory"`, `"sqlite"`.
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
}

/// A scan of the rows referencing any of several parents, for
/// [`Transaction::scan_children`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ChildScan<'a> {
    /// The table and the index to read; no prefix, no range.
    pub range: &'a IndexRange,
    /// The parents' values, each a full prefix of the index (the foreign
    /// key's columns in index order). NULL-holding prefixes match nothing.
    pub prefixes: &'a [Key],
    /// Resume strictly after this position (rows come in index order, then
    /// primary-key order, across all prefixes).
    pub after: Option<&'a ScanPosition>,
    /// Most rows to return.
    pub limit: usize,
    /// The columns the caller needs (positions); a store may return the
    /// others as NULL. `None`: every column.
    pub columns: Option<&'a [usize]>,
}

impl<'a> ChildScan<'a> {
    /// A scan of every column, from the start.
    pub fn new(range: &'a IndexRange, prefixes: &'a [Key], limit: usize) -> Self {
        ChildScan {
            range,
            prefixes,
            after: None,
            limit,
            columns: None,
        }
    }

    /// Resumes after `after`.
    pub fn after(mut self, after: Option<&'a ScanPosition>) -> Self {
        self.after = after;
        self
    }

    /// Asks only for `columns`.
    pub fn columns(mut self, columns: &'a [usize]) -> Self {
        self.columns = Some(columns);
        self
    }
}

/// [`Transaction::scan_children`] by one [`Transaction::scan`] per prefix,
/// in order.
pub fn children_one_by_one<T: Transaction + ?Sized>(
    tx: &mut T,
    scan: &ChildScan<'_>,
) -> Result<Vec<(Row, u64)>, Error> {
    let mut prefixes: Vec<&Key> = scan
        .prefixes
        .iter()
        .filter(|p| !p.iter().any(Value::is_null))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let mut out = Vec::new();
    for prefix in prefixes {
        if out.len() >= scan.limit {
            break;
        }
        let after = match scan.after {
            Some(after) => match after.index.get(..prefix.len()) {
                Some(head) if head < prefix.as_slice() => None,
                Some(head) if head == prefix.as_slice() => Some(after),
                _ => continue,
            },
            None => None,
        };
        let range = IndexRange {
            prefix: prefix.clone(),
            ..scan.range.clone()
        };
        let rows = tx.scan(&range, after, scan.limit - out.len())?;
        out.extend(rows.into_iter().map(|row| {
            let size = row.iter().map(|v| v.size_bytes() as u64).sum();
            (row, size)
        }));
    }
    Ok(out)
}

/// A job record: an id and the job's opaque serialised state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The job's id.
    pub id: String,
    /// The job's state, as the executor serialised it.
    pub state: Vec<u8>,
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
}

/// A transaction of a [`Store`]: row operations, job records, savepoints.
/// Dropping it without [`commit`](Transaction::commit) rolls everything back.
///
/// Tables are named by SQL name; rows hold one value per column in column
/// order; keys are primary-key values in key order. The caller (the
/// executor) passes rows of the right shape and types; stores check shapes
/// and keys, not foreign keys.
pub trait Transaction {
    /// Whether the transaction may write.
    fn access(&self) -> Access;

    /// The row with primary key `key`, if any.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`], backend errors.
    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error>;

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

    /// Up to `scan.limit` rows referencing any of several parents: the rows
    /// of `scan.range`'s index whose first columns equal one of
    /// `scan.prefixes`, ordered by the index's columns then the primary key
    /// (across prefixes), strictly after `scan.after`. Each row comes with
    /// its serialised size ([`Value::size_bytes`] summed over every column,
    /// whether returned or not). The executor's child scans use it so that a
    /// store can answer many parents with one query and skip columns.
    ///
    /// The default runs one [`scan`](Transaction::scan) per prefix
    /// ([`children_one_by_one`]) and returns every column.
    ///
    /// # Errors
    /// As [`scan`](Transaction::scan).
    fn scan_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        children_one_by_one(self, scan)
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

    /// Writes job `id`'s state (insert or replace), in this transaction.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn put_job(&mut self, id: &str, state: &[u8]) -> Result<(), Error>;

    /// Job `id`'s state, if the job exists.
    ///
    /// # Errors
    /// Backend errors.
    fn get_job(&mut self, id: &str) -> Result<Option<Vec<u8>>, Error>;

    /// Deletes job `id`; returns whether it existed.
    ///
    /// # Errors
    /// [`Error::ReadOnly`], backend errors.
    fn delete_job(&mut self, id: &str) -> Result<bool, Error>;

    /// Every job, by id.
    ///
    /// # Errors
    /// Backend errors.
    fn list_jobs(&mut self) -> Result<Vec<JobRecord>, Error>;

    /// Commits everything written in the transaction.
    ///
    /// # Errors
    /// Backend errors (SQLite: a foreign key its own check finds violated, in
    /// which case everything is rolled back).
    fn commit(self: Box<Self>) -> Result<(), Error>;
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
#[cfg(feature = "sqlite")]
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
