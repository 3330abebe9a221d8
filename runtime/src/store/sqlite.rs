//! `SqliteStore`: the embedded default, through rusqlite with SQLite bundled.
//!
//! - Opening applies `PRAGMA journal_mode=WAL` and `synchronous=NORMAL` (both
//!   configurable), `foreign_keys=ON` and a busy timeout.
//! - A fresh database gets the schema's tables ([`ddl`]); an existing one is
//!   checked against the schema and refused at open, naming every missing
//!   table, column or index — not at the first delete.
//! - Write transactions are `BEGIN IMMEDIATE` with `PRAGMA
//!   defer_foreign_keys=ON`: the intermediate states of a cascade or a key
//!   update are allowed, and SQLite's own check at `COMMIT` stays a safety net
//!   under cascadia's.
//! - Statements are prepared once (`prepare_cached`); every identifier is
//!   quoted and every value is a bound parameter.
//! - Job records live in the table `_cascadia_jobs` of the same database, so
//!   they commit with the rows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, params_from_iter};

use super::{Access, Capabilities, JobRecord, OpenMark, ScanPosition, Store, Transaction};
use crate::error::{Error, Operation};
use crate::graph::{Graph, TableId};
use crate::index_range::IndexRange;
use crate::metadata::{IndexRef, TableMeta};
use crate::schema::Schema;
use crate::value::{Key, Row, Value};

pub mod ddl;

use ddl::{DdlOptions, index_name, quote};

/// The table that holds job records.
pub const JOBS_TABLE: &str = "_cascadia_jobs";

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
    /// that SQLite runs them (default false; see [`ddl`]).
    pub native_actions: bool,
    /// How many prepared statements the connection keeps (default 256).
    pub statement_cache: usize,
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

/// The identity of a generated statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SqlKey {
    Get(TableId),
    Scan {
        table: TableId,
        index: Option<usize>,
        prefix: usize,
        lower: u8,
        upper: u8,
        /// `None`: no resume position; `Some(mask)`: which position values
        /// are NULL.
        after: Option<u64>,
    },
    ScanWhere {
        table: TableId,
        columns: Vec<usize>,
        after: bool,
    },
    Insert(TableId),
    Update(TableId),
    Delete(TableId),
    DeleteMany(TableId),
}

/// Keys per `DELETE ... WHERE key IN (...)` of [`Transaction::delete_many`].
const DELETE_CHUNK: usize = 64;

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
    connected: Mutex<Connected>,
}

/// A store in one SQLite database (a file, or in memory).
///
/// Cloning is cheap; clones share one connection, and one transaction runs
/// at a time on it (`begin` waits for the current one). For parallel readers,
/// open the same file twice.
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
    /// # Errors
    /// [`Error::InvalidSchema`] if the schema breaks a rule;
    /// [`Error::SchemaMismatch`] if the database holds some of the schema's
    /// tables but lacks a table, column or index (all are listed); SQLite
    /// errors (file, locking).
    pub fn open(
        path: impl AsRef<Path>,
        schema: Schema,
        options: SqliteOptions,
    ) -> Result<Self, Error> {
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
        prepare_database(&conn, &schema, &options)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                schema,
                options,
                in_memory,
                connected: Mutex::new(Connected {
                    conn,
                    sql: HashMap::new(),
                    prepared: BTreeMap::new(),
                }),
            }),
        })
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

    /// Every distinct statement this store has prepared, for tests that run
    /// `EXPLAIN QUERY PLAN` on them. Not public API.
    #[doc(hidden)]
    pub fn prepared_statements(&self) -> Vec<PreparedStatement> {
        self.lock()
            .prepared
            .iter()
            .map(|(sql, full_scan_expected)| PreparedStatement {
                sql: sql.clone(),
                full_scan_expected: *full_scan_expected,
            })
            .collect()
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

/// Creates the jobs table, then creates the schema's tables in a database
/// that has none of them, or checks a database that has some.
fn prepare_database(
    conn: &Connection,
    schema: &Schema,
    options: &SqliteOptions,
) -> Result<(), Error> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {} (id TEXT NOT NULL PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID",
        quote(JOBS_TABLE)
    ))?;
    let existing: Vec<String> = {
        let mut statement = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
        let names = statement.query_map([], |row| row.get::<_, String>(0))?;
        names.collect::<Result<_, _>>()?
    };
    let present = |name: &str| existing.iter().any(|e| e.eq_ignore_ascii_case(name));
    let any_present = schema.tables().any(|t| present(&t.name));
    if !any_present && options.create_tables {
        let statements = ddl::create_statements(
            schema,
            &DdlOptions::default().native_actions(options.native_actions),
        )?;
        let mut script = String::from("BEGIN;\n");
        for statement in statements {
            script.push_str(&statement);
            script.push_str(";\n");
        }
        script.push_str("COMMIT;");
        conn.execute_batch(&script)?;
        tracing::debug!(
            tables = schema.tables().count(),
            "created the schema's tables"
        );
        return Ok(());
    }
    let mut missing = Vec::new();
    for table in schema.tables() {
        if !present(&table.name) {
            missing.push(format!("missing table `{}`", table.name));
            continue;
        }
        check_table(conn, table, &mut missing)?;
    }
    if missing.is_empty() {
        tracing::debug!("the database matches the schema");
        Ok(())
    } else {
        Err(Error::SchemaMismatch { missing })
    }
}

