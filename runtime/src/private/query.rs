//! Glue for the typed index queries (C12) that `#[derive(Table)]` generates:
//! one builder type per state of a query on one index, each offering a method
//! per column of the index; only the next column in index order compiles.

use serde::Serialize;

use crate::IndexRange;
use crate::model::value::Value;

/// A state of a typed index query: it wraps the [`IndexRange`] built so far.
/// Implemented by the generated builder types, which
/// [`IndexColumn`](crate::IndexColumn) moves between.
pub trait QueryState: Into<IndexRange> {
    /// The state holding `range`.
    fn from_range(range: IndexRange) -> Self;
}

/// The column value of a query argument, converted as typed rows are (serde).
///
/// # Panics
/// If `T` does not serialise as one column value: only a hand-written
/// `ColumnType` newtype can, and the panic names it.
pub fn column_value<T: Serialize>(value: &T) -> Value {
    match crate::to_value(value) {
        Ok(value) => value,
        Err(error) => panic!(
            "a `{}` query argument is not a column value: {error}",
            std::any::type_name::<T>()
        ),
    }
}
