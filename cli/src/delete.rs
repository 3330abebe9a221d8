//! `cascadia delete`: rows deleted by primary key with cascadia's engine,
//! following the actions of the database's own foreign keys, in batched
//! mode (one transaction per budget); `--dry-run` prints what it would do.

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use cascadia::{
    Budget, Database, DeleteOptions, Explain, ExplainOptions, Key, Outcome, TableMeta, Value,
    ValueType,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::args::Format;
use crate::output::{json_key, print_json};

/// Parses the keys given on the command line for `table`: one value per
/// primary-key column, a composite key's values joined with commas.
pub fn parse_keys(table: &TableMeta, arguments: &[String]) -> Result<Vec<Key>> {
    let classes: Vec<(String, ValueType)> = table
        .primary_key
        .iter()
        .map(|name| {
            let class = table.column(name).map_or(ValueType::Text, |c| c.value_type);
            (name.to_string(), class)
        })
        .collect();
    arguments
        .iter()
        .map(|argument| {
            let parts: Vec<&str> = if classes.len() == 1 {
                vec![argument.as_str()]
            } else {
                argument.split(',').map(str::trim).collect()
            };
            if parts.len() != classes.len() {
                bail!(
                    "a key of `{}` has {} values ({}), joined with commas; got `{argument}`",
                    table.name,
                    classes.len(),
                    table.primary_key.join(", ")
                );
            }
            parts
                .iter()
                .zip(&classes)
                .map(|(part, (column, class))| parse_value(part, *class, column, &table.name))
                .collect()
        })
        .collect()
}

fn parse_value(text: &str, class: ValueType, column: &str, table: &str) -> Result<Value> {
    Ok(match class {
        ValueType::Integer => Value::Integer(text.parse().with_context(|| {
            format!("`{table}.{column}` is an integer column; `{text}` is not an integer")
        })?),
        ValueType::Real => Value::Real(text.parse().with_context(|| {
            format!("`{table}.{column}` is a real column; `{text}` is not a number")
        })?),
        ValueType::Text => Value::Text(text.to_owned()),
        ValueType::Blob => {
            bail!("`{table}.{column}` is a blob column: the CLI cannot take blob keys")
        }
    })
}

/// What `delete` does with the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Delete them now, batch after batch.
    Run,
    /// Print what the delete would do.
    DryRun,
    /// Queue a job for `cascadia worker`.
    Enqueue,
}

/// Runs `delete` (or its dry run, or queues it) on `keys` of `table`.
pub fn run(
    db: &Database,
    table: &str,
    keys: &[String],
    mode: Mode,
    budget_rows: Option<u64>,
    format: Format,
) -> Result<()> {
    let Some(meta) = db.schema().table(table) else {
        let names: Vec<&str> = db.schema().tables().map(|t| &*t.name).collect();
        bail!(
            "no table `{table}` in the database; its tables are {}",
            names.join(", ")
        );
    };
    let keys = parse_keys(meta, keys)?;
    let mut options = DeleteOptions::default();
    if let Some(rows) = budget_rows {
        options = options.budget(Budget::DEFAULT.rows_written(rows.max(1)));
    }
    if mode == Mode::Enqueue {
        let job = db
            .enqueue_delete_rows(table, &keys, &options)
            .with_context(|| format!("the delete of {table} was refused; nothing was changed"))?;
        match format {
            Format::Json => print_json(&json!({ "job": job.0 }))?,
            Format::Text => println!("job {job} queued; `cascadia worker` runs it"),
        }
        return Ok(());
    }
    let explain = db
        .explain_delete_rows(table, &keys, &ExplainOptions::default())
        .context("cannot explain the delete")?;
    if mode == Mode::DryRun {
        match format {
            Format::Json => print_json(&explain_json(table, &keys, &explain))?,
            Format::Text => print!("{}", explain_text(table, &keys, &explain)),
        }
        return Ok(());
    }
    let bar = ProgressBar::new(explain.rows_deleted() + explain.rows_updated());
    if let Ok(style) = ProgressStyle::with_template("deleting [{bar:30}] {pos}/{len} rows") {
        bar.set_style(style.progress_chars("=> "));
    }
    let observed = bar.clone();
    let options =
        options.observer(move |progress| observed.set_position(progress.outcome.rows_written()));
    let outcome = db.delete_rows(table, &keys, &options);
    bar.finish_and_clear();
    let outcome = outcome
        .with_context(|| format!("the delete of {table} was refused; nothing more was changed"))?;
    match format {
        Format::Json => print_json(&outcome_json(&outcome))?,
        Format::Text => print!("{}", outcome_text(&outcome)),
    }
    Ok(())
}

fn explain_json(table: &str, keys: &[Key], explain: &Explain) -> serde_json::Value {
    json!({
        "table": table,
        "keys": keys.iter().map(|k| json_key(k)).collect::<Vec<_>>(),
        "would_succeed": explain.would_succeed(),
        "truncated": explain.truncated,
        "single_transaction": explain.single_transaction,
        "tables": explain.tables.iter().map(|(name, counts)| {
            json!({"table": name, "deleted": counts.deleted, "updated": counts.updated})
        }).collect::<Vec<_>>(),
        "refusals": explain.refusals.iter().map(|r| {
            json!({
                "foreign_key": r.foreign_key.to_string(),
                "action": r.action.sql(),
                "table": r.table,
                "key": json_key(&r.key),
                "child_key": json_key(&r.child_key),
                "message": r.message,
            })
        }).collect::<Vec<_>>(),
    })
}

fn explain_text(table: &str, keys: &[Key], explain: &Explain) -> String {
    let mut out = String::new();
    let shown: Vec<String> = keys.iter().map(|k| cascadia::display_key(k)).collect();
    let _ = writeln!(
        out,
        "delete {table} {} would {}",
        shown.join(", "),
        if explain.would_succeed() {
            "succeed"
        } else {
            "be refused"
        }
    );
    for (name, counts) in &explain.tables {
        let _ = writeln!(
            out,
            "  {name}: {} deleted, {} updated",
            counts.deleted, counts.updated
        );
    }
    for refusal in &explain.refusals {
        let _ = writeln!(
            out,
            "  refused by {} ({}): {}",
            refusal.foreign_key, refusal.action, refusal.message
        );
    }
    if explain.truncated {
        let _ = writeln!(
            out,
            "  (counting stopped early: the counts are lower bounds)"
        );
    }
    out
}

fn outcome_json(outcome: &Outcome) -> serde_json::Value {
    json!({
        "deleted": outcome.deleted,
        "updated": outcome.updated,
        "job": outcome.job.map(|j| j.0),
    })
}

/// What a delete did, for people.
pub fn outcome_text(outcome: &Outcome) -> String {
    let mut out = String::new();
    for (name, count) in &outcome.deleted {
        let _ = writeln!(out, "{name}: {count} deleted");
    }
    for (name, count) in &outcome.updated {
        let _ = writeln!(out, "{name}: {count} updated");
    }
    if outcome.deleted.is_empty() && outcome.updated.is_empty() {
        let _ = writeln!(out, "nothing deleted");
    }
    out
}
