//! Orphans: rows whose foreign key (no column NULL, MATCH SIMPLE) names no
//! row of the referenced table; finding them page by page, and cleaning
//! them up in bounded batches.
//!
//! The search reads the child table in primary-key order, `batch_rows` rows
//! per query, and looks each row's parent up through the parent's primary
//! key or unique index (a referenced key always has one), so no query reads
//! more than a page of the child.

use anyhow::{Context, Result, bail};
use cascadia::{
    Budget, Database, DeleteOptions, ForeignKeyMeta, Key, Schema, TableMeta, Value, display_key,
};
use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::Connection;
use serde::Serialize;

use crate::output::{json_key, quote};

/// The orphans of one foreign key.
#[derive(Debug, Clone, Serialize)]
pub struct Orphans {
    /// The foreign key, as `child(columns) → parent(columns)`.
    pub foreign_key: String,
    /// The child table.
    pub table: String,
    /// Rows whose key references no row.
    pub count: u64,
    /// Primary keys of the first orphans.
    #[serde(serialize_with = "json_keys")]
    pub samples: Vec<Key>,
}

fn json_keys<S: serde::Serializer>(keys: &[Key], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(keys.iter().map(|key| json_key(key)))
}

impl Orphans {
    /// The samples for people: `1, 2, (3, 'a')`.
    pub fn samples_text(&self) -> String {
        let keys: Vec<String> = self.samples.iter().map(|key| display_key(key)).collect();
        keys.join(", ")
    }
}

/// `child(columns) → parent(columns)`.
pub fn describe(table: &TableMeta, fk: &ForeignKeyMeta) -> String {
    format!(
        "{}({}) → {}({})",
        table.name,
        fk.columns.join(", "),
        fk.referenced_table,
        fk.referenced_columns.join(", ")
    )
}

/// The condition, on the child aliased `c`, that a row is an orphan.
fn orphan_condition(fk: &ForeignKeyMeta) -> String {
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", quote(c)))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .zip(fk.referenced_columns.iter())
        .map(|(c, p)| format!("p.{} = c.{}", quote(p), quote(c)))
        .collect();
    format!(
        "{} AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {})",
        not_null.join(" AND "),
        quote(&fk.referenced_table),
        matches.join(" AND ")
    )
}

fn primary_key_list(table: &TableMeta) -> String {
    let columns: Vec<String> = table
        .primary_key
        .iter()
        .map(|c| format!("c.{}", quote(c)))
        .collect();
    columns.join(", ")
}

/// A progress bar over `total` rows of `table`, drawn on stderr when it is
/// a terminal.
fn progress(total: u64, message: String) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// Finds the orphans of `fk` (declared on `table`), reading `batch_rows`
/// child rows per query and keeping the first `samples` keys.
pub fn find(
    conn: &Connection,
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    batch_rows: usize,
    samples: usize,
) -> Result<Orphans> {
    let batch_rows = batch_rows.max(1);
    let key_width = table.primary_key.len();
    let pk = primary_key_list(table);
    let first = format!(
        "SELECT {pk}, {cond} FROM {t} AS c ORDER BY {pk} LIMIT {batch_rows}",
        cond = orphan_condition(fk),
        t = quote(&table.name),
    );
    let placeholders: Vec<String> = (1..=key_width).map(|i| format!("?{i}")).collect();
    let next = format!(
        "SELECT {pk}, {cond} FROM {t} AS c WHERE ({pk}) > ({params}) ORDER BY {pk} LIMIT {batch_rows}",
        cond = orphan_condition(fk),
        t = quote(&table.name),
        params = placeholders.join(", "),
    );
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {}", quote(&table.name)),
        [],
        |row| row.get(0),
    )?;
    let total = u64::try_from(total).unwrap_or(0);
    let bar = progress(total, describe(table, fk));
    let mut report = Orphans {
        foreign_key: describe(table, fk),
        table: table.name.to_string(),
        count: 0,
        samples: Vec::new(),
    };
    let mut last: Option<Key> = None;
    loop {
        let mut page: Vec<(Key, bool)> = Vec::new();
        {
            let mut statement = match &last {
                None => conn.prepare_cached(&first)?,
                Some(_) => conn.prepare_cached(&next)?,
            };
            let params: Vec<&dyn rusqlite::ToSql> = match &last {
                None => Vec::new(),
                Some(key) => key.iter().map(|v| v as &dyn rusqlite::ToSql).collect(),
            };
            let mut rows = statement.query(params.as_slice())?;
            while let Some(row) = rows.next()? {
                let key: Key = (0..key_width)
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<_>>()?;
                let orphan: Option<bool> = row.get(key_width)?;
                page.push((key, orphan.unwrap_or(false)));
            }
        }
        bar.inc(page.len() as u64);
        let full = page.len() == batch_rows;
        for (key, orphan) in &page {
            if *orphan {
                report.count += 1;
                if report.samples.len() < samples {
                    report.samples.push(key.clone());
                }
            }
        }
        match page.pop() {
            Some((key, _)) if full => last = Some(key),
            _ => break,
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// The orphans of every foreign key of `tables`, in table order.
pub fn find_all(
    conn: &Connection,
    tables: &[TableMeta],
    batch_rows: usize,
    samples: usize,
) -> Result<Vec<Orphans>> {
    let mut found = Vec::new();
    for table in tables {
        for fk in table.foreign_keys.iter() {
            // An FK to a missing table or column is reported by the schema
            // check, not here.
            if find_target(tables, fk).is_none() {
                continue;
            }
            found.push(
                find(conn, table, fk, batch_rows, samples).with_context(|| {
                    format!("cannot look for orphans of {}", describe(table, fk))
                })?,
            );
        }
    }
    Ok(found)
}

fn find_target<'a>(tables: &'a [TableMeta], fk: &ForeignKeyMeta) -> Option<&'a TableMeta> {
    let parent = tables.iter().find(|t| t.name == fk.referenced_table)?;
    fk.referenced_columns
        .iter()
        .all(|c| parent.column(c).is_some())
        .then_some(parent)
}

