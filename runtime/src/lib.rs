//! The runtime of cascadia: table metadata, the foreign-key graph, stores,
//! and the executor of referential actions.
//!
//! Use it through the facade crate `cascadia`, which re-exports everything
//! here together with `#[derive(Table)]`.
//!
//! - [`Schema`]: the tables and their foreign-key graph, validated; exported
//!   as JSON, Graphviz DOT or Mermaid.
//! - [`Store`]: the storage backend — [`MemoryStore`], [`SqliteStore`]
//!   (cargo feature `sqlite`, on by default), or `PostgresStore` (cargo
//!   feature `postgres`).
//! - [`Database`]: typed and untyped reads and writes over a store, with
//!   foreign keys checked and referential actions run; [`semantics`] says
//!   exactly how.
//! - Deletes run in batches by default ([`DeleteMode`]): a read-only check
//!   pass, then one transaction per [`Budget`], never committing an orphan,
//!   resumable after a crash by a [`Worker`]; or `sync`, `soft`,
//!   `scheduled`. [`Progress`] reports each batch; [`Database::explain_delete`]
//!   and [`Database::check_integrity`] read without writing.
//!
//! ```
//! use cascadia_runtime::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
//! use cascadia_runtime::{
//!     Action, Database, DeleteOptions, IndexRef, MemoryStore, Schema, TableMeta, Value,
//!     ValueType,
//! };
//!
//! let schema = Schema::new(vec![
//!     TableMeta::new("teams")
//!         .with_column(ColumnMeta::new("id", ValueType::Integer))
//!         .with_primary_key(["id"]),
//!     TableMeta::new("members")
//!         .with_column(ColumnMeta::new("id", ValueType::Integer))
//!         .with_column(ColumnMeta::new("team_id", ValueType::Integer))
//!         .with_primary_key(["id"])
//!         .with_index(IndexMeta::new("by_team", ["team_id"]))
//!         .with_foreign_key(
//!             ForeignKeyMeta::new(["team_id"], "teams", ["id"])
//!                 .on_delete(Action::Cascade)
//!                 .with_index(IndexRef::Index("by_team".into())),
//!         ),
//! ])?;
//! let db = Database::new(MemoryStore::new(schema)?);
//! db.insert_row("teams", vec![Value::Integer(1)])?;
//! db.insert_row("members", vec![Value::Integer(7), Value::Integer(1)])?;
//!
//! // A member of a missing team is refused, naming the foreign key.
//! let error = db
//!     .insert_row("members", vec![Value::Integer(8), Value::Integer(2)])
//!     .unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "cannot insert members 8: members(team_id) → teams has no teams row with 2"
//! );
//!
//! // Deleting the team cascades to its members (batched: a budget per
//! // transaction; this delete fits in one).
//! let outcome = db.delete_rows("teams", &[vec![Value::Integer(1)]], &DeleteOptions::default())?;
//! assert_eq!(outcome.rows_deleted("members"), 1);
//! # Ok::<(), cascadia_runtime::Error>(())
//! ```

#![warn(missing_docs)]

mod database;
mod engine;
mod index_query;
mod model;
pub mod semantics;
pub mod store;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use model::{metadata, planner};

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use database::{DEFAULT_JOB_LEASE, DEFAULT_MAX_PENDING_JOBS, Database, Page, SoftDeleted, Tx};
pub use engine::explain::{Explain, ExplainOptions, PolicyRefusal, Refusal, TableCounts};
pub use engine::integrity::{ForeignKeyOrphans, IntegrityOptions, IntegrityReport};
pub use engine::jobs::{JobInfo, JobStatus};
pub use engine::options::{DeleteMode, DeleteOptions, UpdateOptions};
pub use engine::outcome::Outcome;
pub use engine::policy::{Denied, Policy, PolicyContext, PolicyRow};
pub use engine::progress::{Observer, Progress, ProgressEvent};
pub use engine::worker::{
    DEFAULT_RETRY_FIRST, DEFAULT_RETRY_MAX, DEFAULT_WORKER_HISTORY, Worker, WorkerHandle,
    WorkerReport,
};
pub use index_query::{ColumnValue, IndexColumn, QueryValue};
pub use model::budget::Budget;
pub use model::error::{
    BeingDeleted, CascadePath, Error, ForeignKeyName, NativeConflict, Operation, Result, RowChange,
    RowRef, SchemaProblem, StoreErrorKind,
};
pub use model::index_range::{ColumnRange, IndexRange};
pub use model::job::JobId;
pub use model::metadata::{
    Action, ColumnDefault, ColumnMeta, Deletion, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta,
};
pub use model::planner::{Filter, FilterOp, FullScan, NoIndexServes, QueryPlan, ReadPath};
pub use model::position::ScanPosition;
pub use model::schema::{ForeignKey, Schema};
pub use model::serde_value::{ConversionError, from_row, from_value, to_key, to_row, to_value};
pub use model::table::{ColumnType, Id, Table};
pub use model::value::{Key, Row, Value, ValueType, display_key};
pub use store::{
    Access, Capabilities, ChildScan, ChildWrite, Claim, JobFilter, JobRow, Lease, MemoryStore,
    PoolOptions, Store, Transaction, Written,
};
#[cfg(feature = "postgres")]
pub use store::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use store::{SqliteOptions, SqliteStore};

/// The SQLite client the SQLite store is built on: rusqlite 0.41 with SQLite
/// bundled (cargo feature `sqlite`). Use this re-export rather than a
/// rusqlite of your own: `libsqlite3-sys` declares `links = "sqlite3"`, so a
/// build holds one version of it, and only a rusqlite of the same minor
/// version (0.41) can share it.
#[cfg(feature = "sqlite")]
pub use rusqlite;

/// The synchronous PostgreSQL client the PostgreSQL store is built on
/// (`postgres` 0.19, cargo feature `postgres`), for configuration types such
/// as `postgres::Config` and for queries of your own beside the store.
#[cfg(feature = "postgres")]
pub use postgres;
