//! The text of the PostgreSQL store's statements, built once per shape and
//! cached by [`SqlKey`]: identifiers quoted, every value a numbered
//! parameter (`$1`, `$2`, ...), typed by the column it meets (arrays and
//! sizes carry a cast).
//!
//! Scans are described by a [`ScanShape`]: which index, how many prefix
//! values, how many leading columns are matched against arrays of parent
//! values (`c = ANY($1)`, or `(a, b) IN (SELECT * FROM unnest($1, $2))`),
//! the range bounds, and where the scan resumes. The same shape gives the
//! `SELECT` of a scan, the `count(*)` of the rows referencing some parents,
//! and the subquery that picks the rows a set-based `DELETE` or `UPDATE`
//! writes.
//!
//! Order: index columns, then the primary-key columns the index lacks, all
//! ascending with PostgreSQL's `NULLS LAST`; a resume position is a row
//! comparison `(a, b) > ($1, $2)` — or, when a compared column is nullable
//! or the position holds a NULL, the same order spelled out with NULLs
//! last. Every ordering decision is PostgreSQL's, under the columns' own
//! collations: nothing here compares values in Rust.

use super::ddl::quote;
use crate::model::graph::TableId;
use crate::model::metadata::{IndexRef, TableMeta};
use crate::model::value::ValueType;

/// The identity of a generated statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum SqlKey {
    Get(TableId),
    GetMany(TableId),
    Scan(ScanShape),
    Count(ScanShape),
    Children {
        shape: ScanShape,
        columns: Vec<usize>,
    },
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
        form: WriteForm,
        returning: Vec<usize>,
        bytes: bool,
    },
    UpdateChildren {
        shape: ScanShape,
        form: WriteForm,
        set: Vec<usize>,
        returning: Vec<usize>,
        bytes: bool,
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
    /// How many index columns after the prefix are matched against arrays
    /// of parent values (0: none).
    pub(super) parents: usize,
    /// Range bounds on the column after the prefix: 0 none, 1 inclusive, 2
    /// exclusive.
    pub(super) lower: u8,
    pub(super) upper: u8,
    /// `None`: no resume position; `Some(mask)`: which position values are
    /// NULL (they take no parameter).
    pub(super) after: Option<u64>,
}

impl ScanShape {
    /// Whether the scan reads the whole index: no prefix, no parents, no
    /// range (the full scan the caller asked for).
    pub(super) fn is_full(&self) -> bool {
        self.prefix == 0 && self.parents == 0 && self.lower == 0 && self.upper == 0
    }
}

/// Numbers parameters as a statement's text is built.
#[derive(Debug, Default)]
pub(super) struct Params(usize);

impl Params {
    /// The next parameter, `$n`.
    pub(super) fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }

    /// The next parameter with a cast, `$n::type`.
    pub(super) fn cast(&mut self, ty: &str) -> String {
        format!("{}::{ty}", self.next())
    }
}

/// What a statement's text needs from the schema and the database: the
/// table, its primary key (positions), and each column's PostgreSQL type
/// as the database declares it (for casts of arrays).
#[derive(Clone, Copy)]
pub(super) struct Table<'a> {
    pub(super) meta: &'a TableMeta,
    pub(super) pk: &'a [usize],
    pub(super) types: &'a [String],
}