/// The keys of the first `limit` orphans of `fk`.
fn first_orphans(
    conn: &Connection,
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    limit: usize,
) -> Result<Vec<Key>> {
    let sql = format!(
        "SELECT {pk} FROM {t} AS c WHERE {cond} ORDER BY {pk} LIMIT {limit}",
        pk = primary_key_list(table),
        t = quote(&table.name),
        cond = orphan_condition(fk),
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([])?;
    let mut keys = Vec::new();
    while let Some(row) = rows.next()? {
        keys.push(
            (0..table.primary_key.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Key>>()?,
        );
    }
    Ok(keys)
}

/// Deletes the orphans of `fk` with cascadia's engine, `batch_rows` roots
/// per delete and at most `batch_rows` rows written per transaction; the
/// actions of the foreign keys that reference them run as declared.
/// Returns the rows deleted per table.
pub fn delete(
    conn: &Connection,
    db: &Database,
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    batch_rows: usize,
) -> Result<Vec<(String, u64)>> {
    let mut deleted: std::collections::BTreeMap<String, u64> = Default::default();
    let options =
        DeleteOptions::default().budget(Budget::DEFAULT.rows_written(batch_rows.max(1) as u64));
    loop {
        let keys = first_orphans(conn, table, fk, batch_rows.max(1))?;
        if keys.is_empty() {
            break;
        }
        let outcome = db
            .delete_rows(&table.name, &keys, &options)
            .with_context(|| format!("cannot delete the orphans of {}", describe(table, fk)))?;
        if outcome.rows_deleted(&table.name) == 0 {
            bail!(
                "deleting the orphans of {} deleted none of them; delete them by hand",
                describe(table, fk)
            );
        }
        for (name, count) in &outcome.deleted {
            *deleted.entry(name.to_string()).or_default() += count;
        }
    }
    Ok(deleted.into_iter().collect())
}

/// Sets the columns of `fk` to NULL in its orphans, `batch_rows` rows per
/// transaction. Refused when a column is NOT NULL, or is referenced by
/// another foreign key (a key change would need that key's actions).
pub fn set_null(
    conn: &mut Connection,
    schema: &Schema,
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    batch_rows: usize,
) -> Result<u64> {
    if let Some(column) = fk
        .columns
        .iter()
        .find(|c| table.column(c).is_some_and(|c| !c.nullable))
    {
        bail!(
            "cannot set `{}.{column}` to NULL: the column is NOT NULL; use --fix delete",
            table.name
        );
    }
    for incoming in schema.incoming(&table.name) {
        if let Some(column) = incoming
            .meta
            .referenced_columns
            .iter()
            .find(|c| fk.columns.contains(c))
        {
            bail!(
                "cannot set `{}.{column}` to NULL: {} references it; use --fix delete",
                table.name,
                describe(incoming.table, incoming.meta)
            );
        }
    }
    let assignments: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("{} = NULL", quote(c)))
        .collect();
    let pk: Vec<String> = table.primary_key.iter().map(|c| quote(c)).collect();
    let sql = format!(
        "UPDATE {t} SET {set} WHERE ({pk}) IN (SELECT {cpk} FROM {t} AS c WHERE {cond} LIMIT {limit})",
        t = quote(&table.name),
        set = assignments.join(", "),
        pk = pk.join(", "),
        cpk = primary_key_list(table),
        cond = orphan_condition(fk),
        limit = batch_rows.max(1),
    );
    let mut updated = 0;
    loop {
        let tx = conn.transaction()?;
        let changed = tx.execute(&sql, [])?;
        tx.commit()?;
        if changed == 0 {
            break;
        }
        updated += changed as u64;
    }
    Ok(updated)
}
