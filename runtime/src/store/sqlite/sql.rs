//! The text of the SQLite store's statements, built once per shape and
//! cached by [`SqlKey`]: identifiers quoted, every value a numbered
//! parameter (`?1`, `?2`, ...).
//!
//! Scans are described by a [`ScanShape`]: which index, how many prefix
//! values, the range bounds, whether the first index column is matched
//! against an `IN` list of parents, and where the scan resumes. The same
//! shape gives the `SELECT` of a scan, the `count(*)` of the rows
//! referencing some parents, and the subquery that picks the rows a
//! set-based `DELETE` or `UPDATE` writes.

use super::ddl::quote;
use crate::model::graph::TableId;
use crate::model::metadata::{IndexRef, TableMeta};

/// Parent values per `... WHERE fk IN (...)` of the set-based operations.
pub(super) const IN_CHUNK: usize = 64;

/// Keys per `DELETE ... WHERE key IN (...)` of `Transaction::delete_many`.
pub(super) const DELETE_CHUNK: usize = 64;

/// The identity of a generated statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum SqlKey {
    Get(TableId),
    Scan(ScanShape),
    Count(ScanShape),
    ScanWhere {
        table: TableId,
        columns: Vec<usize>,
        after: bool,
    },
    Insert(TableId),
    Update(TableId),
    Delete(TableId),
    DeleteMany(TableId),
    DeleteChildren {
        shape: ScanShape,
        returning: Vec<usize>,
        bucket: Option<u64>,
        counted: bool,
    },
    UpdateChildren {
        shape: ScanShape,
        set: Vec<usize>,
        returning: Vec<usize>,
        bucket: Option<u64>,
        counted: bool,
    },
}

/// The shape of an index scan: everything its SQL text depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ScanShape {
    pub(super) table: TableId,
    /// Position of the index in the table's metadata; `None` for the
    /// primary key.
    pub(super) index: Option<usize>,
    /// Prefix values (equalities on the first index columns).
    pub(super) prefix: usize,
    /// Range bounds on the next column: 0 none, 1 inclusive, 2 exclusive.
    pub(super) lower: u8,
    pub(super) upper: u8,
    /// `None`: no resume position; `Some(mask)`: which position values are
    /// NULL.
    pub(super) after: Option<u64>,
    /// The first index column is matched against `IN (IN_CHUNK values)`.
    pub(super) in_list: bool,
}

/// What a statement's text needs from the schema: the table, its primary
/// key, the scanned index's columns (positions).
#[derive(Clone, Copy)]
pub(super) struct Table<'a> {
    pub(super) meta: &'a TableMeta,
    /// Per index of `meta`: the database's index that serves it, or `None`
    /// for the primary key.
    pub(super) index_names: &'a [Option<String>],
    pub(super) pk: &'a [usize],
    /// Whether rows have a rowid (a table whose key is one INTEGER column).
    pub(super) rowid: bool,
}

