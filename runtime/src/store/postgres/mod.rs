//! `PostgresStore`: the path past one machine, through the synchronous
//! [`postgres`](https://docs.rs/postgres) client and an
//! [`r2d2`](https://docs.rs/r2d2) connection pool (cargo feature
//! `postgres`).
//!
//! - Opened from a `postgres://` URL ([`PostgresStore::open`]) and
//!   [`PostgresOptions`]: the schema (namespace) to work in, whether to
//!   create the tables, whether the database runs the actions itself, and
//!   the [`PoolOptions`].
//! - A schema without any of the tables gets them ([`ddl`]: foreign keys
//!   `DEFERRABLE`, indexes that also hold the primary key, text `COLLATE
//!   "C"`); an existing one is checked and refused at open, naming every
//!   missing table, column, primary key or index (matched by columns, not
//!   names) and every column of a type cascadia cannot read.
//! - Write transactions are `READ COMMITTED` with `SET CONSTRAINTS ALL
//!   DEFERRED`: the intermediate states of a key update pass, and
//!   PostgreSQL's own check at `COMMIT` stays a safety net under cascadia's.
//!   Writers do not exclude each other
//!   ([`Capabilities::serialized_writes`] is false): row locks and the
//!   job lease order them. Read transactions are `REPEATABLE READ READ
//!   ONLY`: one snapshot for all their statements.
//! - Every identifier is quoted, every value a bound parameter, bound by
//!   the parameter's actual type (mapping: `BIGINT`,
//!   `INTEGER`, `SMALLINT` range-checked, `BOOLEAN`, `DOUBLE PRECISION`,
//!   `REAL`, `TEXT`, `VARCHAR`, `BYTEA`); every statement is prepared once
//!   per pooled connection.
//! - Jobs are rows of `_cascadia_delete_jobs` in the same schema, so they
//!   commit with the rows; workers in many processes claim them with `FOR
//!   UPDATE SKIP LOCKED` (see `jobs.rs`).
//! - Order: scans come out in index order under the columns' own
//!   collations and `NULLS LAST`; resume positions are compared by
//!   PostgreSQL, never in Rust, so any collation gives consistent pages.
//!   Tables cascadia creates use `COLLATE "C"` (byte order, as [`Value`](crate::Value)
//!   orders text); existing tables keep theirs. Nondeterministic
//!   collations (case-insensitive keys) are not supported: cascadia treats
//!   keys as equal only when their bytes are.
//!
//! # Statements
//!
//! Every statement shape the store issues (`t` a quoted table, `k` its
//! primary key, `c` the columns, `$n` parameters):
//!
//! | shape | used for |
//! |---|---|
//! | `SET search_path TO "s"` | once per pooled connection |
//! | `BEGIN ISOLATION LEVEL READ COMMITTED; SET CONSTRAINTS ALL DEFERRED` | write transactions |
//! | `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` | read transactions |
//! | `COMMIT`, `ROLLBACK`, `SAVEPOINT cascadia`, `RELEASE SAVEPOINT cascadia`, `ROLLBACK TO SAVEPOINT cascadia` | transaction control |
//! | `SET LOCAL synchronous_commit TO OFF; COMMIT` | a job's batch that does not finish it (see [`PostgresOptions::durable_batches`]) |
//! | `SELECT c FROM t WHERE k = $1` | get |
//! | `SELECT c FROM t WHERE k = ANY($1)` (`(a, b) IN (SELECT * FROM unnest($1::T[], $2::T[]))` for composite keys) | the rows of a resumed job's frames, in one statement |
//! | `SELECT c FROM t WHERE a = $1 [AND b >= $2] [AND (b, k) > ($3, $4)] ORDER BY a, b, k LIMIT $5` | index scans and pages (NULL-aware spelled-out form of the row comparison when a column is nullable) |
//! | `SELECT c FROM t WHERE a = $1 [AND (k) > ($2)] ORDER BY k LIMIT $3` | lookups through `unindexed` foreign keys |
//! | `SELECT c, size FROM t WHERE a = ANY($1) [AND ...] ORDER BY a, k LIMIT $2` | rows referencing many parents (`a = ANY($1) AND b = ANY($2) AND (a, b) IN (SELECT * FROM unnest($1::T[], $2::T[]))` for composite keys) |
//! | `SELECT count(*) FROM t WHERE a = ANY($1) [AND ...]` | counts |
//! | `WITH _page AS MATERIALIZED (SELECT a AS _o0, k AS _o1, size AS _s FROM t WHERE a = ANY($1) ORDER BY a, k LIMIT $2), _fits AS (SELECT count(*) AS _candidates, coalesce(sum(_s), 0) <= $4 AS _fits FROM _page), _last AS (SELECT _o0, _o1 FROM _page ORDER BY _o0 DESC, _o1 DESC OFFSET (SELECT (_candidates > $3)::int FROM _fits) LIMIT 1), _written AS (DELETE FROM t WHERE a = ANY($1) AND a <= (SELECT _o0 FROM _last) AND (a, k) <= ((SELECT _o0 FROM _last), (SELECT _o1 FROM _last)) AND (SELECT _fits FROM _fits) RETURNING c, size AS _size) SELECT _w.*, _f._candidates, _f._fits FROM _fits _f LEFT JOIN _written _w ON TRUE` (with no column asked for: `SELECT count(_w._size), coalesce(sum(_w._size), 0)::bigint, _f._candidates, _f._fits FROM ... GROUP BY _f._candidates, _f._fits`) | set-based deletes, first try: the first `$3` rows in scan order, deleted through the index up to the last of them, when all the candidates read fit the byte limit (no window function, no join); otherwise nothing is written and the next shape runs. Only when no column of the order after the parents is nullable |
//! | `WITH _p AS MATERIALIZED (SELECT _k0, _o0, _o1, _n, _candidates FROM (SELECT ..., row_number() OVER (ORDER BY _o0, _o1) AS _n FROM (SELECT k AS _k0, a AS _o0, k AS _o1 FROM t WHERE a = ANY($1) ORDER BY a, k LIMIT $2) AS _page) AS _sums WHERE _n <= $3), _last AS (SELECT * FROM _p ORDER BY _n DESC LIMIT 1), _written AS (DELETE FROM t WHERE a = ANY($1) AND a <= (SELECT _o0 FROM _last) AND (a, k) <= ((SELECT _o0 FROM _last), (SELECT _o1 FROM _last)) RETURNING c, size AS _size) SELECT _written.*, (SELECT max(_candidates) FROM _p) FROM _written` (with no column asked for: `SELECT count(*), coalesce(sum(_size), 0)::bigint, (SELECT max(_candidates) FROM _p) FROM _written`) | set-based deletes when the first try's candidates did not fit, or a column of the order after the parents is nullable: the first rows in scan order, deleted through the index up to the last of them; with a byte limit, `_p` keeps rows while `sum(size) OVER (ORDER BY ... ROWS UNBOUNDED PRECEDING)` fits; when a column of the order after the parents is nullable, `DELETE FROM t USING _p WHERE t.k = _p._k0` instead |
//! | the same with `UPDATE t SET c = $4 [FROM _p] WHERE ...` | set-based SET NULL / SET DEFAULT / ON UPDATE CASCADE |
//! | `INSERT INTO t (c) VALUES ($1, ...) ON CONFLICT DO NOTHING` | inserts (a collision writes nothing, then lookups name it) |
//! | `UPDATE t SET c = $1, ... WHERE k = $n AND NOT EXISTS (SELECT 1 FROM t AS _o WHERE _o.u = $2 AND (_o.k) <> ($n))` | updates by key |
//! | `DELETE FROM t WHERE k = $1`, `DELETE FROM t WHERE k = ANY($1)` | deletes by key |
//! | `INSERT INTO _cascadia_delete_jobs (...) VALUES (...) RETURNING id` | new jobs |
//! | `SELECT ... FROM _cascadia_delete_jobs WHERE id = $1 [FOR UPDATE]` | a job (locked in write transactions) |
//! | `UPDATE _cascadia_delete_jobs SET ... WHERE id = (SELECT id ... ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ...` | claims |
//! | `UPDATE` / `DELETE` / `SELECT ... ORDER BY id` of job rows; `INSERT ... ON CONFLICT (job_id, chunk) DO UPDATE` of root chunks | job bookkeeping |
//! | `SELECT ... FROM pg_catalog.pg_class / pg_attribute / pg_type / pg_index / pg_constraint / pg_namespace WHERE ... current_schema()` | the open-time check |
//! | `CREATE SCHEMA IF NOT EXISTS`, `CREATE TABLE`, `ALTER TABLE ... ADD FOREIGN KEY ... DEFERRABLE INITIALLY IMMEDIATE`, `CREATE [UNIQUE] INDEX` | creating tables |
//!
//! # CockroachDB and YugabyteDB
//!
//! Not tested: neither can run where cascadia is tested. The SQL avoids
//! what their PostgreSQL dialects lack (no advisory locks, no `ctid`, no
//! `LISTEN`, no server-side functions). What their documentation says, as
//! far as we know it — check your version's before relying on it:
//!
//! - `RETURNING` on `INSERT`/`UPDATE`/`DELETE`, `ON CONFLICT`, `= ANY`,
//!   window functions: documented by both for years (CockroachDB since 2.x,
//!   YugabyteDB's YSQL inherits them from PostgreSQL 11).
//! - `WITH ... AS MATERIALIZED` holding a `DELETE` / `UPDATE ...
//!   RETURNING`: YugabyteDB (from PostgreSQL 11: data-modifying `WITH`;
//!   `MATERIALIZED` is PostgreSQL 12 syntax, so uncertain there);
//!   CockroachDB documents data-modifying common table expressions and
//!   `MATERIALIZED` (we believe 20.2 or later; uncertain).
//! - `UPDATE ... FROM` and `DELETE ... USING`: YugabyteDB (from
//!   PostgreSQL); CockroachDB documents `UPDATE ... FROM` and, in recent
//!   releases, `DELETE ... USING` (we believe 22.1 or later; uncertain).
//! - `SELECT ... FOR UPDATE SKIP LOCKED`: YugabyteDB documents it (YSQL,
//!   2.x). CockroachDB documents `FOR UPDATE` from 20.1 and `SKIP LOCKED`
//!   in later releases (we believe 22.2 or later; uncertain).
//! - `GENERATED ALWAYS AS IDENTITY`: YugabyteDB yes; CockroachDB from 21.2
//!   (we believe; uncertain).
//! - `DEFERRABLE` foreign keys and `SET CONSTRAINTS ALL DEFERRED`:
//!   YugabyteDB documents deferrable foreign keys; CockroachDB does not
//!   support deferred constraint checking — create the tables yourself
//!   without it, and avoid key updates whose actions pass through
//!   intermediate states.
//! - `COLLATE "C"`: YugabyteDB yes; on CockroachDB turn
//!   [`PostgresOptions::byte_order_text`] off (uncertain whether `"C"` is
//!   accepted).
//! - `REPEATABLE READ`: CockroachDB runs it as `SERIALIZABLE` unless its
//!   read-committed/repeatable-read modes are enabled.
//! - The open-time check reads `pg_catalog` (both emulate it; whether every
//!   column used, e.g. `pg_index.indnkeyatts`, is there is uncertain).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use postgres::NoTls;

