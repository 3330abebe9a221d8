//! The runtime of cascadia: table metadata, the foreign-key graph, stores,
//! and the executor of referential actions.
//!
//! Use it through the facade crate `cascadia`, which re-exports everything
//! here together with `#[derive(Table)]`.

#![warn(missing_docs)]

mod build;
mod database;
mod error;
mod execute;
mod export;
mod graph;
mod index_range;
mod lookup;
pub mod metadata;
mod plan;
mod schema;
pub mod semantics;
mod serde_value;
pub mod store;
mod table;
mod validate;
mod value;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use database::{Database, Page, Tx};
pub use error::{Error, ForeignKeyName, Operation, Result, SchemaProblem};
pub use execute::{DeleteOptions, Outcome, UpdateOptions};
pub use index_range::{ColumnRange, IndexRange};
pub use metadata::{
    Action, ColumnDefault, ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta,
};
pub use schema::{ForeignKey, Schema};
pub use serde_value::{ConversionError, from_row, from_value, to_key, to_row, to_value};
pub use store::{Access, Capabilities, JobRecord, MemoryStore, ScanPosition, Store, Transaction};
#[cfg(feature = "sqlite")]
pub use store::{SqliteOptions, SqliteStore};
pub use table::{ColumnType, Id, Table};
pub use value::{Key, Row, Value, ValueType, display_key};
