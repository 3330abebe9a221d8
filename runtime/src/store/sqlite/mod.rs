//! `SqliteStore`: the embedded default, through rusqlite with SQLite bundled.
//!
//! - Opening applies `PRAGMA journal_mode=WAL` and `synchronous=NORMAL` (both
//!   configurable), `foreign_keys=ON` and a busy timeout — the journal mode
//!   only once the database has passed its check.
//! - A fresh database gets the schema's tables ([`ddl`]); an existing one is
//!   opened as it is: checked against the schema (indexes found by their
//!   columns, foreign-key actions read and reconciled) and refused at open,
//!   naming every missing table, column or index and every conflicting
//!   action — not at the first delete. A refused open changes nothing.
//! - Write transactions are `BEGIN IMMEDIATE` with `PRAGMA
//!   defer_foreign_keys=ON`: the intermediate states of a cascade or a key
//!   update are allowed, and SQLite's own check at `COMMIT` stays a safety net
//!   under cascadia's.
//! - Statements are prepared once (`prepare_cached`); every identifier is
//!   quoted and every value is a bound parameter.
//! - A set-based write within a budget lists its candidates with their
//!   sizes first, then writes exactly those that fit, by key (the
//!   `children` module): the writing statement calls no function, so
//!   SQLite needs no statement journal for it.
//! - Job records live in the tables [`JOBS_TABLE`] and [`ROOTS_TABLE`] of the
//!   same database, so they commit with the rows; the first job written
//!   creates them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};

use super::{Access, Capabilities, OpenMark, PoolOptions, Store, Transaction};
use crate::model::error::Error;
use crate::model::schema::Schema;
use crate::model::value::Value;

mod check;
mod children;
pub mod ddl;
mod error;
pub mod introspect;
mod jobs;
mod readers;
mod size;
mod sql;
mod transaction;

use check::prepare_database;
use readers::Readers;
use sql::SqlKey;
use transaction::SqliteTransaction;

pub use jobs::{JOBS_TABLE, ROOTS_TABLE};

/// SQLite's journal mode (`PRAGMA journal_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalMode {
    /// Write-ahead log: readers do not block the writer (the default).
    Wal,
    /// Rollback journal, deleted at the end of each transaction.
    Delete,
    /// Rollback journal, truncated rather than deleted.
    Truncate,
    /// Leave the database's current mode.
    Unchanged,
}

/// SQLite's durability level (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// Sync at critical moments only; in WAL mode a commit may be lost on
    /// power failure but never corrupts (the default).
    Normal,
    /// Sync on every commit.
    Full,
    /// Never sync (tests, scratch data).
    Off,
}

/// Options of [`SqliteStore::open`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Journal mode (default [`JournalMode::Wal`]; in-memory databases keep
    /// their own).
    pub journal_mode: JournalMode,
    /// Durability (default [`Synchronous::Normal`]).
    pub synchronous: Synchronous,
    /// `PRAGMA foreign_keys` (default true): SQLite checks the declared keys
    /// at commit, under cascadia's own checks.
    pub foreign_keys: bool,
    /// How long a transaction waits for another connection's lock (default
    /// 5 s).
    pub busy_timeout: Duration,
    /// Create the schema's tables in a database that has none of them
    /// (default true). A database with some of them is checked instead.
    pub create_tables: bool,
    /// Declare the foreign keys of created tables with their actions, so
    /// that SQLite runs them (default false; see [`ddl`]): a database where
    /// SQLite runs every action, the oracle of the differential tests. An
    /// existing database's actions are then not reconciled with the
    /// schema's. To let SQLite run some keys in a database cascadia works
    /// on, mark those keys [`native`](crate::ForeignKeyMeta::native)
    /// instead.
    pub native_actions: bool,
    /// How many prepared statements the connection keeps (default 256).
    pub statement_cache: usize,
    /// The connections of a file database in WAL mode (default
    /// `PoolOptions::default()`: 8): one writer, and up to
    /// `max_connections − 1` readers, opened as concurrent read
    /// transactions need them, so that reads do not wait for the writer;
    /// a read waits up to `connection_timeout` for a free reader.
    /// `min_idle` is not used. In-memory databases and other journal modes
    /// keep one connection.
    pub pool: PoolOptions,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            journal_mode: JournalMode::Wal,
            synchronous: Synchronous::Normal,
            foreign_keys: true,
            busy_timeout: Duration::from_secs(5),
            create_tables: true,
            native_actions: false,
            statement_cache: 256,
            pool: PoolOptions::default(),
        }
    }
}