impl Table<'_> {
    pub(super) fn name(&self) -> String {
        quote(&self.meta.name)
    }

    pub(super) fn column(&self, position: usize) -> String {
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

    /// `"a" = $n, "b" = $n+1, ...` for `columns`.
    pub(super) fn equalities(&self, columns: &[usize], params: &mut Params) -> Vec<String> {
        columns
            .iter()
            .map(|&c| format!("{} = {}", self.column(c), params.next()))
            .collect()
    }

    /// `c = ANY($n)` for one column; for several, `a = ANY($n) AND b =
    /// ANY($n+1) AND (a, b) IN (SELECT * FROM unnest($n::T[], $n+1::T[]))`:
    /// the rows whose `columns` equal one of the tuples bound as one array
    /// per column. The `= ANY` terms are what an index searches by (the
    /// tuple test alone plans as a filter over a whole index); the tuple
    /// test keeps only the tuples asked for.
    pub(super) fn in_arrays(&self, columns: &[usize], params: &mut Params) -> String {
        if let [single] = columns {
            return format!("{} = ANY({})", self.column(*single), params.next());
        }
        let arrays: Vec<String> = columns
            .iter()
            .map(|&c| params.cast(&format!("{}[]", self.types[c])))
            .collect();
        let any: Vec<String> = columns
            .iter()
            .zip(&arrays)
            .map(|(&c, array)| format!("{} = ANY({array})", self.column(c)))
            .collect();
        format!(
            "{} AND ({}) IN (SELECT * FROM unnest({}))",
            any.join(" AND "),
            self.list(columns),
            arrays.join(", ")
        )
    }

    /// The size of a row as budgets count it ([`Value::size_bytes`] summed
    /// over every column): 1 for NULL, 8 for a number, the length in bytes
    /// of text and blobs, as a `bigint`. `replaced` columns count the
    /// `bigint` parameter given instead (the size of the value an UPDATE
    /// writes there).
    ///
    /// [`Value::size_bytes`]: crate::Value::size_bytes
    pub(super) fn size(&self, replaced: &[(usize, String)]) -> String {
        let terms: Vec<String> = (0..self.meta.columns.len())
            .map(|c| match replaced.iter().find(|(column, _)| *column == c) {
                Some((_, param)) => param.clone(),
                None => {
                    let name = self.column(c);
                    match self.meta.columns[c].value_type {
                        ValueType::Integer | ValueType::Real => {
                            format!("CASE WHEN {name} IS NULL THEN 1 ELSE 8 END")
                        }
                        ValueType::Text | ValueType::Blob => {
                            format!("coalesce(octet_length({name}), 1)")
                        }
                    }
                }
            })
            .collect();
        format!("(0::bigint + {})", terms.join(" + "))
    }
}

/// The parts of a scan's statement: `FROM`, the conditions, `ORDER BY`.
pub(super) struct ScanParts {
    pub(super) from: String,
    pub(super) conditions: Vec<String>,
    pub(super) order: String,
    /// The positions `order` lists.
    pub(super) order_columns: Vec<usize>,
    /// Whether the scan is [`bounded`].
    pub(super) bounded: bool,
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
/// `shape`. Parameters, in order: the prefix values, the parent arrays,
/// the range bounds, the resume position's non-NULL values (the index
/// columns after the prefix, then the primary-key columns the index lacks).
pub(super) fn scan_parts(
    table: Table<'_>,
    index_columns: &[usize],
    shape: &ScanShape,
    params: &mut Params,
) -> ScanParts {
    let prefix = shape.prefix;
    let mut conditions = table.equalities(&index_columns[..prefix], params);
    if shape.parents > 0 {
        let columns = &index_columns[prefix..prefix + shape.parents];
        conditions.push(table.in_arrays(columns, params));
    }
    for (code, inclusive, exclusive) in [(shape.lower, ">=", ">"), (shape.upper, "<=", "<")] {
        let op = match code {
            1 => inclusive,
            2 => exclusive,
            _ => continue,
        };
        let column = table.column(index_columns[prefix]);
        conditions.push(format!("{column} {op} {}", params.next()));
    }
    let order: Vec<usize> = index_columns
        .iter()
        .chain(table.pk.iter().filter(|c| !index_columns.contains(c)))
        .copied()
        .collect();
    if let Some(mask) = shape.after {
        conditions.push(after_condition(table, &order[prefix..], mask, params));
    }
    ScanParts {
        from: table.name(),
        conditions,
        order: table.list(&order),
        order_columns: order,
        bounded: bounded(table, index_columns, shape),
    }
}

/// "Strictly after the position" in the order of `columns`, ascending with
/// NULLs last: a row comparison when no NULL can take part, else spelled
/// out. `mask` marks the position's NULL values (they take no parameter).
fn after_condition(table: Table<'_>, columns: &[usize], mask: u64, params: &mut Params) -> String {
    let null = |i: usize| mask & (1 << (i % 64)) != 0;
    let nullable = |c: usize| table.meta.columns[c].nullable;
    let values: Vec<Option<String>> = (0..columns.len())
        .map(|i| (!null(i)).then(|| params.next()))
        .collect();
    if mask == 0 && !columns.iter().any(|&c| nullable(c)) {
        let values: Vec<String> = values.into_iter().flatten().collect();
        return format!("({}) > ({})", table.list(columns), values.join(", "));
    }
    let mut alternatives = Vec::new();
    for (i, &column) in columns.iter().enumerate() {
        // Nothing sorts after NULL at this column: no alternative here.
        let Some(value) = &values[i] else {
            continue;
        };
        let mut terms: Vec<String> = columns[..i]
            .iter()
            .zip(&values)
            .map(|(&c, v)| match v {
                Some(v) => format!("{} = {v}", table.column(c)),
                None => format!("{} IS NULL", table.column(c)),
            })
            .collect();
        let name = table.column(column);
        terms.push(if nullable(column) {
            format!("({name} > {value} OR {name} IS NULL)")
        } else {
            format!("{name} > {value}")
        });
        alternatives.push(format!("({})", terms.join(" AND ")));
    }
    if alternatives.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("({})", alternatives.join(" OR "))
    }
}

