//! The code-graph store, built from SQL with rusqlite: `symbols(fqn TEXT
//! PRIMARY KEY, ...)` and six tables whose foreign keys reference
//! `symbols(fqn)`, each served by an index with the project's own name
//! (`idx_edges_from`, ...), filled with a few thousand symbols and about
//! ten thousand edges, all computed from the symbol's number (no
//! randomness: every run builds the same file).
//!
//! Two variants of the same data:
//! - [`Variant::Adopted`], the file as its owners have it: the foreign keys
//!   are declared without actions, and some symbols were deleted with
//!   `PRAGMA foreign_keys = OFF`, so their edges, summaries, tags, ... are
//!   left behind as orphans.
//! - [`Variant::NativeCascade`], the oracle: every foreign key declared
//!   `ON DELETE CASCADE ON UPDATE CASCADE`, and the same symbols deleted
//!   with foreign keys on, so SQLite itself removed what referenced them.
//!
//! This file is also compiled into `cli/tests/code_graph.rs` (`#[path]`),
//! so it uses nothing but `std` and `rusqlite`.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, params};

/// Symbols in the graph.
pub const SYMBOLS: usize = 3_000;

/// The symbol every other even-numbered symbol calls: deleting it removes
/// about 1,500 edges.
pub const HUB: usize = 0;

/// The symbol the example renames: it has edges both ways and a row in
/// every other table.
pub const RENAMED: usize = 300;

/// The name it gets.
pub const NEW_NAME: &str = "graph::core::render_node";

/// The tables, `symbols` first; every foreign key references
/// `symbols(fqn)`. `{actions}` is where each foreign key's actions go.
const SCHEMA_SQL: &str = "
CREATE TABLE symbols (fqn TEXT PRIMARY KEY, kind TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL);
CREATE TABLE edges (
    id INTEGER PRIMARY KEY,
    from_fqn TEXT NOT NULL REFERENCES symbols(fqn){actions},
    to_fqn TEXT NOT NULL REFERENCES symbols(fqn){actions},
    kind TEXT
);
CREATE INDEX idx_edges_from ON edges(from_fqn);
CREATE INDEX idx_edges_to ON edges(to_fqn);
CREATE TABLE entry_points (fqn TEXT PRIMARY KEY REFERENCES symbols(fqn){actions}, reason TEXT NOT NULL);
CREATE TABLE summaries (fqn TEXT PRIMARY KEY REFERENCES symbols(fqn){actions}, text TEXT);
CREATE TABLE references_ (
    id INTEGER PRIMARY KEY,
    fqn TEXT NOT NULL REFERENCES symbols(fqn){actions},
    file TEXT NOT NULL,
    line INTEGER NOT NULL
);
CREATE INDEX idx_references_fqn_file ON references_(fqn, file);
CREATE TABLE tags (
    fqn TEXT NOT NULL REFERENCES symbols(fqn){actions},
    tag TEXT NOT NULL,
    PRIMARY KEY (fqn, tag)
);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    fqn TEXT NOT NULL REFERENCES symbols(fqn){actions},
    author TEXT,
    body TEXT NOT NULL
);
CREATE INDEX idx_annotations_fqn ON annotations(fqn);
";

/// Which copy of the store to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Foreign keys without actions; the deleted symbols' rows left behind.
    Adopted,
    /// Foreign keys `ON DELETE CASCADE ON UPDATE CASCADE`; SQLite removed
    /// the deleted symbols' rows.
    NativeCascade,
}

/// The tables' SQL for `variant`.
pub fn schema_sql(variant: Variant) -> String {
    let actions = match variant {
        Variant::Adopted => "",
        Variant::NativeCascade => " ON DELETE CASCADE ON UPDATE CASCADE",
    };
    SCHEMA_SQL.replace("{actions}", actions)
}

/// The tables with a foreign key, and its column, in schema order.
pub const FOREIGN_KEYS: [(&str, &str); 7] = [
    ("edges", "from_fqn"),
    ("edges", "to_fqn"),
    ("entry_points", "fqn"),
    ("summaries", "fqn"),
    ("references_", "fqn"),
    ("tags", "fqn"),
    ("annotations", "fqn"),
];