/// Appends to `missing` what the database's `table` lacks.
fn check_table(
    conn: &Connection,
    table: &TableMeta,
    missing: &mut Vec<String>,
) -> Result<(), Error> {
    // (name, position in the primary key, 0 when not in it)
    let columns: Vec<(String, i64)> = {
        let mut statement = conn.prepare("SELECT name, pk FROM pragma_table_xinfo(?1)")?;
        let rows = statement.query_map([&*table.name], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for column in table.columns.iter() {
        if !columns
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(&column.name))
        {
            missing.push(format!("missing column `{}.{}`", table.name, column.name));
        }
    }
    let mut pk: Vec<(i64, &str)> = columns
        .iter()
        .filter(|(_, position)| *position > 0)
        .map(|(name, position)| (*position, name.as_str()))
        .collect();
    pk.sort_unstable();
    let found: Vec<String> = pk.iter().map(|(_, n)| n.to_ascii_lowercase()).collect();
    let wanted: Vec<String> = table
        .primary_key
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if found != wanted {
        missing.push(format!(
            "table `{}` has primary key ({}) but the schema wants ({})",
            table.name,
            found.join(", "),
            wanted.join(", ")
        ));
    }
    let indexes: Vec<(String, bool)> = {
        let mut statement = conn.prepare("SELECT name, \"unique\" FROM pragma_index_list(?1)")?;
        let rows = statement.query_map([&*table.name], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for index in table.indexes.iter() {
        let name = index_name(&table.name, &index.name);
        let Some((_, unique)) = indexes.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) else {
            missing.push(format!(
                "missing index `{name}` on `{}` ({})",
                table.name,
                index.columns.join(", ")
            ));
            continue;
        };
        let found: Vec<String> = {
            let mut statement =
                conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let rows = statement.query_map([&name], |row| row.get::<_, Option<String>>(0))?;
            rows.filter_map(|r| r.transpose())
                .map(|r| r.map(|n| n.to_ascii_lowercase()))
                .collect::<Result<_, _>>()?
        };
        let wanted: Vec<String> = index
            .columns
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if found != wanted || *unique != index.unique {
            missing.push(format!(
                "index `{name}` is {}({}) but the schema wants {}({})",
                if *unique { "UNIQUE " } else { "" },
                found.join(", "),
                if index.unique { "UNIQUE " } else { "" },
                wanted.join(", ")
            ));
        }
    }
    Ok(())
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
        }
    }

    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error> {
        let mark = OpenMark::new(Arc::as_ptr(&self.inner) as usize)?;
        let graph = self.inner.schema.graph()?;
        let connected = self.lock();
        match access {
            Access::Write => {
                connected.conn.execute_batch("BEGIN IMMEDIATE")?;
                if let Err(error) = connected
                    .conn
                    .execute_batch("PRAGMA defer_foreign_keys = ON")
                {
                    let _ = connected.conn.execute_batch("ROLLBACK");
                    return Err(error.into());
                }
            }
            _ => connected.conn.execute_batch("BEGIN DEFERRED")?,
        }
        Ok(Box::new(SqliteTransaction {
            schema: &self.inner.schema,
            graph,
            connected,
            access,
            savepoints: 0,
            done: false,
            _mark: mark,
        }))
    }
}