/// `SELECT` of a scan, `LIMIT` the next parameter.
pub(super) fn select(table: Table<'_>, parts: &ScanParts, params: &mut Params) -> String {
    format!(
        "SELECT {} FROM {}{} ORDER BY {} LIMIT {}",
        table.column_list(),
        parts.from,
        parts.filter(),
        parts.order,
        params.cast("bigint")
    )
}

/// `SELECT` of the columns `columns` of a scan, then each row's size,
/// `LIMIT` the next parameter.
pub(super) fn select_sized(
    table: Table<'_>,
    parts: &ScanParts,
    columns: &[usize],
    params: &mut Params,
) -> String {
    format!(
        "SELECT {} FROM {}{} ORDER BY {} LIMIT {}",
        returned(table, columns, &table.size(&[])),
        parts.from,
        parts.filter(),
        parts.order,
        params.cast("bigint")
    )
}

/// `count(*)` of the rows a scan finds.
pub(super) fn count(parts: &ScanParts) -> String {
    format!("SELECT count(*) FROM {}{}", parts.from, parts.filter())
}

/// The `SELECT` of a set-based write's candidates in scan order, `LIMIT`
/// the next parameter (`limit + 1`): the items `leading`, the order's
/// values (`_o0`, `_o1`, ...) and, with `bytes`, each row's `size` (`_s`).
/// Returns it and the names of the order's values.
fn candidates(
    table: Table<'_>,
    parts: &ScanParts,
    leading: &[String],
    (size, bytes): (&str, bool),
    params: &mut Params,
) -> (String, Vec<String>) {
    let order_names: Vec<String> = (0..parts.order_columns.len())
        .map(|i| format!("_o{i}"))
        .collect();
    let mut items = leading.to_vec();
    items.extend(
        parts
            .order_columns
            .iter()
            .zip(&order_names)
            .map(|(&c, name)| format!("{} AS {name}", table.column(c))),
    );
    if bytes {
        items.push(format!("{size} AS _s"));
    }
    let page = format!(
        "SELECT {} FROM {}{} ORDER BY {} LIMIT {}",
        items.join(", "),
        parts.from,
        parts.filter(),
        parts.order,
        params.cast("bigint")
    );
    (page, order_names)
}