impl Table<'_> {
    fn column(&self, position: usize) -> String {
        quote(&self.meta.columns[position].name)
    }

    /// Every column, in order: `"a", "b"`.
    pub(super) fn column_list(&self) -> String {
        self.list(&(0..self.meta.columns.len()).collect::<Vec<_>>())
    }

    /// The columns `positions`: `"a", "b"`.
    pub(super) fn list(&self, positions: &[usize]) -> String {
        positions
            .iter()
            .map(|&c| self.column(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `"a" = ?first, "b" = ?first+1, ...` for `columns`.
    pub(super) fn equalities(&self, columns: &[usize], first: usize) -> Vec<String> {
        columns
            .iter()
            .enumerate()
            .map(|(i, &c)| format!("{} = ?{}", self.column(c), first + i))
            .collect()
    }

    /// How a row is named in `... WHERE key IN (SELECT key ...)`: its rowid,
    /// or its primary key as a row value.
    fn key(&self) -> String {
        if self.rowid {
            "rowid".to_owned()
        } else {
            format!("({})", self.list(self.pk))
        }
    }
}

/// The parts of a scan's statement: `FROM`, the conditions, `ORDER BY`,
/// and how many parameters they take.
pub(super) struct ScanParts {
    pub(super) from: String,
    pub(super) conditions: Vec<String>,
    pub(super) order: String,
    /// Parameters used, `?1` to `?params`.
    pub(super) params: usize,
}

impl ScanParts {
    fn filter(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// The parts of a scan of `index_columns` (positions) of `table` with
/// `shape`. Parameters, in order: the prefix values, the `IN` list, the
/// range bounds, the resume position (the index columns after the prefix,
/// then the primary-key columns the index does not hold).
pub(super) fn scan_parts(
    table: Table<'_>,
    index_columns: &[usize],
    shape: &ScanShape,
) -> ScanParts {
    let prefix = shape.prefix;
    let mut conditions = table.equalities(&index_columns[..prefix], 1);
    let mut next = prefix + 1;
    if shape.in_list {
        let params: Vec<String> = (next..next + IN_CHUNK).map(|i| format!("?{i}")).collect();
        conditions.push(format!(
            "{} IN ({})",
            table.column(index_columns[prefix]),
            params.join(", ")
        ));
        next += IN_CHUNK;
    }
    if shape.lower != 0 || shape.upper != 0 {
        let column = table.column(index_columns[prefix]);
        for (code, inclusive, exclusive) in [(shape.lower, ">=", ">"), (shape.upper, "<=", "<")] {
            let op = match code {
                1 => inclusive,
                2 => exclusive,
                _ => continue,
            };
            conditions.push(format!("{column} {op} ?{next}"));
            next += 1;
        }
    }
    let mut rest: Vec<usize> = index_columns[prefix..].to_vec();
    rest.extend(table.pk.iter().filter(|c| !index_columns.contains(c)));
    if let Some(mask) = shape.after {
        let names: Vec<String> = rest.iter().map(|&c| table.column(c)).collect();
        let params: Vec<String> = (0..rest.len()).map(|i| format!("?{}", next + i)).collect();
        conditions.push(after_condition(&names, &params, mask));
        next += rest.len();
    }
    let order: Vec<usize> = index_columns
        .iter()
        .chain(table.pk.iter().filter(|c| !index_columns.contains(c)))
        .copied()
        .collect();
    let indexed_by = match shape.index.and_then(|i| table.index_names.get(i)) {
        Some(Some(name)) => format!(" INDEXED BY {}", quote(name)),
        _ => String::new(),
    };
    ScanParts {
        from: format!("{}{indexed_by}", quote(&table.meta.name)),
        conditions,
        order: table.list(&order),
        params: next - 1,
    }
}

/// "Strictly after the position": the lexicographic order of `names`,
/// spelled out with NULL sorting first (as SQLite orders it) where `mask`
/// marks a NULL position value.
fn after_condition(names: &[String], params: &[String], mask: u64) -> String {
    if mask == 0 {
        return format!("({}) > ({})", names.join(", "), params.join(", "));
    }
    let null = |i: usize| mask & (1 << (i % 64)) != 0;
    let alternatives: Vec<String> = (0..names.len())
        .map(|i| {
            let mut terms: Vec<String> = (0..i)
                .map(|j| {
                    if null(j) {
                        format!("{} IS NULL", names[j])
                    } else {
                        format!("{} = {}", names[j], params[j])
                    }
                })
                .collect();
            terms.push(if null(i) {
                format!("{} IS NOT NULL", names[i])
            } else {
                format!("{} > {}", names[i], params[i])
            });
            format!("({})", terms.join(" AND "))
        })
        .collect();
    format!("({})", alternatives.join(" OR "))
}

/// `SELECT` of a scan (no `LIMIT`: the caller steps as far as it needs).
pub(super) fn select(table: Table<'_>, parts: &ScanParts) -> String {
    format!(
        "SELECT {} FROM {}{} ORDER BY {}",
        table.column_list(),
        parts.from,
        parts.filter(),
        parts.order
    )
}

/// `count(*)` of the rows a scan finds.
pub(super) fn count(parts: &ScanParts) -> String {
    format!("SELECT count(*) FROM {}{}", parts.from, parts.filter())
}

/// How many candidate rows a limited set-based write reads at most: a
/// power of two at least `rows`, written into the SQL text. A bound
/// parameter in a `LIMIT` makes SQLite recompile the statement whenever its
/// value changes; a few buckets keep every text prepared once.
pub(super) fn bucket(rows: usize) -> u64 {
    const MOST: u64 = 1 << 62;
    (rows.max(1) as u64)
        .checked_next_power_of_two()
        .map_or(MOST, |bucket| bucket.min(MOST))
}

/// The condition of a set-based write: the rows the scan finds — every
/// one (`bucket` is `None`), or the first `bucket` in scan order, found
/// with an index-only subquery — that `cascadia_take` accepts, given the
/// columns `take` (see [`take`](super::take)); without `take`, every row
/// (an unlimited write, counted by SQLite's change count).
fn picked(
    table: Table<'_>,
    parts: &ScanParts,
    bucket: Option<u64>,
    take: Option<&[usize]>,
) -> String {
    let Some(take) = take else {
        return parts.conditions.join(" AND ");
    };
    let take = format!("{}({})", super::take::NAME, table.list(take));
    let Some(bucket) = bucket else {
        return format!("{} AND {take}", parts.conditions.join(" AND "));
    };
    let columns = if table.rowid {
        "rowid".to_owned()
    } else {
        table.list(table.pk)
    };
    format!(
        "{} IN (SELECT {columns} FROM {}{} ORDER BY {} LIMIT {bucket}) AND {take}",
        table.key(),
        parts.from,
        parts.filter(),
        parts.order
    )
}

/// `DELETE` of the rows a scan finds (see [`picked`]), returning the
/// columns `returning`, if any.
pub(super) fn delete_children(
    table: Table<'_>,
    parts: &ScanParts,
    returning: &[usize],
    bucket: Option<u64>,
    counted: bool,
) -> String {
    let every: Vec<usize> = (0..table.meta.columns.len()).collect();
    format!(
        "DELETE FROM {} WHERE {}{}",
        quote(&table.meta.name),
        picked(table, parts, bucket, counted.then_some(&every[..])),
        returned(table, returning)
    )
}

/// `UPDATE` setting the columns `set` of the rows a scan finds (see
/// [`picked`]; `cascadia_take` sees the columns it keeps), returning the
/// columns `returning` as updated, if any. Parameters after the scan's: the
/// value of each set column.
pub(super) fn update_children(
    table: Table<'_>,
    parts: &ScanParts,
    set: &[usize],
    returning: &[usize],
    bucket: Option<u64>,
    counted: bool,
) -> String {
    let first = parts.params + 1;
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ?{}", table.column(c), first + i))
        .collect();
    let kept: Vec<usize> = (0..table.meta.columns.len())
        .filter(|c| !set.contains(c))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {}{}",
        quote(&table.meta.name),
        assignments.join(", "),
        picked(table, parts, bucket, counted.then_some(&kept[..])),
        returned(table, returning)
    )
}

/// The `RETURNING` clause of the columns `returning` (none: no clause).
fn returned(table: Table<'_>, returning: &[usize]) -> String {
    if returning.is_empty() {
        String::new()
    } else {
        format!(" RETURNING {}", table.list(returning))
    }
}

/// Whether `index` names one of the table's secondary indexes (its
/// position), for [`ScanShape::index`].
pub(super) fn index_position(table: &TableMeta, index: &IndexRef) -> Option<usize> {
    match index {
        IndexRef::Index(name) => table.indexes.iter().position(|i| i.name == *name),
        _ => None,
    }
}
