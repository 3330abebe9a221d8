//! `ScanPosition`: where an index scan stopped, so that the next page (or a
//! resumed job) starts strictly after it.

use serde::{Deserialize, Serialize};

use crate::model::error::Error;
use crate::model::index_range::IndexRange;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};

/// Where an index scan stopped: the index values and the primary key of the
/// last row returned. A scan given it resumes strictly after that row.
///
/// Rows of a scan are ordered by the index's columns, then by the primary
/// key (for a primary-key scan, `index` is the key itself). Serialisable, so
/// a job can persist it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPosition {
    /// The last row's values for the index's columns, in index order.
    pub index: Vec<Value>,
    /// The last row's primary key.
    pub key: Key,
}

impl ScanPosition {
    /// The position just after `row` in a scan of `range`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`] or [`Error::InvalidRange`] when the range does
    /// not name a table and index of `schema`.
    pub fn after_row(schema: &Schema, range: &IndexRange, row: &Row) -> Result<Self, Error> {
        let (graph, table) = schema.resolve(&range.table)?;
        let meta = schema.meta(table);
        let columns = range
            .index_columns(meta)
            .ok_or_else(|| Error::InvalidRange {
                table: meta.name.clone(),
                reason: format!("no index {:?}", range.index),
            })?;
        let index = columns
            .iter()
            .filter_map(|c| meta.column_position(c))
            .filter_map(|c| row.get(c).cloned())
            .collect();
        Ok(ScanPosition {
            index,
            key: graph.pk_of(table, row),
        })
    }
}