/// The rows a set-based write takes, as a query of their keys (`_k0`,
/// `_k1`, ...), their values of the scan's order (`_o0`, `_o1`, ...),
/// their place in scan order (`_n`, from 1) and how many candidates the
/// scan read (`_candidates`): the first `limit`
/// rows of the scan; with `bytes`, only while the running sum of their
/// `size` stays within a byte limit (the first row always when the boolean
/// after it is true). The scan reads `limit + 1` candidates at most, so a
/// statement reads no more than it needs whatever the fan-out, and
/// `_candidates` tells whether rows are left. Parameters after the scan's:
/// `limit + 1`, `limit`, then bytes and first-row.
fn picked(
    table: Table<'_>,
    parts: &ScanParts,
    size: &str,
    bytes: bool,
    params: &mut Params,
) -> String {
    let key_names: Vec<String> = (0..table.pk.len()).map(|i| format!("_k{i}")).collect();
    let keys: Vec<String> = table
        .pk
        .iter()
        .zip(&key_names)
        .map(|(&c, name)| format!("{} AS {name}", table.column(c)))
        .collect();
    let (page, order_names) = candidates(table, parts, &keys, (size, bytes), params);
    let page = format!("({page}) AS _page");
    let window = format!(
        "ORDER BY {} ROWS UNBOUNDED PRECEDING",
        order_names.join(", ")
    );
    let k = key_names.join(", ");
    let limit = params.cast("bigint");
    let running = if bytes {
        format!("sum(_s) OVER ({window}) AS _running, ")
    } else {
        String::new()
    };
    let fits = if bytes {
        format!(
            " AND (_running <= {} OR (_n = 1 AND {}))",
            params.cast("bigint"),
            params.cast("boolean")
        )
    } else {
        String::new()
    };
    let o = order_names.join(", ");
    format!(
        "SELECT {k}, {o}, _n, _candidates FROM (SELECT {k}, {o}, {running}\
         row_number() OVER ({window}) AS _n, count(*) OVER () AS _candidates \
         FROM {page}) AS _sums WHERE _n <= {limit}{fits}"
    )
}

/// Whether a set-based write of a scan can be bounded by the scan's own
/// conditions up to the last row it takes (`(order) <= (last)`): no column
/// of the order after the pinned ones can be NULL. Otherwise the rows taken
/// are joined by key.
pub(super) fn bounded(table: Table<'_>, index_columns: &[usize], shape: &ScanShape) -> bool {
    let pinned = shape.prefix + shape.parents;
    let lacking = table.pk.iter().filter(|c| !index_columns.contains(c));
    !index_columns
        .iter()
        .skip(pinned)
        .chain(lacking)
        .any(|&c| table.meta.columns[c].nullable)
}

/// The condition of a write that stops at the scan's row `last`, a query
/// of one row of the order's values (`_o0`, `_o1`, ...): the scan's
/// conditions, the first order column at most `last`'s (a bound the index
/// scan stops at) and the whole order at most `last`'s. For a scan that is
/// [`bounded`] only.
fn up_to(table: Table<'_>, parts: &ScanParts, last: &str) -> String {
    let values: Vec<String> = (0..parts.order_columns.len())
        .map(|i| format!("(SELECT _o{i} FROM {last})"))
        .collect();
    let mut conditions = parts.conditions.clone();
    conditions.push(format!(
        "{} <= {}",
        table.column(parts.order_columns[0]),
        values[0]
    ));
    conditions.push(format!("({}) <= ({})", parts.order, values.join(", ")));
    conditions.join(" AND ")
}