impl SqliteOptions {
    /// Sets [`journal_mode`](Self::journal_mode).
    pub fn journal_mode(mut self, mode: JournalMode) -> Self {
        self.journal_mode = mode;
        self
    }

    /// Sets [`synchronous`](Self::synchronous).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Sets [`foreign_keys`](Self::foreign_keys).
    pub fn foreign_keys(mut self, on: bool) -> Self {
        self.foreign_keys = on;
        self
    }

    /// Sets [`busy_timeout`](Self::busy_timeout).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`pool`](Self::pool): `max_connections(1)` makes reads share
    /// the writer's connection.
    pub fn pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self
    }

    /// Sets [`create_tables`](Self::create_tables).
    pub fn create_tables(mut self, create: bool) -> Self {
        self.create_tables = create;
        self
    }

    /// Sets [`native_actions`](Self::native_actions).
    pub fn native_actions(mut self, native: bool) -> Self {
        self.native_actions = native;
        self
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(integer) => ValueRef::Integer(*integer),
            Value::Real(real) => ValueRef::Real(*real),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
            Value::Blob(bytes) => ValueRef::Blob(bytes),
        }))
    }
}

/// `value` as rusqlite's owned value: an element of a `rarray(?)`.
pub(super) fn sql_value(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Null => rusqlite::types::Value::Null,
        Value::Integer(integer) => rusqlite::types::Value::Integer(*integer),
        Value::Real(real) => rusqlite::types::Value::Real(*real),
        Value::Text(text) => rusqlite::types::Value::Text(text.clone()),
        Value::Blob(bytes) => rusqlite::types::Value::Blob(bytes.clone()),
    }
}

impl FromSql for Value {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(integer) => Value::Integer(integer),
            ValueRef::Real(real) => Value::Real(real),
            ValueRef::Text(text) => Value::Text(
                std::str::from_utf8(text)
                    .map_err(|e| FromSqlError::Other(Box::new(e)))?
                    .to_owned(),
            ),
            ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
        })
    }
}

/// A statement the store prepared, for tests that check query plans.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PreparedStatement {
    /// The SQL text.
    pub sql: String,
    /// Whether a full scan is what was asked for: an index scan with no
    /// prefix and no range, a lookup through an `unindexed` foreign key, or
    /// listing the jobs. Every other statement must search an index.
    pub full_scan_expected: bool,
}

struct Connected {
    conn: Connection,
    /// Generated SQL by identity, so each text is built once.
    sql: HashMap<SqlKey, Arc<str>>,
    /// Every distinct statement generated.
    prepared: BTreeMap<String, bool>,
}

struct Inner {
    schema: Schema,
    options: SqliteOptions,
    in_memory: bool,
    /// Whether write transactions must run `PRAGMA defer_foreign_keys`:
    /// some declared foreign key is checked per statement. The pragma
    /// expires every prepared statement (SQLite recompiles each on its next
    /// use), so tables cascadia creates declare their keys deferred instead.
    defer_pragma: bool,
    /// Per table, per index of its metadata: the database's index that
    /// serves it (`INDEXED BY`), or `None` for the primary key.
    index_names: Vec<Vec<Option<String>>>,
    /// Foreign keys declared on one side only (see
    /// [`SqliteStore::foreign_key_differences`]).
    differences: Vec<String>,
    /// The writer's connection (and every reader's, without `readers`).
    connected: Mutex<Connected>,
    /// Reader connections of a file database in WAL mode.
    readers: Readers,
}

/// A store in one SQLite database (a file, or in memory).
///
/// Cloning is cheap; clones share the store's connections. Write
/// transactions take the one writer connection in turn (`begin` waits for
/// the current one); read transactions of a file database in WAL mode take
/// one of the reader connections ([`SqliteOptions::pool`]), so they run
/// beside the writer and each other.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("schema", &self.inner.schema)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// Runs a statement without parameters or rows, prepared once.
pub(super) fn run_cached(conn: &Connection, sql: &str) -> Result<(), Error> {
    conn.prepare_cached(sql)?.raw_execute()?;
    Ok(())
}