use super::pool::PoolOptions;
use super::{Access, Capabilities, OpenMark, Store, Transaction};
use crate::model::error::{Error, StoreErrorKind};
use crate::model::schema::Schema;

mod catalog;
mod check;
mod children;
mod connection;
pub mod ddl;
mod error;
mod jobs;
mod sql;
mod transaction;
mod value;

use connection::Manager;
use error::BACKEND;
use sql::SqlKey;
use transaction::PostgresTransaction;

pub use error::PostgresError;
pub use jobs::{JOBS_TABLE, ROOTS_TABLE};
pub use value::ValueError;

/// Options of [`PostgresStore::open`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// The PostgreSQL schema (namespace) the tables live in: every pooled
    /// connection sets `search_path` to it. Created when missing and
    /// [`create_tables`](Self::create_tables) is on. Default `None`: the
    /// connection's own `search_path` (usually `public`).
    pub schema: Option<String>,
    /// Create the schema's tables in a namespace that has none of them
    /// (default true). A namespace with some of them is checked instead.
    pub create_tables: bool,
    /// Declare the foreign keys of created tables with their actions, so
    /// that PostgreSQL runs them (default false; see [`ddl`]).
    pub native_actions: bool,
    /// Create text columns `COLLATE "C"` (default true; see
    /// [`ddl::DdlOptions::byte_order_text`]).
    pub byte_order_text: bool,
    /// The connection pool.
    pub pool: PoolOptions,
    /// Wait for every batch's commit to reach the disk (default true).
    /// Off, a batch of a job that does not finish it commits with `SET
    /// LOCAL synchronous_commit TO OFF`: PostgreSQL returns before the
    /// WAL is flushed (within `wal_writer_delay`, 200 ms by default). A
    /// crash of the server (not of the process running the job) can then
    /// undo the last such batches, each with the job state it wrote, never
    /// one without the other: the job resumes from the state that
    /// survived and deletes those rows again, and no committed state holds
    /// an orphan. The batch that finishes a job, inline deletes that fit
    /// one batch and every other write still wait for the flush. Off saves
    /// the flush wait of each batch (on the development machine a batch's
    /// `COMMIT` went from 1.9 ms to 1.1 ms); leave it on where the
    /// engine refuses `synchronous_commit` (CockroachDB, we believe).
    pub durable_batches: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: None,
            create_tables: true,
            native_actions: false,
            byte_order_text: true,
            pool: PoolOptions::default(),
            durable_batches: true,
        }
    }
}

