//! `cascadia orphans`: the orphans per foreign key, and with `--fix` their
//! clean-up in bounded batches (`--batch-rows` rows per transaction).

use std::fmt::Write as _;

use anyhow::{Context, Result};
use rusqlite::Connection;
use serde_json::json;

use crate::args::{Fix, Format};
use crate::orphans::{self, Orphans};
use crate::output::print_json;
use crate::source::Source;

/// What the clean-up of one foreign key's orphans did.
struct Fixed {
    foreign_key: String,
    /// Rows deleted per table (a delete's cascades included).
    deleted: Vec<(String, u64)>,
    /// Rows whose foreign key was set to NULL.
    nulled: u64,
}

/// Runs `orphans`; returns whether orphans remain (exit code 1).
pub fn run(
    source: &Source,
    fix: Option<Fix>,
    dry_run: bool,
    batch_rows: usize,
    format: Format,
) -> Result<bool> {
    let tables = source.introspect()?.tables;
    let found = {
        let conn = source.read_only()?;
        orphans::find_all(&conn, &tables, batch_rows, 5)?
    };
    let mut fixed = Vec::new();
    if let (Some(fix), false) = (fix, dry_run) {
        let schema = source.schema()?;
        let read = source.read_only()?;
        let database = match fix {
            Fix::Delete => Some(source.database()?),
            Fix::SetNull => None,
        };
        let mut write = match fix {
            Fix::SetNull => {
                let conn = Connection::open(&source.path)
                    .with_context(|| format!("cannot open `{}`", source.path.display()))?;
                // Only the FK's own columns change, to NULL: no check or
                // native action is due, and other orphans stay as they are.
                conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
                Some(conn)
            }
            Fix::Delete => None,
        };
        for table in schema.tables() {
            for fk in table.foreign_keys.iter() {
                let name = orphans::describe(table, fk);
                if !found.iter().any(|o| o.foreign_key == name && o.count > 0) {
                    continue;
                }
                let mut done = Fixed {
                    foreign_key: name,
                    deleted: Vec::new(),
                    nulled: 0,
                };
                if let Some(db) = &database {
                    done.deleted = orphans::delete(&read, db, table, fk, batch_rows)?;
                }
                if let Some(conn) = write.as_mut() {
                    done.nulled = orphans::set_null(conn, &schema, table, fk, batch_rows)?;
                }
                fixed.push(done);
            }
        }
    }
    let remaining: u64 = if fixed.is_empty() {
        found.iter().map(|o| o.count).sum()
    } else {
        let conn = source.read_only()?;
        orphans::find_all(&conn, &tables, batch_rows, 0)?
            .iter()
            .map(|o| o.count)
            .sum()
    };
    match format {
        Format::Json => print_json(&json!({
            "orphans": found,
            "fix": fix.map(|f| match f { Fix::Delete => "delete", Fix::SetNull => "set-null" }),
            "dry_run": dry_run,
            "fixed": fixed.iter().map(|f| json!({
                "foreign_key": f.foreign_key,
                "deleted": f.deleted.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
                "set_null": f.nulled,
            })).collect::<Vec<_>>(),
            "remaining": remaining,
        }))?,
        Format::Text => print!("{}", text(&found, fix, dry_run, &fixed, remaining)),
    }
    Ok(remaining > 0)
}

fn text(
    found: &[Orphans],
    fix: Option<Fix>,
    dry_run: bool,
    fixed: &[Fixed],
    remaining: u64,
) -> String {
    let mut out = String::new();
    for orphans in found {
        let _ = write!(out, "{}: {} orphan(s)", orphans.foreign_key, orphans.count);
        if orphans.count > 0 {
            let _ = write!(out, ", first: {}", orphans.samples_text());
            if dry_run {
                let _ = write!(
                    out,
                    " — would {}",
                    match fix {
                        Some(Fix::SetNull) => "set the foreign key to NULL in them",
                        _ =>
                            "delete them, running the actions of the foreign keys that reference them",
                    }
                );
            }
        }
        out.push('\n');
    }
    for done in fixed {
        for (table, rows) in &done.deleted {
            let _ = writeln!(
                out,
                "fixed {}: {rows} row(s) of {table} deleted",
                done.foreign_key
            );
        }
        if done.nulled > 0 {
            let _ = writeln!(
                out,
                "fixed {}: {} row(s) set to NULL",
                done.foreign_key, done.nulled
            );
        }
    }
    let _ = writeln!(out, "{remaining} orphan(s) remain");
    out
}