fn pragma(conn: &Connection, sql: &str) -> Result<(), Error> {
    // Some pragmas return a row (journal_mode), others none.
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` for `schema`.
    ///
    /// A database that holds some of the schema's tables is opened as it
    /// is: indexes are found by their columns whatever their names (the
    /// primary key and unique constraints serve too), and each foreign
    /// key's actions are read from the database and reconciled with the
    /// schema's ([`Error::NativeActions`]). Keys declared on one side only
    /// are listed by [`foreign_key_differences`](Self::foreign_key_differences).
    /// An open that fails changes nothing in the file; one that succeeds
    /// then sets the journal mode. The job tables are created by the first
    /// job (or [`create_job_tables`](Self::create_job_tables)).
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] if the schema breaks a rule;
    /// [`Error::SchemaMismatch`] if the database holds some of the schema's
    /// tables but lacks a table, column or index (all are listed, a missing
    /// index with the `CREATE INDEX` that adds it);
    /// [`Error::NativeActions`] if the database runs a foreign key's action
    /// that cascadia runs too (or declares other actions than a `native`
    /// key's) — not with [`SqliteOptions::foreign_keys`] off, where SQLite
    /// runs no action and cascadia runs every one, `native` keys included;
    /// SQLite errors (file, locking).
    pub fn open(
        path: impl AsRef<Path>,
        schema: Schema,
        options: SqliteOptions,
    ) -> Result<Self, Error> {
        schema.validate()?;
        let conn = Connection::open(path)?;
        Self::with_connection(conn, schema, options, false)
    }

    /// A store in a fresh in-memory database (tables created).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_in_memory(schema: Schema, options: SqliteOptions) -> Result<Self, Error> {
        let conn = Connection::open_with_flags(
            ":memory:",
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        Self::with_connection(conn, schema, options, true)
    }

    /// A store over a connection the caller opened (e.g. with other flags).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn from_connection(
        conn: Connection,
        schema: Schema,
        options: SqliteOptions,
    ) -> Result<Self, Error> {
        let in_memory = conn.path().is_none_or(str::is_empty);
        Self::with_connection(conn, schema, options, in_memory)
    }

    fn with_connection(
        conn: Connection,
        schema: Schema,
        options: SqliteOptions,
        in_memory: bool,
    ) -> Result<Self, Error> {
        schema.validate()?;
        conn.busy_timeout(options.busy_timeout)?;
        // Query-planner stability: plans never depend on bound values. Every
        // statement here is index-backed by construction, and without it
        // SQLite 3.54 recompiles a scan whose ORDER BY meets an `= ?` each
        // time the value changes.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.set_prepared_statement_cache_capacity(options.statement_cache);
        pragma(
            &conn,
            &format!(
                "PRAGMA foreign_keys = {}",
                if options.foreign_keys { "ON" } else { "OFF" }
            ),
        )?;
        // Checked (or created) before anything is set that outlives the
        // connection: an open that fails leaves the file as it was.
        let prepared = prepare_database(&conn, &schema, &options)?;
        if !in_memory {
            let mode = match options.journal_mode {
                JournalMode::Wal => Some("WAL"),
                JournalMode::Delete => Some("DELETE"),
                JournalMode::Truncate => Some("TRUNCATE"),
                JournalMode::Unchanged => None,
            };
            if let Some(mode) = mode {
                pragma(&conn, &format!("PRAGMA journal_mode = {mode}"))?;
            }
        }
        let synchronous = match options.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Off => "OFF",
        };
        pragma(&conn, &format!("PRAGMA synchronous = {synchronous}"))?;
        size::register(&conn)?;
        // `rarray(?)`: the keys a limited set-based write takes.
        rusqlite::vtab::array::load_module(&conn)?;
        let defer_pragma = options.foreign_keys && !check::foreign_keys_deferred(&conn, &schema)?;
        let readers = match conn.path() {
            Some(path)
                if !in_memory && !path.is_empty() && options.journal_mode == JournalMode::Wal =>
            {
                Readers::of_file(path.to_owned(), &options, &options.pool)
            }
            _ => Readers::none(),
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                schema,
                options,
                in_memory,
                defer_pragma,
                index_names: prepared.index_names,
                differences: prepared.differences,
                connected: Mutex::new(Connected {
                    conn,
                    sql: HashMap::new(),
                    prepared: BTreeMap::new(),
                }),
                readers,
            }),
        })
    }

    /// A second store over the same database file, with its own connection
    /// (and the same schema and options, without creating tables): for a
    /// [`Worker`](crate::Worker) thread that should not wait for this
    /// connection, or a reader that should not wait for a writer (WAL).
    ///
    /// # Errors
    /// An in-memory database has no file to reopen
    /// (`rusqlite::Error::InvalidPath`); SQLite errors.
    pub fn reopen(&self) -> Result<Self, Error> {
        let path = {
            let connected = self.lock();
            connected.conn.path().map(str::to_owned)
        };
        match path {
            Some(path) if !self.inner.in_memory && !path.is_empty() => Self::open(
                path,
                self.inner.schema.clone(),
                self.inner.options.clone().create_tables(false),
            ),
            _ => Err(Error::store(
                "sqlite",
                crate::model::error::StoreErrorKind::Other,
                "an in-memory database cannot be reopened",
            )),
        }
    }

    /// Runs `f` on the connection, outside any cascadia transaction (for
    /// ad-hoc queries, `PRAGMA foreign_key_check`, tests).
    ///
    /// # Errors
    /// [`Error::NestedTransaction`] on a thread that holds a transaction of
    /// this store; whatever `f` returns.
    pub fn with_connection_mut<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let _mark = OpenMark::new(Arc::as_ptr(&self.inner) as usize)?;
        let mut connected = self.lock();
        f(&mut connected.conn)
    }

    /// Foreign keys declared on one side only, found at open, one line
    /// each: a key the schema declares and the database does not (cascadia
    /// enforces it; SQLite does not check it), or one the database declares
    /// without actions and the schema does not (SQLite checks it at commit;
    /// cascadia does not know it). Empty for a database cascadia created,
    /// and when [`SqliteOptions::native_actions`] is set or
    /// [`SqliteOptions::foreign_keys`] is off (the check is skipped: SQLite
    /// then runs every action, or none). A key the database declares with actions that write rows
    /// is refused at open instead ([`Error::NativeActions`]).
    pub fn foreign_key_differences(&self) -> &[String] {
        &self.inner.differences
    }

    /// Creates the job tables ([`JOBS_TABLE`], [`ROOTS_TABLE`]) if missing.
    /// Optional: the first job written creates them; a worker that starts
    /// on a database with none finds no job.
    ///
    /// # Errors
    /// [`Error::NestedTransaction`] on a thread that holds a transaction of
    /// this store; SQLite errors (a read-only file, locking).
    pub fn create_job_tables(&self) -> Result<(), Error> {
        self.with_connection_mut(|conn| {
            conn.execute_batch(&jobs::create_statements())?;
            Ok(())
        })
    }

    /// Every distinct statement this store has prepared, for tests that run
    /// `EXPLAIN QUERY PLAN` on them. Not public API.
    #[doc(hidden)]
    pub fn prepared_statements(&self) -> Vec<PreparedStatement> {
        let mut all = self.lock().prepared.clone();
        for reader in self.inner.readers.opened() {
            let reader = reader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            all.extend(
                reader
                    .prepared
                    .iter()
                    .map(|(sql, full)| (sql.clone(), *full)),
            );
        }
        all.into_iter()
            .map(|(sql, full_scan_expected)| PreparedStatement {
                sql,
                full_scan_expected,
            })
            .collect()
    }

    /// How many reader connections are open, for tests of the pool. Not
    /// public API.
    #[doc(hidden)]
    pub fn open_readers(&self) -> usize {
        self.inner.readers.opened().count()
    }

    fn lock(&self) -> MutexGuard<'_, Connected> {
        // A panic mid-transaction rolls back in `Drop` before the lock is
        // released; the connection stays usable.
        self.inner
            .connected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for SqliteStore {
    fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    fn capabilities(&self) -> Capabilities {
        let wal = self.inner.options.journal_mode == JournalMode::Wal && !self.inner.in_memory;
        Capabilities {
            backend: "sqlite",
            durable: !self.inner.in_memory,
            native_foreign_keys: self.inner.options.foreign_keys,
            concurrent_readers: wal,
            savepoints: true,
            serialized_writes: true,
            parents_per_statement: 64,
        }
    }

    fn setup_jobs(&self) -> Result<(), Error> {
        self.create_job_tables()
    }

    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error> {
        let mark = OpenMark::new(Arc::as_ptr(&self.inner) as usize)?;
        let graph = self.inner.schema.graph()?;
        let connected = match access {
            Access::Read => match self.inner.readers.lease()? {
                Some(reader) => reader,
                None => self.lock(),
            },
            _ => self.lock(),
        };
        match access {
            Access::Write => {
                run_cached(&connected.conn, "BEGIN IMMEDIATE")?;
                if self.inner.defer_pragma {
                    if let Err(error) =
                        run_cached(&connected.conn, "PRAGMA defer_foreign_keys = ON")
                    {
                        let _ = run_cached(&connected.conn, "ROLLBACK");
                        return Err(error);
                    }
                }
            }
            _ => run_cached(&connected.conn, "BEGIN DEFERRED")?,
        }
        Ok(Box::new(SqliteTransaction {
            schema: &self.inner.schema,
            index_names: &self.inner.index_names,
            native_actions: self.inner.options.foreign_keys,
            graph,
            connected,
            access,
            savepoints: 0,
            done: false,
            _mark: mark,
        }))
    }
}
