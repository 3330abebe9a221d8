//! The model layer: values, table metadata, the schema and its foreign-key
//! graph, the prefix rule, errors. It imports no other layer of the crate;
//! the stores and the engine build on it.

pub(crate) mod budget;
pub(crate) mod build;
pub(crate) mod compact;
pub(crate) mod error;
pub(crate) mod export;
pub(crate) mod graph;
pub(crate) mod index_range;
pub(crate) mod job;
pub mod metadata;
pub mod planner;
pub(crate) mod position;
pub(crate) mod schema;
pub(crate) mod serde_value;
pub(crate) mod table;
pub(crate) mod validate;
pub(crate) mod value;
