//! `IndexRange`: a legal use of one index, as the prefix rule allows it.

use std::fmt;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::model::metadata::{IndexRef, Name, TableMeta};
use crate::model::value::{Value, display_key};

/// A read through one index: equality on the index's first columns, then at
/// most one range on the next column, and nothing after it (the prefix rule).
///
/// Built by the typed index queries that `#[derive(Table)]` generates (where
/// a non-prefix use does not compile) or by the dynamic [`planner`](crate::model::planner);
/// executed by a store's index scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRange {
    /// SQL name of the table.
    pub table: Name,
    /// The index read: the primary key or a named index. Never `Unindexed`.
    pub index: IndexRef,
    /// Values for the index's first `prefix.len()` columns, compared with `=`.
    pub prefix: Vec<Value>,
    /// An optional range on the column right after the prefix.
    pub range: Option<ColumnRange>,
}

/// A range on one column: bounds as [`std::ops::Bound`], at least one of them
/// bounded. `between(a, b)` is `Included(a)..=Included(b)`, as SQL's `BETWEEN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnRange {
    /// Lower bound (`gt` is `Excluded`, `ge` is `Included`).
    pub lower: Bound<Value>,
    /// Upper bound (`lt` is `Excluded`, `le` is `Included`).
    pub upper: Bound<Value>,
}

impl ColumnRange {
    /// Whether `value` lies within the range. As in SQL, a comparison with
    /// NULL is never true: a NULL value, or a NULL bound, contains nothing.
    pub fn contains(&self, value: &Value) -> bool {
        let null_bound = |bound: &Bound<Value>| matches!(bound, Bound::Included(limit) | Bound::Excluded(limit) if limit.is_null());
        if value.is_null() || null_bound(&self.lower) || null_bound(&self.upper) {
            return false;
        }
        let above = match &self.lower {
            Bound::Included(lower) => value >= lower,
            Bound::Excluded(lower) => value > lower,
            Bound::Unbounded => true,
        };
        let below = match &self.upper {
            Bound::Included(upper) => value <= upper,
            Bound::Excluded(upper) => value < upper,
            Bound::Unbounded => true,
        };
        above && below
    }
}

impl IndexRange {
    /// A range over the whole index of `table` named by `index`, to be narrowed
    /// with a prefix and a range.
    pub fn new(table: impl Into<Name>, index: IndexRef) -> Self {
        IndexRange {
            table: table.into(),
            index,
            prefix: Vec::new(),
            range: None,
        }
    }

    /// SQL names of the columns of the index this range reads, in index order:
    /// the primary key's or the named index's. `None` if `table` has no such
    /// index or `index` is `Unindexed`.
    pub fn index_columns<'t>(&self, table: &'t TableMeta) -> Option<&'t [Name]> {
        match &self.index {
            IndexRef::PrimaryKey => Some(&table.primary_key),
            IndexRef::Index(name) => table.index(name).map(|index| &*index.columns),
            IndexRef::Unindexed => None,
        }
    }

    /// Whether a row matches the range, given the row's values for the index's
    /// columns in index order. NULL never equals anything here, as in SQL.
    pub fn matches(&self, index_values: &[Value]) -> bool {
        let prefix_matches = self
            .prefix
            .iter()
            .zip(index_values)
            .all(|(wanted, value)| !value.is_null() && wanted == value);
        let range_matches = match &self.range {
            None => true,
            Some(range) => index_values
                .get(self.prefix.len())
                .is_some_and(|value| range.contains(value)),
        };
        prefix_matches && index_values.len() >= self.prefix.len() && range_matches
    }
}

impl fmt::Display for IndexRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = match &self.index {
            IndexRef::PrimaryKey => "primary key",
            IndexRef::Index(name) => name,
            IndexRef::Unindexed => "no index",
        };
        write!(f, "{} via {index}", self.table)?;
        if !self.prefix.is_empty() {
            write!(f, " = {}", display_key(&self.prefix))?;
        }
        if let Some(range) = &self.range {
            write!(f, " then {:?}..{:?}", range.lower, range.upper)?;
        }
        Ok(())
    }
}