struct SqliteTransaction<'s> {
    schema: &'s Schema,
    graph: &'s Graph,
    connected: MutexGuard<'s, Connected>,
    access: Access,
    savepoints: usize,
    done: bool,
    _mark: OpenMark,
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.connected.conn.execute_batch("ROLLBACK");
        }
    }
}

fn column_list(table: &TableMeta) -> String {
    table
        .columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn equalities(table: &TableMeta, columns: &[usize], first_param: usize) -> Vec<String> {
    columns
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ?{}", quote(&table.columns[c].name), first_param + i))
        .collect()
}

fn bound_code(bound: &std::ops::Bound<Value>) -> u8 {
    match bound {
        std::ops::Bound::Unbounded => 0,
        std::ops::Bound::Included(_) => 1,
        std::ops::Bound::Excluded(_) => 2,
    }
}

impl<'s> SqliteTransaction<'s> {
    fn table_id(&self, name: &str) -> Result<TableId, Error> {
        self.graph
            .table_id(name)
            .ok_or_else(|| Error::UnknownTable {
                table: name.to_owned(),
            })
    }

    fn writable(&self) -> Result<(), Error> {
        match self.access {
            Access::Write => Ok(()),
            _ => Err(Error::ReadOnly),
        }
    }

    fn meta(&self, table: TableId) -> &'s TableMeta {
        self.schema.meta(table)
    }

    /// The SQL of `key`, built by `build` the first time.
    fn sql(
        &mut self,
        key: SqlKey,
        full_scan_expected: bool,
        build: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some(sql) = self.connected.sql.get(&key) {
            return sql.clone();
        }
        let sql: Arc<str> = build().into();
        self.connected
            .prepared
            .insert(sql.to_string(), full_scan_expected);
        self.connected.sql.insert(key, sql.clone());
        sql
    }

    /// Runs a query and reads at most `limit` rows. Scans carry no SQL
    /// `LIMIT`: SQLite's planner uses a bound LIMIT's value and recompiles
    /// the statement whenever it changes; stepping `limit` times over an
    /// index-ordered scan (never sorted: the index-backed test checks it)
    /// does the same work.
    fn query_rows(
        &self,
        sql: &str,
        params: &[&Value],
        columns: usize,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let mut statement = self.connected.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params_from_iter(params.iter()), |row| {
            (0..columns)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Row, _>>()
        })?;
        Ok(rows.take(limit).collect::<Result<_, _>>()?)
    }

    fn execute(&self, sql: &str, params: &[&Value]) -> Result<usize, rusqlite::Error> {
        let mut statement = self.connected.conn.prepare_cached(sql)?;
        statement.execute(params_from_iter(params.iter()))
    }

    fn check_shape(&self, table: TableId, row: &[Value]) -> Result<(), Error> {
        let meta = self.meta(table);
        if row.len() == meta.columns.len() {
            Ok(())
        } else {
            Err(Error::RowShape {
                table: meta.name.clone(),
                expected: meta.columns.len(),
                found: row.len(),
            })
        }
    }

    fn check_key(&self, table: TableId, key: &[Value]) -> Result<(), Error> {
        let expected = self.graph.tables[table].pk.len();
        if key.len() == expected {
            Ok(())
        } else {
            Err(Error::KeyShape {
                table: self.meta(table).name.clone(),
                expected,
                found: key.len(),
            })
        }
    }

    /// After SQLite refused a write with a UNIQUE / PRIMARY KEY error: the
    /// key that collides, found by looking each unique key up.
    fn duplicate(
        &mut self,
        table: TableId,
        row: &[Value],
        replacing: Option<&[Value]>,
        operation: Operation,
        error: rusqlite::Error,
    ) -> Error {
        let pk = self.graph.pk_of(table, row);
        let keys = self.graph.tables[table].unique_keys.clone();
        let name = self.meta(table).name.clone();
        for (index, columns) in keys {
            let values: Key = columns.iter().map(|&c| row[c].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue;
            }
            let range = IndexRange {
                table: name.clone(),
                index,
                prefix: values.clone(),
                range: None,
            };
            let Ok(found) = self.scan(&range, None, 2) else {
                continue;
            };
            let collides = found.iter().any(|other| {
                let other_pk = self.graph.pk_of(table, other);
                Some(other_pk.as_slice()) != replacing
            });
            if collides {
                let meta = self.meta(table);
                return Error::Duplicate {
                    operation,
                    table: name,
                    key: pk,
                    columns: columns
                        .iter()
                        .map(|&c| meta.columns[c].name.clone())
                        .collect(),
                    values,
                };
            }
        }
        Error::Sqlite(error)
    }
}

