//! The runtime of cascadia: table metadata, the foreign-key graph, stores,
//! and the executor of referential actions.
//!
//! Use it through the facade crate `cascadia`, which re-exports everything
//! here together with `#[derive(Table)]`.

mod index_query;
mod index_range;
pub mod metadata;
pub mod planner;
mod schema;
mod serde_value;
mod table;
mod value;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use index_query::{IndexColumn, QueryValue};
pub use index_range::{ColumnRange, IndexRange};
pub use metadata::{
    Action, ColumnDefault, ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, TableMeta,
};
pub use schema::Schema;
pub use serde_value::{ConversionError, from_row, from_value, to_key, to_row, to_value};
pub use table::{ColumnType, Id, Table};
pub use value::{Key, Row, Value, ValueType, display_key};