impl PostgresOptions {
    /// Sets [`schema`](Self::schema).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
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

    /// Sets [`byte_order_text`](Self::byte_order_text).
    pub fn byte_order_text(mut self, byte_order: bool) -> Self {
        self.byte_order_text = byte_order;
        self
    }

    /// Sets [`pool`](Self::pool).
    pub fn pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self
    }

    /// Sets [`durable_batches`](Self::durable_batches).
    pub fn durable_batches(mut self, durable: bool) -> Self {
        self.durable_batches = durable;
        self
    }
}

/// A statement the store prepared, for tests that check query plans.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PreparedStatement {
    /// The SQL text.
    pub sql: String,
    /// Whether a full scan is what was asked for: an index scan with no
    /// prefix, parents or range, a lookup through an `unindexed` foreign
    /// key, or listing the jobs. Every other statement must search an index.
    pub full_scan_expected: bool,
}

pub(crate) struct Inner {
    schema: Schema,
    options: PostgresOptions,
    pool: r2d2::Pool<Manager>,
    /// Per table, per column: the PostgreSQL type, for casts.
    types: Vec<Vec<String>>,
    native_foreign_keys: bool,
    /// Generated SQL by identity, so each text is built once.
    sql: Mutex<HashMap<SqlKey, Arc<str>>>,
    /// Every distinct statement generated.
    prepared: Mutex<BTreeMap<String, bool>>,
}

