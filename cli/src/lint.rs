//! The lint of `cascadia inspect`: what in a database's foreign keys makes
//! deletes slow, wrong or impossible, each with how to fix it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use cascadia::{Action, ForeignKeyMeta, IndexRef, TableMeta, Value};
use rusqlite::Connection;
use serde::Serialize;

use crate::orphans::{Orphans, describe};
use crate::output::quote;

/// Longest chain of self-references followed while looking for data
/// cycles: a cycle longer than this is not found.
const MAX_CHAIN: u32 = 1_000;

/// One thing the lint found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind of problem: `unindexed-foreign-key`, `index-not-prefix`,
    /// `orphans`, `data-cycle`, `set-null-on-not-null`,
    /// `set-default-without-default`, `missing-target`, `invalid-schema`.
    pub kind: &'static str,
    /// The foreign key it is about, if any.
    pub foreign_key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it: a statement to run, or what to change.
    pub fix: Option<String>,
}

/// The findings about each foreign key's declaration (no data read).
pub fn declarations(tables: &[TableMeta]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in tables {
        for fk in table.foreign_keys.iter() {
            let name = describe(table, fk);
            target(tables, table, fk, &name, &mut findings);
            index(table, fk, &name, &mut findings);
            actions(table, fk, &name, &mut findings);
        }
    }
    findings
}

// REFERENCES missing(id), or missing columns of an existing table
fn target(
    tables: &[TableMeta],
    _: &TableMeta,
    fk: &ForeignKeyMeta,
    name: &str,
    out: &mut Vec<Finding>,
) {
    let Some(parent) = tables.iter().find(|t| t.name == fk.referenced_table) else {
        out.push(Finding {
            kind: "missing-target",
            foreign_key: Some(name.to_owned()),
            message: format!(
                "the referenced table `{}` does not exist",
                fk.referenced_table
            ),
            fix: Some(
                "create the table, or drop the foreign key (SQLite needs a table rebuild)".into(),
            ),
        });
        return;
    };
    let is_key = parent.unique_keys().any(|key| {
        let key: BTreeSet<&str> = key.iter().map(|c| &**c).collect();
        let referenced: BTreeSet<&str> = fk.referenced_columns.iter().map(|c| &**c).collect();
        key == referenced
    });
    if !is_key {
        out.push(Finding {
            kind: "missing-target",
            foreign_key: Some(name.to_owned()),
            message: format!(
                "the referenced columns ({}) are not the primary key or a unique key of `{}`",
                fk.referenced_columns.join(", "),
                parent.name
            ),
            fix: Some(format!(
                "CREATE UNIQUE INDEX {} ON {} ({});",
                quote(&format!(
                    "{}__by_{}",
                    parent.name,
                    fk.referenced_columns.join("_")
                )),
                quote(&parent.name),
                quoted_list(&fk.referenced_columns)
            )),
        });
    }
}