/// A set-based write in one statement. The rows [`picked`] takes are
/// listed first (`_p`, materialised); they are the first rows in scan
/// order, so when the scan is [`bounded`], `write` runs [`up_to`] the last
/// of them, reading the rows through the index rather than looking each
/// key up. Otherwise it joins `_p` by key (`join`: `USING` or `FROM`).
/// `head` is the write up to its `WHERE` (`DELETE FROM t`, `UPDATE t SET
/// ...`), `size` a row's size after it. With columns to return, the
/// statement returns each written row (those columns, its size), then the
/// number of candidates read; otherwise one row: how many were written,
/// their sizes summed, the number of candidates read.
fn write_picked(table: Table<'_>, picked: &str, parts: &ScanParts, write: Write<'_>) -> String {
    let (from, condition) = if parts.bounded {
        (String::new(), up_to(table, parts, "_last"))
    } else {
        (format!(" {} _p", write.join), joined(table))
    };
    let returned = returned(table, write.returning, &format!("{} AS _size", write.size));
    let answer = if write.returning.is_empty() {
        "count(*), coalesce(sum(_size), 0)::bigint, (SELECT max(_candidates) FROM _p)"
    } else {
        "_written.*, (SELECT max(_candidates) FROM _p)"
    };
    format!(
        "WITH _p AS MATERIALIZED ({picked}), \
         _last AS (SELECT * FROM _p ORDER BY _n DESC LIMIT 1), \
         _written AS ({}{from} WHERE {condition} RETURNING {returned}) \
         SELECT {answer} FROM _written",
        write.head
    )
}

/// A set-based write of a [`bounded`] scan's first `limit` rows in one
/// statement, when they fit: the scan reads `limit + 1` candidates with
/// their sizes (`_page`); when the sizes of all the candidates read add up
/// to at most the byte limit (always, without `bytes`), `write` runs
/// [`up_to`] the `limit`-th candidate (or the last, when fewer were read);
/// otherwise it writes nothing and says so, and the caller falls back to
/// [`write_picked`], which takes rows while their running sum fits. Summing
/// every candidate read, one more than can be taken, errs on the side of
/// that fallback, never of a batch past its budget. No window function and
/// no join: the statement costs little more than the write itself.
/// Parameters after the scan's: `limit + 1`, `limit`, then (with `bytes`)
/// the byte limit. The statement returns, with columns to return, each
/// written row (those columns, its size; all NULL when none was written),
/// otherwise one row (how many were written, their sizes summed); then on
/// every row the number of candidates read and whether they fit.
fn write_whole_page(
    table: Table<'_>,
    parts: &ScanParts,
    size: &str,
    bytes: bool,
    write: Write<'_>,
    params: &mut Params,
) -> String {
    let (page, order_names) = candidates(table, parts, &[], (size, bytes), params);
    let limit = params.cast("bigint");
    let fits = if bytes {
        format!("coalesce(sum(_s), 0) <= {}", params.cast("bigint"))
    } else {
        "TRUE".to_owned()
    };
    let descending: Vec<String> = order_names.iter().map(|o| format!("{o} DESC")).collect();
    let returned = returned(table, write.returning, &format!("{} AS _size", write.size));
    let answer = if write.returning.is_empty() {
        "count(_w._size), coalesce(sum(_w._size), 0)::bigint, _f._candidates, _f._fits \
         FROM _fits _f LEFT JOIN _written _w ON TRUE GROUP BY _f._candidates, _f._fits"
    } else {
        "_w.*, _f._candidates, _f._fits FROM _fits _f LEFT JOIN _written _w ON TRUE"
    };
    format!(
        "WITH _page AS MATERIALIZED ({page}), \
         _fits AS (SELECT count(*) AS _candidates, {fits} AS _fits FROM _page), \
         _last AS (SELECT {} FROM _page ORDER BY {} \
         OFFSET (SELECT (_candidates > {limit})::int FROM _fits) LIMIT 1), \
         _written AS ({} WHERE {} AND (SELECT _fits FROM _fits) RETURNING {returned}) \
         SELECT {answer}",
        order_names.join(", "),
        descending.join(", "),
        write.head,
        up_to(table, parts, "_last"),
    )
}

/// What [`write_picked`] writes.
struct Write<'a> {
    /// The statement up to its `WHERE`.
    head: String,
    /// How it joins another table: `USING` or `FROM`.
    join: &'a str,
    /// The columns to return.
    returning: &'a [usize],
    /// A row's size after the write (an SQL expression).
    size: String,
}