impl Inner {
    fn lock_sql(&self) -> MutexGuard<'_, HashMap<SqlKey, Arc<str>>> {
        self.sql
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_prepared(&self) -> MutexGuard<'_, BTreeMap<String, bool>> {
        self.prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A store in a PostgreSQL database (or one that speaks its protocol).
///
/// Cloning is cheap; clones share one connection pool, and each
/// transaction holds one of its connections, so transactions of different
/// threads run at once. Opening the same database from many processes is
/// how workers on many machines share one job queue.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.inner.schema)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the database at `url` (`postgres://user@host:port/database`,
    /// or a libpq key-value string) for `schema`: creates the tables in a
    /// namespace without any of them (when
    /// [`create_tables`](PostgresOptions::create_tables)), or checks them.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] if the schema breaks a rule;
    /// [`Error::SchemaMismatch`] if the namespace holds some of the schema's
    /// tables but lacks a table, column, primary key or index, or a column
    /// has a type cascadia cannot read (all are listed); [`Error::Store`]
    /// of kind `Connection` when the server cannot be reached, `Other` for
    /// a URL that does not parse.
    pub fn open(url: &str, schema: Schema, options: PostgresOptions) -> Result<Self, Error> {
        schema.validate()?;
        let config: postgres::Config = url
            .parse()
            .map_err(|e| Error::store(BACKEND, StoreErrorKind::Other, e))?;
        let mut client = config.connect(NoTls)?;
        if let Some(namespace) = &options.schema {
            client.batch_execute(&format!("SET search_path TO {}", ddl::quote(namespace)))?;
        }
        let catalog = check::prepare_database(&mut client, &schema, &options)?;
        drop(client);
        let manager = Manager::new(config, options.schema.clone());
        let pool = r2d2::Pool::builder()
            .max_size(options.pool.max_connections)
            .min_idle(options.pool.min_idle)
            .connection_timeout(options.pool.connection_timeout)
            .test_on_check_out(false)
            .thread_pool(connection::shared_threads())
            .build_unchecked(manager);
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                schema,
                options,
                pool,
                types: catalog.types,
                native_foreign_keys: catalog.native_foreign_keys,
                sql: Mutex::new(HashMap::new()),
                prepared: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    /// Runs `f` on a pooled connection, outside any cascadia transaction
    /// (for ad-hoc queries, tests).
    ///
    /// # Errors
    /// [`Error::NestedTransaction`] on a thread that holds a transaction of
    /// this store; a pool that hands out no connection; whatever `f`
    /// returns.
    pub fn with_client<R>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let _mark = OpenMark::new(Arc::as_ptr(&self.inner) as usize)?;
        let mut conn = self.inner.pool.get().map_err(error::pool)?;
        f(&mut conn.client)
    }

