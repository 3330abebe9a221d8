//! The set-based operations on the rows referencing some parents: what they
//! take ([`ChildScan`], [`ChildWrite`]), what they return ([`Written`]), and
//! their row-at-a-time default implementations, which a key-value or
//! document store gets for free from `scan`, `delete` and `update`.

use crate::model::error::Error;
use crate::model::index_range::IndexRange;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};

use super::Transaction;

/// A scan of the rows referencing any of several parents: the rows of
/// `range`'s index whose first columns equal one of `prefixes`, in index
/// order then primary-key order (across prefixes), strictly after `after`.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ChildScan<'a> {
    /// The table and the index to read; no prefix, no range.
    pub range: &'a IndexRange,
    /// The parents' values, each a full prefix of the index (the foreign
    /// key's columns in index order). NULL-holding prefixes match nothing
    /// (MATCH SIMPLE).
    pub prefixes: &'a [Key],
    /// Resume strictly after this position.
    pub after: Option<&'a ScanPosition>,
    /// Most rows to return (or write).
    pub limit: usize,
    /// The columns the caller needs (positions); a store may return the
    /// others as NULL. `None`: every column.
    pub columns: Option<&'a [usize]>,
    /// Whether the caller needs each row's size. When false, a store may
    /// return 0 for every size, and so read no more than `columns` (the
    /// SQLite store then reads them from the index alone when it holds
    /// them). Default true.
    pub sizes: bool,
}

impl<'a> ChildScan<'a> {
    /// A scan of every column, from the start.
    pub fn new(range: &'a IndexRange, prefixes: &'a [Key], limit: usize) -> Self {
        ChildScan {
            range,
            prefixes,
            after: None,
            limit,
            columns: None,
            sizes: true,
        }
    }

    /// Resumes after `after`.
    pub fn after(mut self, after: Option<&'a ScanPosition>) -> Self {
        self.after = after;
        self
    }

    /// Asks only for `columns` (positions).
    pub fn columns(mut self, columns: &'a [usize]) -> Self {
        self.columns = Some(columns);
        self
    }

    /// Sets [`sizes`](Self::sizes): whether the caller needs the rows'
    /// sizes.
    pub fn sizes(mut self, sizes: bool) -> Self {
        self.sizes = sizes;
        self
    }
}

/// A set-based write ([`Transaction::delete_children`],
/// [`Transaction::update_children`]) of the rows a [`ChildScan`] finds: at
/// most `scan.limit` rows, in scan order, and at most `bytes` bytes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ChildWrite<'a> {
    /// Which rows, how many at most, and which columns to return
    /// (`scan.columns`: `None` returns nothing).
    pub scan: ChildScan<'a>,
    /// Most bytes to write: rows are taken in scan order while the running
    /// sum of their sizes stays within it (the size of a deleted row, or of
    /// an updated row after the update, as [`Value::size_bytes`] counts).
    /// `None`: no byte limit.
    pub bytes: Option<u64>,
    /// Take the first row even when it alone passes `bytes` (a batch that
    /// has written nothing yet always makes progress).
    pub first_row_always: bool,
}

impl<'a> ChildWrite<'a> {
    /// A write of the rows `scan` finds, with no byte limit.
    pub fn new(scan: ChildScan<'a>) -> Self {
        ChildWrite {
            scan,
            bytes: None,
            first_row_always: false,
        }
    }

    /// Sets [`bytes`](Self::bytes) and
    /// [`first_row_always`](Self::first_row_always).
    pub fn bytes(mut self, bytes: Option<u64>, first_row_always: bool) -> Self {
        self.bytes = bytes;
        self.first_row_always = first_row_always;
        self
    }

    /// How many of the rows of sizes `sizes` (in scan order) the write
    /// takes: the row limit, then the byte limit.
    pub fn take(&self, sizes: impl IntoIterator<Item = u64>) -> usize {
        let mut total = 0u64;
        let mut taken = 0;
        for size in sizes.into_iter().take(self.scan.limit) {
            total += size;
            let over = self.bytes.is_some_and(|limit| total > limit);
            if over && !(taken == 0 && self.first_row_always) {
                break;
            }
            taken += 1;
        }
        taken
    }
}

/// What a set-based write did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Written {
    /// Rows written (deleted or updated).
    pub rows: u64,
    /// Their sizes summed, in bytes ([`ChildWrite::bytes`] says which size).
    /// A write with no byte limit may leave it 0 (nothing budgets it): a
    /// store then need not read the rows' sizes.
    pub bytes: u64,
    /// The rows written, in no particular order (they are the first rows
    /// in scan order, but `RETURNING` lists them as the backend wrote
    /// them), with the columns the write asked for (the others NULL):
    /// deleted rows as they were, updated rows as they are now. Empty when
    /// no column was asked for.
    pub returned: Vec<Row>,
    /// Whether the write took every row the scan finds: it stopped at
    /// neither the row limit nor the byte limit. When false, rows may be
    /// left (a store that cannot tell says false).
    pub exhausted: bool,
}

/// The serialised size of a row, as budgets count bytes
/// ([`Value::size_bytes`] summed).
pub fn row_size(row: &[Value]) -> u64 {
    row.iter().map(|v| v.size_bytes() as u64).sum()
}

/// Keeps only `columns` of `row` (the others become NULL).
fn project(row: &Row, columns: &[usize]) -> Row {
    let mut kept = vec![Value::Null; row.len()];
    for &c in columns {
        if let (Some(slot), Some(value)) = (kept.get_mut(c), row.get(c)) {
            *slot = value.clone();
        }
    }
    kept
}

