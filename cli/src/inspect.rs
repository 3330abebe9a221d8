//! `cascadia inspect`: the database's tables, foreign keys and indexes as
//! cascadia reads them, then the lint.

use std::fmt::Write as _;

use anyhow::Result;
use cascadia::store::sqlite::introspect::Introspection;
use cascadia::{IndexRef, Schema, TableMeta};
use serde::Serialize;

use crate::args::Format;
use crate::lint::{self, Finding};
use crate::orphans::{self, Orphans};
use crate::output::{json_value, print_json};
use crate::source::Source;

/// Everything `inspect` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The file.
    pub database: String,
    /// The tables, as cascadia's metadata.
    pub tables: Vec<TableMeta>,
    /// Each index's SQL name, by `table` then cascadia's name.
    pub index_sql_names: Vec<IndexName>,
    /// What introspection left out.
    pub notes: Vec<String>,
    /// Cycles of the table graph (each a list of tables).
    pub table_cycles: Vec<Vec<String>>,
    /// Orphans per foreign key.
    pub orphans: Vec<Orphans>,
    /// What the lint found; empty when all is well.
    pub findings: Vec<Finding>,
}

/// An index's name in cascadia and in the file.
#[derive(Debug, Serialize)]
pub struct IndexName {
    /// The table.
    pub table: String,
    /// The index's name in cascadia's metadata (a Rust identifier).
    pub name: String,
    /// The index's name in the file.
    pub sql_name: String,
}

/// Reads the database and runs the lint.
pub fn report(source: &Source, samples: usize, batch_rows: usize) -> Result<Report> {
    let conn = source.read_only()?;
    let Introspection {
        tables,
        index_sql_names,
        notes,
        ..
    } = source.introspect()?;
    let mut findings = lint::declarations(&tables);
    if let Err(error) = Schema::new(tables.clone()) {
        findings.push(Finding {
            kind: "invalid-schema",
            foreign_key: None,
            message: format!("cascadia cannot run these foreign keys as they are: {error}"),
            fix: Some("fix the findings above; `delete`, `orphans --fix` and `generate`'s output need them fixed".into()),
        });
    }
    let orphans = orphans::find_all(&conn, &tables, batch_rows, samples)?;
    findings.extend(lint::orphans(&orphans));
    findings.extend(lint::data_cycles(&conn, &tables, samples)?);
    Ok(Report {
        database: source.path.display().to_string(),
        table_cycles: lint::table_cycles(&tables),
        index_sql_names: index_sql_names
            .into_iter()
            .map(|((table, name), sql_name)| IndexName {
                table,
                name,
                sql_name,
            })
            .collect(),
        tables,
        notes,
        orphans,
        findings,
    })
}

/// Runs `inspect`; returns whether the lint found something.
pub fn run(source: &Source, format: Format, samples: usize, batch_rows: usize) -> Result<bool> {
    let report = report(source, samples, batch_rows)?;
    match format {
        Format::Json => print_json(&report)?,
        Format::Text => print!("{}", text(&report)),
    }
    Ok(!report.findings.is_empty())
}

/// The report for people.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let fks: usize = report.tables.iter().map(|t| t.foreign_keys.len()).sum();
    let indexes: usize = report.tables.iter().map(|t| t.indexes.len()).sum();
    let _ = writeln!(
        out,
        "{}: {} tables, {fks} foreign keys, {indexes} indexes",
        report.database,
        report.tables.len()
    );
    for table in &report.tables {
        let _ = writeln!(
            out,
            "\n{}  primary key ({})",
            table.name,
            table.primary_key.join(", ")
        );
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                let mut text = format!(
                    "{} {}",
                    c.name,
                    format!("{:?}", c.value_type).to_lowercase()
                );
                if !c.nullable {
                    text.push_str(" not null");
                }
                if let Some(default) = &c.default {
                    let _ = write!(text, " default {}", json_value(&default.value()));
                }
                text
            })
            .collect();
        let _ = writeln!(out, "  columns: {}", columns.join(", "));
        for index in table.indexes.iter() {
            let sql_name = report
                .index_sql_names
                .iter()
                .find(|n| n.table == *table.name && n.name == *index.name)
                .map_or(&*index.name, |n| &n.sql_name);
            let renamed = if sql_name == &*index.name {
                String::new()
            } else {
                format!(" (in the file: {sql_name})")
            };
            let _ = writeln!(
                out,
                "  {}index {}{renamed} ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index.columns.join(", ")
            );
        }
        for fk in table.foreign_keys.iter() {
            let via = match &fk.index {
                IndexRef::PrimaryKey => "the primary key".to_owned(),
                IndexRef::Index(name) => format!("index {name}"),
                IndexRef::Unindexed => "no index".to_owned(),
            };
            let _ = writeln!(
                out,
                "  foreign key ({}) → {}({}) ON DELETE {} ON UPDATE {}, found through {via}",
                fk.columns.join(", "),
                fk.referenced_table,
                fk.referenced_columns.join(", "),
                fk.on_delete,
                fk.on_update
            );
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    if !report.table_cycles.is_empty() {
        let cycles: Vec<String> = report.table_cycles.iter().map(|c| c.join(" ↔ ")).collect();
        let _ = writeln!(
            out,
            "\ntable cycles (rows may form data cycles): {}",
            cycles.join("; ")
        );
    }
    let _ = writeln!(out, "\norphans:");
    for orphans in &report.orphans {
        let _ = writeln!(out, "  {}: {}", orphans.foreign_key, orphans.count);
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nlint: nothing found");
    } else {
        let _ = writeln!(
            out,
            "\nlint: {} finding(s): {}",
            report.findings.len(),
            lint::summary(&report.findings)
        );
        for finding in &report.findings {
            let about = finding
                .foreign_key
                .as_deref()
                .map_or(String::new(), |fk| format!("{fk}: "));
            let _ = writeln!(out, "  [{}] {about}{}", finding.kind, finding.message);
            if let Some(fix) = &finding.fix {
                let _ = writeln!(out, "      fix: {fix}");
            }
        }
    }
    out
}
