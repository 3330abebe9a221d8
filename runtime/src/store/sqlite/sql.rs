//! The text of the SQLite store's statements, built once per shape and
//! cached by [`SqlKey`]: identifiers quoted, every value a numbered
//! parameter (`?1`, `?2`, ...).
//!
//! Scans are described by a [`ScanShape`]: which index, how many prefix
//! values, the range bounds, whether the first index column is matched
//! against an `IN` list of parents, and where the scan resumes. The same
//! shape gives the `SELECT` of a scan, the `count(*)` of the rows
//! referencing some parents, the candidates of a limited set-based `DELETE`
//! or `UPDATE` with their sizes, and the write itself (see [`Pick`]).

use super::ddl::quote;
use crate::model::graph::TableId;
use crate::model::metadata::{IndexRef, TableMeta};

/// Parent values per `... WHERE fk IN (...)` of the set-based operations.
pub(super) const IN_CHUNK: usize = 64;

/// The identity of a generated statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum SqlKey {
    Get(TableId),
    /// A scan, with the columns it reads (`None`: every one).
    Scan(ScanShape, Option<Vec<bool>>),
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
    Candidates {
        shape: ScanShape,
        sized: Vec<usize>,
    },
    DeleteChildren {
        shape: ScanShape,
        returning: Vec<usize>,
        pick: Pick,
    },
    UpdateChildren {
        shape: ScanShape,
        set: Vec<usize>,
        returning: Vec<usize>,
        pick: Pick,
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
/// With `keep`, NULL stands in place of each column it leaves out: SQLite
/// can then answer from the scan's index alone when the index holds every
/// kept column.
pub(super) fn select(table: Table<'_>, parts: &ScanParts, keep: Option<&[bool]>) -> String {
    let columns: Vec<String> = (0..table.meta.columns.len())
        .map(|c| match keep.and_then(|keep| keep.get(c)) {
            Some(false) => "NULL".to_owned(),
            _ => table.column(c),
        })
        .collect();
    format!(
        "SELECT {} FROM {}{} ORDER BY {}",
        columns.join(", "),
        parts.from,
        parts.filter(),
        parts.order
    )
}

/// `count(*)` of the rows a scan finds.
pub(super) fn count(parts: &ScanParts) -> String {
    format!("SELECT count(*) FROM {}{}", parts.from, parts.filter())
}

/// Which rows a set-based write takes of those its scan finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Pick {
    /// Every one: the scan's conditions, its parameters.
    All,
    /// Those whose key is in the array `?1` (`rarray`), listed by the
    /// candidates' statement: for tables with a rowid or a one-column key.
    Keys,
    /// The first `?n` in scan order (an index-only subquery), `n` the
    /// parameter after the scan's and the set values: for other keys. A
    /// bound `LIMIT` may abort the statement, so SQLite keeps a statement
    /// journal for it.
    First,
}

impl Table<'_> {
    /// The one column that names a row for [`Pick::Keys`], if any: the
    /// rowid, or a one-column primary key.
    pub(super) fn single_key(&self) -> Option<String> {
        match self.pk {
            _ if self.rowid => Some("rowid".to_owned()),
            [column] => Some(self.column(*column)),
            _ => None,
        }
    }
}

/// The candidates of a limited set-based write, in scan order: the size of
/// each as budgets count it (`cascadia_size` of the columns `sized`; for an
/// `UPDATE`, those it keeps; see [`size`](super::size)), then, with `key`,
/// that column. No `LIMIT`: the caller steps until a limit is reached.
pub(super) fn candidates(
    table: Table<'_>,
    parts: &ScanParts,
    sized: &[usize],
    key: Option<&str>,
) -> String {
    let size = if sized.is_empty() {
        "0".to_owned()
    } else {
        format!("{}({})", super::size::NAME, table.list(sized))
    };
    let key = key.map(|key| format!(", {key}")).unwrap_or_default();
    format!(
        "SELECT {size}{key} FROM {}{} ORDER BY {}",
        parts.from,
        parts.filter(),
        parts.order
    )
}

/// The condition of a set-based write (see [`Pick`]); `next` is the first
/// parameter after the scan's and the set values.
fn picked(table: Table<'_>, parts: &ScanParts, pick: Pick, next: usize) -> String {
    match pick {
        // A key of several columns is no array element: SQLite refuses the
        // statement (the writer never asks for it).
        Pick::Keys => format!(
            "{} IN rarray(?1)",
            table.single_key().unwrap_or_else(|| table.key())
        ),
        Pick::All => parts.conditions.join(" AND "),
        Pick::First => {
            let columns = if table.rowid {
                "rowid".to_owned()
            } else {
                table.list(table.pk)
            };
            format!(
                "{} IN (SELECT {columns} FROM {}{} ORDER BY {} LIMIT ?{next})",
                table.key(),
                parts.from,
                parts.filter(),
                parts.order
            )
        }
    }
}

/// The first parameter after those of the condition of `pick`.
fn first_after_condition(parts: &ScanParts, pick: Pick) -> usize {
    match pick {
        Pick::Keys => 2,
        Pick::All | Pick::First => parts.params + 1,
    }
}

/// `DELETE` of the rows `pick` takes, returning the columns `returning`,
/// if any.
pub(super) fn delete_children(
    table: Table<'_>,
    parts: &ScanParts,
    returning: &[usize],
    pick: Pick,
) -> String {
    format!(
        "DELETE FROM {} WHERE {}{}",
        quote(&table.meta.name),
        picked(table, parts, pick, first_after_condition(parts, pick)),
        returned(table, returning)
    )
}

/// `UPDATE` setting the columns `set` of the rows `pick` takes, returning
/// the columns `returning` as updated, if any. The value of each set column
/// is a parameter after the condition's (see [`Pick`]).
pub(super) fn update_children(
    table: Table<'_>,
    parts: &ScanParts,
    set: &[usize],
    returning: &[usize],
    pick: Pick,
) -> String {
    let first = first_after_condition(parts, pick);
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ?{}", table.column(c), first + i))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {}{}",
        quote(&table.meta.name),
        assignments.join(", "),
        picked(table, parts, pick, first + set.len()),
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