/// [`Transaction::scan_children`] by one [`Transaction::scan`] per prefix,
/// in order, returning every column.
pub fn children_one_by_one<T: Transaction + ?Sized>(
    tx: &mut T,
    scan: &ChildScan<'_>,
) -> Result<Vec<(Row, u64)>, Error> {
    let mut prefixes: Vec<&Key> = scan
        .prefixes
        .iter()
        .filter(|p| !p.iter().any(Value::is_null))
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let mut out = Vec::new();
    for prefix in prefixes {
        if out.len() >= scan.limit {
            break;
        }
        let after = match scan.after {
            Some(after) => match after.index.get(..prefix.len()) {
                Some(head) if head < prefix.as_slice() => None,
                Some(head) if head == prefix.as_slice() => Some(after),
                _ => continue,
            },
            None => None,
        };
        let range = IndexRange {
            prefix: prefix.clone(),
            ..scan.range.clone()
        };
        let rows = tx.scan(&range, after, scan.limit - out.len())?;
        out.extend(rows.into_iter().map(|row| {
            let size = row_size(&row);
            (row, size)
        }));
    }
    Ok(out)
}

/// [`Transaction::count_children`] by pages of
/// [`Transaction::scan_children`] that return no column.
pub fn count_children_by_pages<T: Transaction + ?Sized>(
    tx: &mut T,
    scan: &ChildScan<'_>,
) -> Result<u64, Error> {
    const PAGE: usize = 1_000;
    let schema = tx.schema().clone();
    let positions = position_columns(&schema, scan.range)?;
    let mut count = 0u64;
    let mut after = scan.after.cloned();
    loop {
        let page = ChildScan {
            after: after.as_ref(),
            limit: PAGE,
            columns: Some(&positions),
            ..*scan
        };
        let rows = tx.scan_children(&page)?;
        count += rows.len() as u64;
        match rows.last() {
            Some((last, _)) if rows.len() == PAGE => {
                after = Some(ScanPosition::after_row(&schema, scan.range, last)?);
            }
            _ => return Ok(count),
        }
    }
}

/// The columns a resume position after a row of `range` reads: the index's
/// and the primary key's.
fn position_columns(schema: &Schema, range: &IndexRange) -> Result<Vec<usize>, Error> {
    let (graph, table) = schema.resolve(&range.table)?;
    let meta = schema.meta(table);
    let mut columns: Vec<usize> = range
        .index_columns(meta)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| meta.column_position(c))
        .collect();
    columns.extend(&graph.tables[table].pk);
    Ok(columns)
}

/// The primary-key positions of `range`'s table.
fn primary_key(schema: &Schema, range: &IndexRange) -> Result<Vec<usize>, Error> {
    let (graph, table) = schema.resolve(&range.table)?;
    Ok(graph.tables[table].pk.clone())
}

/// The first `taken` of `rows` (read with a limit of `limit`) as a
/// [`Written`], returning `columns`.
fn written(
    rows: Vec<(Row, u64)>,
    taken: usize,
    limit: usize,
    columns: Option<&[usize]>,
) -> Written {
    let exhausted = taken == rows.len() && rows.len() < limit;
    let rows = &rows[..taken];
    Written {
        exhausted,
        rows: taken as u64,
        bytes: rows.iter().map(|(_, size)| size).sum(),
        returned: match columns {
            Some(columns) => rows.iter().map(|(row, _)| project(row, columns)).collect(),
            None => Vec::new(),
        },
    }
}

/// [`Transaction::delete_children`] row by row: the rows are read with
/// [`Transaction::scan_children`], then deleted by key with
/// [`Transaction::delete_many`].
pub fn delete_children_one_by_one<T: Transaction + ?Sized>(
    tx: &mut T,
    write: &ChildWrite<'_>,
) -> Result<Written, Error> {
    let pk = primary_key(tx.schema(), write.scan.range)?;
    let read = ChildScan {
        columns: None,
        sizes: true,
        ..write.scan
    };
    let rows = tx.scan_children(&read)?;
    let taken = write.take(rows.iter().map(|(_, size)| *size));
    let keys: Vec<Key> = rows[..taken]
        .iter()
        .map(|(row, _)| pk.iter().map(|&c| row[c].clone()).collect())
        .collect();
    tx.delete_many(&write.scan.range.table, &keys)?;
    Ok(written(rows, taken, write.scan.limit, write.scan.columns))
}

/// [`Transaction::update_children`] row by row: the rows are read with
/// [`Transaction::scan_children`], then each is replaced with
/// [`Transaction::update`].
pub fn update_children_one_by_one<T: Transaction + ?Sized>(
    tx: &mut T,
    write: &ChildWrite<'_>,
    set: &[(usize, Value)],
) -> Result<Written, Error> {
    let pk = primary_key(tx.schema(), write.scan.range)?;
    let read = ChildScan {
        columns: None,
        ..write.scan
    };
    let mut keys = Vec::new();
    let mut rows = Vec::new();
    for (mut row, _) in tx.scan_children(&read)? {
        keys.push(pk.iter().map(|&c| row[c].clone()).collect::<Key>());
        for (column, value) in set {
            if let Some(slot) = row.get_mut(*column) {
                *slot = value.clone();
            }
        }
        let size = row_size(&row);
        rows.push((row, size));
    }
    let taken = write.take(rows.iter().map(|(_, size)| *size));
    for ((row, _), key) in rows[..taken].iter().zip(&keys) {
        tx.update(&write.scan.range.table, key, row)?;
    }
    Ok(written(rows, taken, write.scan.limit, write.scan.columns))
}
