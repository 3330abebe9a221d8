//! Glue for the typed index queries (C12) that `#[derive(Table)]` generates:
//! one builder type per index, `MemberByTeam<K>`, whose `K` counts the
//! columns fixed so far. Each column of the index is a method of every state,
//! bounded by a trait that only the state expecting that column implements,
//! so that a column out of order is a compile error naming the index.

use serde::Serialize;

use crate::IndexRange;
use crate::model::metadata::IndexRef;
use crate::model::value::Value;

use super::meta::index_ref;

/// A state of a typed index query: it wraps the [`IndexRange`] built so far.
/// Implemented by the generated builder types, which
/// [`IndexColumn`](crate::IndexColumn) moves between.
pub trait QueryState: Sized {
    /// The state holding `range`.
    fn from_range(range: IndexRange) -> Self;
    /// The range built so far.
    fn into_range(self) -> IndexRange;
}

impl<S: QueryState> From<S> for IndexRange {
    fn from(query: S) -> Self {
        query.into_range()
    }
}

/// A query on the whole index `index` of table `table` (`None`: the primary
/// key), with no column fixed yet.
pub fn start<S: QueryState>(table: &'static str, index: Option<&'static str>) -> S {
    S::from_range(IndexRange::new(
        table,
        index.map_or(IndexRef::PrimaryKey, index_ref),
    ))
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
