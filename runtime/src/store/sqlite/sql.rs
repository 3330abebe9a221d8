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

use super::ddl::{index_name, quote};
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
    },
    UpdateChildren {
        shape: ScanShape,
        set: Vec<usize>,
        returning: Vec<usize>,
        bucket: Option<u64>,
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

    /// The size of a row as budgets count it ([`Value::size_bytes`] summed
    /// over every column): 1 for NULL, 8 for a number, the length in bytes
    /// of text and blobs. `replaced` columns count `?param` bytes instead
    /// (the size of the value an UPDATE writes there).
    ///
    /// [`Value::size_bytes`]: crate::Value::size_bytes
    pub(super) fn size(&self, replaced: &[(usize, usize)]) -> String {
        let terms: Vec<String> = (0..self.meta.columns.len())
            .map(|c| match replaced.iter().find(|(column, _)| *column == c) {
                Some((_, param)) => format!("?{param}"),
                None => {
                    let name = self.column(c);
                    format!(
                        "CASE typeof({name}) WHEN 'null' THEN 1 WHEN 'integer' THEN 8 \
                         WHEN 'real' THEN 8 WHEN 'text' THEN octet_length({name}) \
                         ELSE length({name}) END"
                    )
                }
            })
            .collect();
        format!("({})", terms.join(" + "))
    }
}

/// The parts of a scan's statement: `FROM`, the conditions, `ORDER BY`,
/// and how many parameters they take.
pub(super) struct ScanParts {
    pub(super) from: String,
    pub(super) conditions: Vec<String>,
    pub(super) order: String,
    /// The positions `order` lists.
    pub(super) order_columns: Vec<usize>,
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
    let indexed_by = match shape.index {
        Some(i) => format!(
            " INDEXED BY {}",
            quote(&index_name(&table.meta.name, &table.meta.indexes[i].name))
        ),
        None => String::new(),
    };
    ScanParts {
        from: format!("{}{indexed_by}", quote(&table.meta.name)),
        conditions,
        order: table.list(&order),
        order_columns: order,
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

/// The rows a set-based write takes: a `WITH` prefix and the condition on
/// the written table. Unlimited (`bucket` is `None`): every row the scan
/// finds, with no prefix. Limited: the candidates are the first `bucket`
/// rows of the scan, in scan order (the CTE `_c`, so that a statement reads
/// at most that many rows whatever the fan-out, and `RETURNING` can say how
/// many there were); of those it takes the first `?n`, and only while the
/// running sum of their `size` stays within `?n+1` bytes (the first row
/// always when `?n+2` is 1). Parameters after the scan's (`?n` is the first
/// of them): the row limit, the byte limit, first-row.
fn picked(table: Table<'_>, parts: &ScanParts, size: &str, bucket: Option<u64>) -> (String, String) {
    let Some(bucket) = bucket else {
        return (String::new(), parts.conditions.join(" AND "));
    };
    let order = &parts.order_columns;
    let key = table.key();
    let n = parts.params + 1;
    let scan = format!("FROM {}{} ORDER BY {}", parts.from, parts.filter(), parts.order);
    let (keys, key_names): (String, Vec<String>) = if table.rowid {
        ("rowid AS _k0".to_owned(), vec!["_k0".to_owned()])
    } else {
        let names: Vec<String> = (0..table.pk.len()).map(|i| format!("_k{i}")).collect();
        let keys: Vec<String> = table
            .pk
            .iter()
            .zip(&names)
            .map(|(&c, name)| format!("{} AS {name}", table.column(c)))
            .collect();
        (keys.join(", "), names)
    };
    let order_names: Vec<String> = (0..order.len()).map(|i| format!("_o{i}")).collect();
    let orders: Vec<String> = order
        .iter()
        .zip(&order_names)
        .map(|(&c, name)| format!("{} AS {name}", table.column(c)))
        .collect();
    let window = format!("ORDER BY {} ROWS UNBOUNDED PRECEDING", order_names.join(", "));
    let k = key_names.join(", ");
    let with = format!(
        "WITH _c AS MATERIALIZED (SELECT {keys}, {orders}, {size} AS _s {scan} LIMIT {bucket}), \
         _p AS MATERIALIZED (SELECT {k}, sum(_s) OVER ({window}) AS _running, \
         row_number() OVER ({window}) AS _n FROM _c) ",
        orders = orders.join(", "),
    );
    let condition = format!(
        "{key} IN (SELECT {k} FROM _p WHERE _n <= ?{n} \
         AND (_running <= ?{bytes} OR (_n = 1 AND ?{first} = 1)))",
        bytes = n + 1,
        first = n + 2,
    );
    (with, condition)
}

/// How many parameters [`picked`] adds after the scan's.
pub(super) fn picked_params(limited: bool) -> usize {
    if limited { 3 } else { 0 }
}

/// `DELETE` of the rows a scan finds (see [`picked`]), returning the
/// columns `returning`, each row's size, and — when limited — how many
/// candidate rows there were.
pub(super) fn delete_children(
    table: Table<'_>,
    parts: &ScanParts,
    returning: &[usize],
    bucket: Option<u64>,
) -> String {
    let size = table.size(&[]);
    let (with, condition) = picked(table, parts, &size, bucket);
    format!(
        "{with}DELETE FROM {} WHERE {condition} RETURNING {}",
        quote(&table.meta.name),
        returned(table, returning, &size, bucket.is_some())
    )
}

/// `UPDATE` setting the columns `set` of the rows a scan finds (see
/// [`picked`]), returning the columns `returning` as updated, each row's
/// size after the update and — when limited — how many candidate rows
/// there were. Parameters after [`picked`]'s: the value of each set column,
/// then (when limited) its size in bytes.
pub(super) fn update_children(
    table: Table<'_>,
    parts: &ScanParts,
    set: &[usize],
    returning: &[usize],
    bucket: Option<u64>,
) -> String {
    let first = parts.params + picked_params(bucket.is_some()) + 1;
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ?{}", table.column(c), first + i))
        .collect();
    let sizes: Vec<(usize, usize)> = set
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, first + set.len() + i))
        .collect();
    let (with, condition) = picked(table, parts, &table.size(&sizes), bucket);
    format!(
        "{with}UPDATE {} SET {} WHERE {condition} RETURNING {}",
        quote(&table.meta.name),
        assignments.join(", "),
        returned(table, returning, &table.size(&[]), bucket.is_some())
    )
}

/// The `RETURNING` list: the asked columns, the size, and (when limited)
/// the number of candidates.
fn returned(table: Table<'_>, returning: &[usize], size: &str, limited: bool) -> String {
    let mut list: Vec<String> = returning.iter().map(|&c| table.column(c)).collect();
    list.push(size.to_owned());
    if limited {
        list.push("(SELECT count(*) FROM _c)".to_owned());
    }
    list.join(", ")
}

/// Whether `index` names one of the table's secondary indexes (its
/// position), for [`ScanShape::index`].
pub(super) fn index_position(table: &TableMeta, index: &IndexRef) -> Option<usize> {
    match index {
        IndexRef::Index(name) => table.indexes.iter().position(|i| i.name == *name),
        _ => None,
    }
}