/// The join of the table with [`picked`]'s rows, by key.
fn joined(table: Table<'_>) -> String {
    table
        .pk
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{}.{} = _p._k{i}", table.name(), table.column(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Which statement a set-based write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum WriteForm {
    /// [`write_whole_page`]: the first `limit` rows when all the candidates
    /// fit the byte limit, else nothing (for a [`bounded`] scan only).
    WholePage,
    /// [`write_picked`]: the first rows while they fit, exactly.
    Picked,
}

impl WriteForm {
    /// How many parameters the form adds after the scan's (and before the
    /// values an `UPDATE` sets): `limit + 1`, `limit`, and with `bytes` the
    /// byte limit (and, picked, whether the first row is always taken).
    pub(super) fn params(self, bytes: bool) -> usize {
        match (self, bytes) {
            (_, false) => 2,
            (WriteForm::WholePage, true) => 3,
            (WriteForm::Picked, true) => 4,
        }
    }
}

/// The statement of `write` in `form`, its rows' sizes before the write
/// being `size` (see [`write_whole_page`] and [`write_picked`]).
fn write_in_form(
    table: Table<'_>,
    parts: &ScanParts,
    form: WriteForm,
    (size, bytes): (&str, bool),
    write: Write<'_>,
    params: &mut Params,
) -> String {
    match form {
        WriteForm::WholePage => write_whole_page(table, parts, size, bytes, write, params),
        WriteForm::Picked => {
            let rows = picked(table, parts, size, bytes, params);
            write_picked(table, &rows, parts, write)
        }
    }
}

/// `DELETE` of the rows a scan finds, in `form`: the columns `returning`
/// and the size of each row, or, with no column asked for, the rows and
/// bytes written; and the number of candidates read.
pub(super) fn delete_children(
    table: Table<'_>,
    parts: &ScanParts,
    form: WriteForm,
    returning: &[usize],
    bytes: bool,
    params: &mut Params,
) -> String {
    let size = table.size(&[]);
    let write = Write {
        head: format!("DELETE FROM {}", table.name()),
        join: "USING",
        returning,
        size: size.clone(),
    };
    write_in_form(table, parts, form, (&size, bytes), write, params)
}

/// `UPDATE` setting the columns `set` of the rows a scan finds, in `form`:
/// the columns `returning` as updated and each row's size after the
/// update, or, with no column asked for, the rows and bytes written; and
/// the number of candidates read. Parameters after the form's: the value
/// of each set column, then (with `bytes`) its size in bytes.
pub(super) fn update_children(
    table: Table<'_>,
    parts: &ScanParts,
    form: WriteForm,
    (set, returning): (&[usize], &[usize]),
    bytes: bool,
    params: &mut Params,
) -> String {
    // The rows' sizes count the written values' sizes, which come after
    // the values: number the parameters first, in that order.
    let mut later = Params(params.0 + form.params(bytes));
    let assignments: Vec<String> = set
        .iter()
        .map(|&c| format!("{} = {}", table.column(c), later.next()))
        .collect();
    let sizes: Vec<(usize, String)> = if bytes {
        set.iter().map(|&c| (c, later.cast("bigint"))).collect()
    } else {
        Vec::new()
    };
    let write = Write {
        head: format!("UPDATE {} SET {}", table.name(), assignments.join(", ")),
        join: "FROM",
        returning,
        size: table.size(&[]),
    };
    let text = write_in_form(
        table,
        parts,
        form,
        (&table.size(&sizes), bytes),
        write,
        params,
    );
    *params = later;
    text
}

/// The `RETURNING` list: the asked columns, then the size.
fn returned(table: Table<'_>, returning: &[usize], size: &str) -> String {
    if returning.is_empty() {
        size.to_owned()
    } else {
        format!("{}, {size}", table.list(returning))
    }
}