    /// Every distinct statement this store has prepared, for tests that run
    /// `EXPLAIN` on them. Not public API.
    #[doc(hidden)]
    pub fn prepared_statements(&self) -> Vec<PreparedStatement> {
        self.inner
            .lock_prepared()
            .iter()
            .map(|(sql, full_scan_expected)| PreparedStatement {
                sql: sql.clone(),
                full_scan_expected: *full_scan_expected,
            })
            .collect()
    }

    /// A connection from the pool with a transaction begun on it; a
    /// connection the server closed while it sat in the pool is replaced
    /// once.
    fn connect(&self, begin: &str) -> Result<r2d2::PooledConnection<Manager>, Error> {
        let mut retried = false;
        loop {
            let mut conn = self.inner.pool.get().map_err(error::pool)?;
            match conn.client.batch_execute(begin) {
                Ok(()) => return Ok(conn),
                Err(error) if error.is_closed() && !retried => {
                    tracing::debug!(%error, "a pooled connection was closed: reconnecting");
                    retried = true;
                }
                Err(error) => {
                    let _ = conn.client.batch_execute("ROLLBACK");
                    return Err(error.into());
                }
            }
        }
    }
}

impl Store for PostgresStore {
    fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            backend: BACKEND,
            durable: true,
            native_foreign_keys: self.inner.native_foreign_keys,
            concurrent_readers: true,
            savepoints: true,
            serialized_writes: false,
            parents_per_statement: 256,
        }
    }

    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error> {
        let mark = OpenMark::new(Arc::as_ptr(&self.inner) as usize)?;
        let graph = self.inner.schema.graph()?;
        let begin = match access {
            Access::Write => "BEGIN ISOLATION LEVEL READ COMMITTED; SET CONSTRAINTS ALL DEFERRED",
            _ => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let conn = self.connect(begin)?;
        Ok(Box::new(PostgresTransaction {
            store: &self.inner,
            graph,
            conn,
            access,
            savepoints: 0,
            aborted: None,
            done: false,
            _mark: mark,
        }))
    }
}
