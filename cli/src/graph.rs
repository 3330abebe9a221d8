//! `cascadia graph`: the foreign-key graph of the database, in Mermaid or
//! Graphviz DOT, drawn from the tables as read (so a database that cascadia
//! cannot run yet still gets its graph). Each edge goes from the child to
//! the parent and is labelled with the columns and both actions.

use std::fmt::Write as _;

use cascadia::{ForeignKeyMeta, TableMeta};

use crate::args::GraphFormat;

fn label(fk: &ForeignKeyMeta, line_break: &str) -> String {
    format!(
        "{} → {}{line_break}ON DELETE {}{line_break}ON UPDATE {}",
        fk.columns.join(", "),
        fk.referenced_columns.join(", "),
        fk.on_delete,
        fk.on_update
    )
}

/// The graph of `tables` in `format`.
pub fn render(tables: &[TableMeta], format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => mermaid(tables),
        GraphFormat::Dot => dot(tables),
    }
}

fn mermaid(tables: &[TableMeta]) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "#quot;"));
    let mut out = String::from("flowchart LR\n");
    for (id, table) in tables.iter().enumerate() {
        let _ = writeln!(out, "  t{id}[{}]", quote(&table.name));
    }
    for (child, table) in tables.iter().enumerate() {
        for fk in table.foreign_keys.iter() {
            let Some(parent) = tables.iter().position(|t| t.name == fk.referenced_table) else {
                continue;
            };
            let _ = writeln!(
                out,
                "  t{child} -->|{}| t{parent}",
                quote(&label(fk, "<br/>"))
            );
        }
    }
    out
}

fn dot(tables: &[TableMeta]) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph schema {\n  rankdir=LR;\n  node [shape=box];\n");
    for table in tables {
        let _ = writeln!(
            out,
            "  {} [label={}];",
            quote(&table.name),
            quote(&format!(
                "{}\nPK ({})",
                table.name,
                table.primary_key.join(", ")
            ))
            .replace('\n', "\\n")
        );
    }
    for table in tables {
        for fk in table.foreign_keys.iter() {
            let _ = writeln!(
                out,
                "  {} -> {} [label={}];",
                quote(&table.name),
                quote(&fk.referenced_table),
                quote(&label(fk, "\n")).replace('\n', "\\n")
            );
        }
    }
    out.push_str("}\n");
    out
}