/// Every table, `symbols` first.
pub const TABLES: [&str; 7] = [
    "symbols",
    "edges",
    "entry_points",
    "summaries",
    "references_",
    "tags",
    "annotations",
];

/// The fully qualified name of symbol `i`.
pub fn fqn(i: usize) -> String {
    if i == HUB {
        return "core::log::debug".to_owned();
    }
    format!("crate{}::module{}::item{i}", i % 7, i % 53)
}

/// The symbols whose callees are `i`'s: three spread over the graph, and
/// the hub for every even-numbered symbol.
fn callees(i: usize) -> Vec<usize> {
    let mut out: Vec<usize> = [i * 7 + 1, i * 13 + 5, i * 31 + 11]
        .iter()
        .map(|n| n % SYMBOLS)
        .filter(|&n| n != i)
        .collect();
    if i % 2 == 0 && i != HUB {
        out.push(HUB);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The symbols deleted behind the foreign keys' back: every 97th from 13
/// (31 symbols; each table has a row that references one of them).
pub fn deleted() -> BTreeSet<usize> {
    (13..SYMBOLS).step_by(97).collect()
}

/// Rows of one table, as the builder inserts them: the referenced symbol of
/// each row's foreign key(s).
struct Plan {
    /// `(id, from, to)`.
    edges: Vec<(i64, usize, usize)>,
    entry_points: Vec<usize>,
    summaries: Vec<usize>,
    /// `(id, symbol, file number)`.
    references: Vec<(i64, usize, usize)>,
    /// `(symbol, tag)`.
    tags: Vec<(usize, &'static str)>,
    /// `(id, symbol)`.
    annotations: Vec<(i64, usize)>,
}

fn plan() -> Plan {
    let mut plan = Plan {
        edges: Vec::new(),
        entry_points: Vec::new(),
        summaries: Vec::new(),
        references: Vec::new(),
        tags: Vec::new(),
        annotations: Vec::new(),
    };
    for i in 0..SYMBOLS {
        for to in callees(i) {
            let id = plan.edges.len() as i64 + 1;
            plan.edges.push((id, i, to));
        }
        if i % 50 == 0 {
            plan.entry_points.push(i);
        }
        if i % 3 == 0 {
            plan.summaries.push(i);
        }
        if i % 4 == 0 {
            for file in [i % 11, i % 11 + 11] {
                let id = plan.references.len() as i64 + 1;
                plan.references.push((id, i, file));
            }
        }
        if i % 5 == 0 {
            plan.tags.push((i, "pub"));
        }
        if i % 10 == 0 {
            plan.tags.push((i, "hot"));
        }
        if i % 25 == 0 {
            let id = plan.annotations.len() as i64 + 1;
            plan.annotations.push((id, i));
        }
    }
    plan
}

/// Orphans per foreign key of [`FOREIGN_KEYS`], counted from the plan:
/// rows whose symbol is one of [`deleted`].
pub fn expected_orphans() -> [u64; 7] {
    let plan = plan();
    let gone = deleted();
    let count = |symbols: &mut dyn Iterator<Item = usize>| {
        symbols.filter(|s| gone.contains(s)).count() as u64
    };
    [
        count(&mut plan.edges.iter().map(|e| e.1)),
        count(&mut plan.edges.iter().map(|e| e.2)),
        count(&mut plan.entry_points.iter().copied()),
        count(&mut plan.summaries.iter().copied()),
        count(&mut plan.references.iter().map(|r| r.1)),
        count(&mut plan.tags.iter().map(|t| t.0)),
        count(&mut plan.annotations.iter().map(|a| a.1)),
    ]
}

/// Rows that reference a deleted symbol, each counted once (an edge from
/// one deleted symbol to another is one row): what the clean-up deletes.
pub fn expected_orphan_rows() -> u64 {
    let plan = plan();
    let gone = deleted();
    let edges = plan
        .edges
        .iter()
        .filter(|e| gone.contains(&e.1) || gone.contains(&e.2))
        .count() as u64;
    let others: u64 = expected_orphans()[2..].iter().sum();
    edges + others
}

/// Edges from or to `symbol` once the orphans are cleaned up (the edges
/// that reference a [`deleted`] symbol left out).
pub fn edges_of(symbol: usize) -> u64 {
    let gone = deleted();
    plan()
        .edges
        .iter()
        .filter(|e| !gone.contains(&e.1) && !gone.contains(&e.2))
        .filter(|e| e.1 == symbol || e.2 == symbol)
        .count() as u64
}

/// Builds the store at `path` (which must not exist).
pub fn build(path: &Path, variant: Variant) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    // The bundled SQLite enforces foreign keys by default; the rows go in
    // before every symbol they reference does.
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    conn.execute_batch(&schema_sql(variant))?;
    let plan = plan();
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO symbols VALUES (?1, ?2, ?3, ?4)")?;
        for i in 0..SYMBOLS {
            let kind = ["fn", "struct", "trait", "impl"][i % 4];
            let file = format!("src/module{}.rs", i % 53);
            insert.execute(params![fqn(i), kind, file, (i % 400 + 1) as i64])?;
        }
        let mut insert = tx.prepare("INSERT INTO edges VALUES (?1, ?2, ?3, ?4)")?;
        for &(id, from, to) in &plan.edges {
            let kind = if to == HUB { "logs" } else { "calls" };
            insert.execute(params![id, fqn(from), fqn(to), kind])?;
        }
        let mut insert = tx.prepare("INSERT INTO entry_points VALUES (?1, ?2)")?;
        for &i in &plan.entry_points {
            insert.execute(params![fqn(i), format!("exported from crate{}", i % 7)])?;
        }
        let mut insert = tx.prepare("INSERT INTO summaries VALUES (?1, ?2)")?;
        for &i in &plan.summaries {
            insert.execute(params![fqn(i), format!("summary of symbol {i}")])?;
        }
        let mut insert = tx.prepare("INSERT INTO references_ VALUES (?1, ?2, ?3, ?4)")?;
        for &(id, i, file) in &plan.references {
            insert.execute(params![id, fqn(i), format!("src/use{file}.rs"), id % 300])?;
        }
        let mut insert = tx.prepare("INSERT INTO tags VALUES (?1, ?2)")?;
        for &(i, tag) in &plan.tags {
            insert.execute(params![fqn(i), tag])?;
        }
        let mut insert = tx.prepare("INSERT INTO annotations VALUES (?1, ?2, ?3, ?4)")?;
        for &(id, i) in &plan.annotations {
            let author = (id % 3 != 0).then(|| format!("dev{}", id % 5));
            insert.execute(params![id, fqn(i), author, format!("note {id}")])?;
        }
    }
    tx.commit()?;
    // The deletions: behind the foreign keys' back in the adopted file, by
    // SQLite's own cascade in the oracle.
    let on = match variant {
        Variant::Adopted => "OFF",
        Variant::NativeCascade => "ON",
    };
    conn.execute_batch(&format!("PRAGMA foreign_keys = {on};"))?;
    let tx = conn.transaction()?;
    {
        let mut delete = tx.prepare("DELETE FROM symbols WHERE fqn = ?1")?;
        for i in deleted() {
            delete.execute([fqn(i)])?;
        }
    }
    tx.commit()
}

/// Every row of every table, as text, in primary-key order: two stores
/// hold the same data exactly when their dumps are equal.
pub fn dump(path: &Path) -> rusqlite::Result<Vec<String>> {
    let conn = Connection::open(path)?;
    let mut out = Vec::new();
    for table in TABLES {
        let mut statement = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))?;
        let width = statement.column_count();
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut line = String::from(table);
            for i in 0..width {
                let value: rusqlite::types::Value = row.get(i)?;
                line.push_str(&format!(" | {value:?}"));
            }
            out.push(line);
        }
    }
    Ok(out)
}

/// Rows of `table` whose `column` is `fqn`.
pub fn rows_referencing(
    conn: &Connection,
    table: &str,
    column: &str,
    fqn: &str,
) -> rusqlite::Result<u64> {
    conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE {column} = ?1"),
        [fqn],
        |row| row.get::<_, i64>(0).map(|n| n as u64),
    )
}