fn is_unique_error(error: &rusqlite::Error) -> bool {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => {
            failure.code == ErrorCode::ConstraintViolation
                && matches!(
                    failure.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
        }
        _ => false,
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn access(&self) -> Access {
        self.access
    }

    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Get(id), false, || {
            format!(
                "SELECT {} FROM {} WHERE {}",
                column_list(meta),
                quote(&meta.name),
                equalities(meta, &pk, 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = key.iter().collect();
        let mut rows = self.query_rows(&sql, &params, meta.columns.len(), 1)?;
        Ok(rows.pop())
    }

    fn scan(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let id = self.table_id(&range.table)?;
        let index_columns = super::range_columns(self.schema, range)?;
        if limit == 0 || range.prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let index = match &range.index {
            IndexRef::Index(name) => meta.indexes.iter().position(|i| i.name == *name),
            _ => None,
        };
        let prefix = range.prefix.len();
        // The order columns after the prefix: the index's remaining columns,
        // then the primary key's columns the index does not hold.
        let mut rest: Vec<usize> = index_columns[prefix..].to_vec();
        rest.extend(pk.iter().filter(|c| !index_columns.contains(c)));
        let position: Option<Vec<&Value>> = after.map(|after| {
            let mut values: Vec<&Value> = after.index.iter().skip(prefix).collect();
            values.extend(
                pk.iter()
                    .zip(&after.key)
                    .filter(|(c, _)| !index_columns.contains(c))
                    .map(|(_, v)| v),
            );
            values
        });
        if let Some(position) = &position {
            if position.len() != rest.len() {
                return Err(Error::InvalidRange {
                    table: meta.name.clone(),
                    reason: "the resume position does not fit the index".to_owned(),
                });
            }
        }
        let null_mask = position.as_ref().map(|values| {
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_null())
                .fold(0u64, |mask, (i, _)| mask | (1 << (i % 64)))
        });
        let (lower, upper) = match &range.range {
            Some(bounds) => (bound_code(&bounds.lower), bound_code(&bounds.upper)),
            None => (0, 0),
        };
        let key = SqlKey::Scan {
            table: id,
            index,
            prefix,
            lower,
            upper,
            after: null_mask,
        };
        let full_scan_expected = prefix == 0 && range.range.is_none();
        let sql = self.sql(key, full_scan_expected, || {
            let mut conditions = equalities(meta, &index_columns[..prefix], 1);
            let mut next = prefix + 1;
            if range.range.is_some() {
                let column = quote(&meta.columns[index_columns[prefix]].name);
                for (code, op_incl, op_excl) in [(lower, ">=", ">"), (upper, "<=", "<")] {
                    let op = match code {
                        1 => op_incl,
                        2 => op_excl,
                        _ => continue,
                    };
                    conditions.push(format!("{column} {op} ?{next}"));
                    next += 1;
                }
            }
            if let Some(mask) = null_mask {
                let names: Vec<String> =
                    rest.iter().map(|&c| quote(&meta.columns[c].name)).collect();
                let params: Vec<String> =
                    (0..rest.len()).map(|i| format!("?{}", next + i)).collect();
                if mask == 0 {
                    conditions.push(format!("({}) > ({})", names.join(", "), params.join(", ")));
                } else {
                    // NULL positions: the lexicographic "after", spelled out
                    // with NULL sorting first, as SQLite orders it.
                    let null = |i: usize| mask & (1 << (i % 64)) != 0;
                    let alternatives: Vec<String> = (0..rest.len())
                        .map(|i| {
                            let mut terms: Vec<String> = (0..i)
                                .map(|j| {
                                    if null(j) {
                                        format!("{} IS NULL", names[j])
                                    } else {
                                        format!("{} = {}", names[j], params[j])
                                    }
                                })
                                .collect();
                            terms.push(if null(i) {
                                format!("{} IS NOT NULL", names[i])
                            } else {
                                format!("{} > {}", names[i], params[i])
                            });
                            format!("({})", terms.join(" AND "))
                        })
                        .collect();
                    conditions.push(format!("({})", alternatives.join(" OR ")));
                }
            }
            let order: Vec<String> = index_columns
                .iter()
                .chain(pk.iter().filter(|c| !index_columns.contains(c)))
                .map(|&c| quote(&meta.columns[c].name))
                .collect();
            let indexed_by = match (&range.index, index) {
                (IndexRef::Index(name), Some(_)) => {
                    format!(" INDEXED BY {}", quote(&index_name(&meta.name, name)))
                }
                _ => String::new(),
            };
            format!(
                "SELECT {} FROM {}{}{} ORDER BY {}",
                column_list(meta),
                quote(&meta.name),
                indexed_by,
                if conditions.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", conditions.join(" AND "))
                },
                order.join(", ")
            )
        });
        let mut params: Vec<&Value> = range.prefix.iter().collect();
        if let Some(bounds) = &range.range {
            for bound in [&bounds.lower, &bounds.upper] {
                if let std::ops::Bound::Included(v) | std::ops::Bound::Excluded(v) = bound {
                    params.push(v);
                }
            }
        }
        if let Some(position) = &position {
            params.extend(position.iter().copied());
        }
        self.query_rows(&sql, &params, meta.columns.len(), limit)
    }

    fn scan_where(
        &mut self,
        table: &str,
        columns: &[usize],
        values: &[Value],
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let id = self.table_id(table)?;
        let meta = self.meta(id);
        if limit == 0
            || values.iter().any(Value::is_null)
            || columns.len() != values.len()
            || columns.iter().any(|&c| c >= meta.columns.len())
        {
            return Ok(Vec::new());
        }
        if let Some(after) = after {
            self.check_key(id, after)?;
        }
        let pk = self.graph.tables[id].pk.clone();
        let key = SqlKey::ScanWhere {
            table: id,
            columns: columns.to_vec(),
            after: after.is_some(),
        };
        let sql = self.sql(key, true, || {
            let mut conditions = equalities(meta, columns, 1);
            let next = columns.len() + 1;
            if after.is_some() {
                let names: Vec<String> = pk.iter().map(|&c| quote(&meta.columns[c].name)).collect();
                let params: Vec<String> = (0..pk.len()).map(|i| format!("?{}", next + i)).collect();
                conditions.push(format!("({}) > ({})", names.join(", "), params.join(", ")));
            }
            format!(
                "SELECT {} FROM {} WHERE {} ORDER BY {}",
                column_list(meta),
                quote(&meta.name),
                conditions.join(" AND "),
                pk.iter()
                    .map(|&c| quote(&meta.columns[c].name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut params: Vec<&Value> = values.iter().collect();
        if let Some(after) = after {
            params.extend(after.iter());
        }
        self.query_rows(&sql, &params, meta.columns.len(), limit)
    }

    fn insert(&mut self, table: &str, row: &[Value]) -> Result<(), Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        let meta = self.meta(id);
        let sql = self.sql(SqlKey::Insert(id), false, || {
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(&meta.name),
                column_list(meta),
                (1..=meta.columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let params: Vec<&Value> = row.iter().collect();
        match self.execute(&sql, &params) {
            Ok(_) => Ok(()),
            Err(error) if is_unique_error(&error) => {
                Err(self.duplicate(id, row, None, Operation::Insert, error))
            }
            Err(error) => Err(error.into()),
        }
    }

    fn update(&mut self, table: &str, key: &[Value], row: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Update(id), false, || {
            let all: Vec<usize> = (0..meta.columns.len()).collect();
            format!(
                "UPDATE {} SET {} WHERE {}",
                quote(&meta.name),
                equalities(meta, &all, 1).join(", "),
                equalities(meta, &pk, meta.columns.len() + 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = row.iter().chain(key).collect();
        match self.execute(&sql, &params) {
            Ok(changed) => Ok(changed > 0),
            Err(error) if is_unique_error(&error) => {
                Err(self.duplicate(id, row, Some(key), Operation::Update, error))
            }
            Err(error) => Err(error.into()),
        }
    }

    fn delete(&mut self, table: &str, key: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Delete(id), false, || {
            format!(
                "DELETE FROM {} WHERE {}",
                quote(&meta.name),
                equalities(meta, &pk, 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = key.iter().collect();
        Ok(self.execute(&sql, &params)? > 0)
    }

    /// One statement per [`DELETE_CHUNK`] keys when the primary key has one
    /// column (`IN` searches the key, a short chunk repeats its last key);
    /// row by row otherwise (a row-value `IN` would scan the table).
    fn delete_many(&mut self, table: &str, keys: &[Key]) -> Result<u64, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        let pk = self.graph.tables[id].pk.clone();
        if pk.len() != 1 || keys.len() < 2 {
            let mut deleted = 0;
            for key in keys {
                deleted += u64::from(self.delete(table, key)?);
            }
            return Ok(deleted);
        }
        for key in keys {
            self.check_key(id, key)?;
        }
        let meta = self.meta(id);
        let sql = self.sql(SqlKey::DeleteMany(id), false, || {
            format!(
                "DELETE FROM {} WHERE {} IN ({})",
                quote(&meta.name),
                quote(&meta.columns[pk[0]].name),
                (1..=DELETE_CHUNK)
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut deleted = 0u64;
        for chunk in keys.chunks(DELETE_CHUNK) {
            let mut params: Vec<&Value> = chunk.iter().map(|key| &key[0]).collect();
            while params.len() < DELETE_CHUNK {
                params.push(params[params.len() - 1]);
            }
            deleted += self.execute(&sql, &params)? as u64;
        }
        Ok(deleted)
    }

    fn savepoint(&mut self) -> Result<(), Error> {
        self.connected.conn.execute_batch("SAVEPOINT cascadia")?;
        self.savepoints += 1;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        self.connected.conn.execute_batch("RELEASE cascadia")?;
        self.savepoints -= 1;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        self.connected
            .conn
            .execute_batch("ROLLBACK TO cascadia; RELEASE cascadia")?;
        self.savepoints -= 1;
        Ok(())
    }

    fn put_job(&mut self, id: &str, state: &[u8]) -> Result<(), Error> {
        self.writable()?;
        let sql = format!(
            "INSERT INTO {} (id, state) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            quote(JOBS_TABLE)
        );
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        statement.execute(rusqlite::params![id, state])?;
        Ok(())
    }

    fn get_job(&mut self, id: &str) -> Result<Option<Vec<u8>>, Error> {
        let sql = format!("SELECT state FROM {} WHERE id = ?1", quote(JOBS_TABLE));
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let mut rows = statement.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(row.get(0)?)),
            None => Ok(None),
        }
    }

    fn delete_job(&mut self, id: &str) -> Result<bool, Error> {
        self.writable()?;
        let sql = format!("DELETE FROM {} WHERE id = ?1", quote(JOBS_TABLE));
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement.execute([id])? > 0)
    }

    fn list_jobs(&mut self) -> Result<Vec<JobRecord>, Error> {
        let sql = format!("SELECT id, state FROM {} ORDER BY id", quote(JOBS_TABLE));
        self.record(&sql, true);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let rows = statement.query_map([], |row| {
            Ok(JobRecord {
                id: row.get(0)?,
                state: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit(mut self: Box<Self>) -> Result<(), Error> {
        self.done = true;
        if let Err(error) = self.connected.conn.execute_batch("COMMIT") {
            // A failed COMMIT (e.g. SQLite's own deferred foreign-key check)
            // leaves the transaction open: end it.
            let _ = self.connected.conn.execute_batch("ROLLBACK");
            return Err(error.into());
        }
        Ok(())
    }
}

impl SqliteTransaction<'_> {
    fn record(&mut self, sql: &str, full_scan_expected: bool) {
        if !self.connected.prepared.contains_key(sql) {
            self.connected
                .prepared
                .insert(sql.to_owned(), full_scan_expected);
        }
    }
}