fn quoted_list(columns: &[cascadia::metadata::Name]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

// FOREIGN KEY (team_id) REFERENCES teams with no index starting with team_id
fn index(table: &TableMeta, fk: &ForeignKeyMeta, name: &str, out: &mut Vec<Finding>) {
    if fk.index != IndexRef::Unindexed {
        return;
    }
    out.push(Finding {
        kind: "unindexed-foreign-key",
        foreign_key: Some(name.to_owned()),
        message: format!(
            "no index of `{}` starts with ({}): each delete or key update of `{}` scans `{}`",
            table.name,
            fk.columns.join(", "),
            fk.referenced_table,
            table.name
        ),
        fix: Some(format!(
            "CREATE INDEX {} ON {} ({});",
            quote(&format!("{}__by_{}", table.name, fk.columns.join("_"))),
            quote(&table.name),
            quoted_list(&fk.columns)
        )),
    });
    // An index (b, a) has the FK's columns (a) but not first.
    let wanted: BTreeSet<&str> = fk.columns.iter().map(|c| &**c).collect();
    let candidates = std::iter::once(("the primary key".to_owned(), &*table.primary_key)).chain(
        table
            .indexes
            .iter()
            .map(|index| (format!("index `{}`", index.name), &*index.columns)),
    );
    for (label, columns) in candidates {
        let has: BTreeSet<&str> = columns.iter().map(|c| &**c).collect();
        if wanted.is_subset(&has) {
            out.push(Finding {
                kind: "index-not-prefix",
                foreign_key: Some(name.to_owned()),
                message: format!(
                    "{label} ({}) has the foreign key's columns, but not as its first columns, so it cannot serve it",
                    columns.join(", ")
                ),
                fix: Some("reorder the index's columns, or add the index above".into()),
            });
        }
    }
}

// ON DELETE SET NULL on a NOT NULL column; SET DEFAULT on a column without DEFAULT
fn actions(table: &TableMeta, fk: &ForeignKeyMeta, name: &str, out: &mut Vec<Finding>) {
    for (event, action) in [("ON DELETE", fk.on_delete), ("ON UPDATE", fk.on_update)] {
        for column in fk.columns.iter() {
            let Some(meta) = table.column(column) else {
                continue;
            };
            if action == Action::SetNull && !meta.nullable {
                out.push(Finding {
                    kind: "set-null-on-not-null",
                    foreign_key: Some(name.to_owned()),
                    message: format!("{event} SET NULL, but `{}.{column}` is NOT NULL: the action always fails", table.name),
                    fix: Some("make the column nullable, or choose another action (SQLite needs a table rebuild)".into()),
                });
            }
            let no_default = meta
                .default
                .as_ref()
                .is_none_or(|d| d.value() == Value::Null);
            if action == Action::SetDefault && no_default {
                out.push(Finding {
                    kind: "set-default-without-default",
                    foreign_key: Some(name.to_owned()),
                    message: format!("{event} SET DEFAULT, but `{}.{column}` has no default (it would be set to NULL)", table.name),
                    fix: Some("give the column a DEFAULT that names an existing row, or use SET NULL".into()),
                });
            }
        }
    }
}

/// A finding for each foreign key with orphans.
pub fn orphans(found: &[Orphans]) -> Vec<Finding> {
    found
        .iter()
        .filter(|o| o.count > 0)
        .map(|o| Finding {
            kind: "orphans",
            foreign_key: Some(o.foreign_key.clone()),
            message: format!(
                "{} row(s) of `{}` reference no row; first: {}",
                o.count,
                o.table,
                o.samples_text()
            ),
            fix: Some("cascadia orphans DB --fix delete (or --fix set-null)".into()),
        })
        .collect()
}

/// The cycles of the foreign-key graph between tables (a self-reference is
/// a cycle of one table), each as its tables' names: only on such a cycle
/// can rows form a data cycle.
pub fn table_cycles(tables: &[TableMeta]) -> Vec<Vec<String>> {
    // Strongly connected components (Tarjan's algorithm, iterative
    // enough for schemas: recursion depth is at most the table count).
    let names: Vec<&str> = tables.iter().map(|t| &*t.name).collect();
    let edges: Vec<Vec<usize>> = tables
        .iter()
        .map(|t| {
            t.foreign_keys
                .iter()
                .filter_map(|fk| names.iter().position(|n| *n == fk.referenced_table))
                .collect()
        })
        .collect();
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(v: usize, edges: &[Vec<usize>], s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &edges[v] {
            match s.index[w] {
                None => {
                    visit(w, edges, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(index) if s.on_stack[w] => s.low[v] = s.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let n = tables.len();
    let mut state = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(v, &edges, &mut state);
        }
    }
    let mut cycles: Vec<Vec<String>> = state
        .components
        .into_iter()
        .filter(|c| c.len() > 1 || edges[c[0]].contains(&c[0]))
        .map(|c| {
            let mut names: Vec<String> = c.into_iter().map(|i| names[i].to_owned()).collect();
            names.sort();
            names
        })
        .collect();
    cycles.sort();
    cycles
}

/// Rows that reference themselves through a chain of one single-column
/// self-referencing foreign key (`employee.reports_to → employee`), per
/// such key: a finding each, with the first rows on a cycle. Cycles through
/// several tables are not searched: [`table_cycles`] names the tables.
pub fn data_cycles(
    conn: &Connection,
    tables: &[TableMeta],
    samples: usize,
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for table in tables {
        for fk in table.foreign_keys.iter() {
            if fk.referenced_table != table.name || fk.columns.len() != 1 {
                continue;
            }
            let (column, referenced) = (quote(&fk.columns[0]), quote(&fk.referenced_columns[0]));
            let t = quote(&table.name);
            let sql = format!(
                "WITH RECURSIVE walk(start, cur, depth) AS (
                   SELECT c.{referenced}, c.{column}, 1 FROM {t} AS c WHERE c.{column} IS NOT NULL
                   UNION ALL
                   SELECT w.start, c.{column}, w.depth + 1 FROM walk AS w JOIN {t} AS c ON c.{referenced} = w.cur
                   WHERE c.{column} IS NOT NULL AND w.cur IS NOT w.start AND w.depth < {MAX_CHAIN}
                 )
                 SELECT DISTINCT start FROM walk WHERE cur = start ORDER BY start"
            );
            let mut statement = conn.prepare(&sql)?;
            let starts: Vec<Value> = statement
                .query_map([], |row| row.get::<_, Value>(0))?
                .collect::<rusqlite::Result<_>>()?;
            if starts.is_empty() {
                continue;
            }
            let shown: Vec<String> = starts
                .iter()
                .take(samples)
                .map(ToString::to_string)
                .collect();
            let consequence = match fk.on_delete {
                Action::Cascade => "deleting any of them deletes its whole cycle",
                Action::Restrict | Action::NoAction => {
                    "none of them can be deleted until its cycle is broken"
                }
                Action::SetNull | Action::SetDefault => {
                    "a delete breaks the cycle by its ON DELETE action"
                }
            };
            findings.push(Finding {
                kind: "data-cycle",
                foreign_key: Some(describe(table, fk)),
                message: format!(
                    "{} row(s) of `{}` are on a cycle of references (first: {}): {consequence}",
                    starts.len(),
                    table.name,
                    shown.join(", ")
                ),
                fix: Some(format!(
                    "set `{}` to NULL in one row of each cycle",
                    fk.columns[0]
                )),
            });
        }
    }
    Ok(findings)
}

/// Counts of findings per kind, for the summary line.
pub fn summary(findings: &[Finding]) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *kinds.entry(finding.kind).or_default() += 1;
    }
    kinds
        .into_iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect::<Vec<_>>()
        .join(", ")
}