/// `SELECT` of one row by primary key.
pub(super) fn get(table: Table<'_>) -> String {
    format!(
        "SELECT {} FROM {} WHERE {}",
        table.column_list(),
        table.name(),
        table
            .equalities(table.pk, &mut Params::default())
            .join(" AND ")
    )
}

/// `SELECT` of the rows whose primary keys are in the parameter arrays
/// (one array per key column).
pub(super) fn get_many(table: Table<'_>) -> String {
    format!(
        "SELECT {} FROM {} WHERE {}",
        table.column_list(),
        table.name(),
        table.in_arrays(table.pk, &mut Params::default())
    )
}

/// `INSERT` of one row that inserts nothing (rather than failing, which
/// would abort the transaction) when a primary or unique key collides.
pub(super) fn insert(table: Table<'_>) -> String {
    let mut params = Params::default();
    let values: Vec<String> = (0..table.meta.columns.len())
        .map(|_| params.next())
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        table.name(),
        table.column_list(),
        values.join(", ")
    )
}

/// `UPDATE` of one row by its old primary key (parameters: the new row,
/// then the old key) that updates nothing, rather than failing, when the
/// new row's primary or unique key belongs to another row.
pub(super) fn update(table: Table<'_>, unique_keys: &[Vec<usize>]) -> String {
    let mut params = Params::default();
    let all: Vec<usize> = (0..table.meta.columns.len()).collect();
    let set = table.equalities(&all, &mut params);
    let old: Vec<String> = table.pk.iter().map(|_| params.next()).collect();
    let mut conditions: Vec<String> = table
        .pk
        .iter()
        .zip(&old)
        .map(|(&c, p)| format!("{} = {p}", table.column(c)))
        .collect();
    let other = format!(
        "({}) <> ({})",
        table
            .pk
            .iter()
            .map(|&c| format!("_o.{}", table.column(c)))
            .collect::<Vec<_>>()
            .join(", "),
        old.join(", ")
    );
    for key in unique_keys {
        let same: Vec<String> = key
            .iter()
            .map(|&c| format!("_o.{} = ${}", table.column(c), c + 1))
            .collect();
        conditions.push(format!(
            "NOT EXISTS (SELECT 1 FROM {} AS _o WHERE {} AND {other})",
            table.name(),
            same.join(" AND ")
        ));
    }
    format!(
        "UPDATE {} SET {} WHERE {}",
        table.name(),
        set.join(", "),
        conditions.join(" AND ")
    )
}

/// `DELETE` of one row by primary key.
pub(super) fn delete(table: Table<'_>) -> String {
    format!(
        "DELETE FROM {} WHERE {}",
        table.name(),
        table
            .equalities(table.pk, &mut Params::default())
            .join(" AND ")
    )
}

/// `DELETE` of the rows whose keys are bound as one array per key column.
pub(super) fn delete_many(table: Table<'_>) -> String {
    format!(
        "DELETE FROM {} WHERE {}",
        table.name(),
        table.in_arrays(table.pk, &mut Params::default())
    )
}

/// `SELECT` of the rows whose `columns` equal the parameters, by primary
/// key, after a key when `after`, `LIMIT` the last parameter: a filtered
/// scan, for foreign keys declared `unindexed`.
pub(super) fn scan_where(table: Table<'_>, columns: &[usize], after: bool) -> String {
    let mut params = Params::default();
    let mut conditions = table.equalities(columns, &mut params);
    if after {
        let values: Vec<String> = table.pk.iter().map(|_| params.next()).collect();
        conditions.push(format!(
            "({}) > ({})",
            table.list(table.pk),
            values.join(", ")
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    format!(
        "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {}",
        table.column_list(),
        table.name(),
        table.list(table.pk),
        params.cast("bigint")
    )
}

/// Whether `index` names one of the table's secondary indexes (its
/// position), for [`ScanShape::index`].
pub(super) fn index_position(table: &TableMeta, index: &IndexRef) -> Option<usize> {
    match index {
        IndexRef::Index(name) => table.indexes.iter().position(|i| i.name == *name),
        _ => None,
    }
}
