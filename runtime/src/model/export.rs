//! Exports of a [`Schema`]: JSON (serde), Graphviz DOT and Mermaid, each with
//! the actions on every foreign-key edge.

use std::fmt::Write as _;

use crate::model::schema::Schema;

/// Escapes a string for a double-quoted DOT identifier or label.
fn dot_quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Escapes a string for a double-quoted Mermaid label.
fn mermaid_quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "#quot;"))
}

/// A key's constraint name and a line break, or nothing.
fn constraint(meta: &crate::model::metadata::ForeignKeyMeta, line_break: &str) -> String {
    meta.name
        .as_ref()
        .map(|name| format!("{name}{line_break}"))
        .unwrap_or_default()
}

impl Schema {
    /// The schema as pretty-printed JSON: `{"tables": [...]}`, each table as
    /// its [`TableMeta`](crate::TableMeta) serialises (defaults as their
    /// current value). [`serde_json::from_str`] of the result gives the
    /// schema back, validated.
    pub fn to_json(&self) -> String {
        // Serialising plain data to a String cannot fail; fall back to an
        // empty object rather than panic.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The foreign-key graph in Graphviz DOT: one node per table (labelled
    /// with its primary key), one edge per foreign key from the child to the
    /// parent, labelled `columns → referenced columns` and both actions
    /// (after the constraint's name, if any; with "run by the database" for
    /// a [`native`](crate::ForeignKeyMeta::native) key).
    ///
    /// Render with `dot -Tsvg`.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph schema {\n  rankdir=LR;\n  node [shape=box];\n");
        for table in self.tables() {
            let label = format!("{}\\nPK ({})", table.name, table.primary_key.join(", "));
            let _ = writeln!(
                out,
                "  {} [label=\"{}\"];",
                dot_quote(&table.name),
                label.replace('"', "\\\"")
            );
        }
        for fk in self.foreign_keys() {
            let meta = fk.meta;
            let label = format!(
                "{}{} → {}\\nON DELETE {}\\nON UPDATE {}{}",
                constraint(meta, "\\n"),
                meta.columns.join(", "),
                meta.referenced_columns.join(", "),
                meta.on_delete.sql(),
                meta.on_update.sql(),
                if meta.native {
                    "\\nrun by the database"
                } else {
                    ""
                }
            );
            let _ = writeln!(
                out,
                "  {} -> {} [label=\"{}\"];",
                dot_quote(&fk.table.name),
                dot_quote(&meta.referenced_table),
                label.replace('"', "\\\"")
            );
        }
        out.push_str("}\n");
        out
    }

    /// The foreign-key graph as a Mermaid flowchart: one node per table, one
    /// edge per foreign key from the child to the parent, labelled
    /// `columns → referenced columns` and both actions, as in
    /// [`to_dot`](Self::to_dot).
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let tables: Vec<_> = self.tables().collect();
        for (id, table) in tables.iter().enumerate() {
            let _ = writeln!(out, "  t{id}[{}]", mermaid_quote(&table.name));
        }
        for fk in self.foreign_keys() {
            let child = tables.iter().position(|t| t.name == fk.table.name);
            let parent = tables
                .iter()
                .position(|t| t.name == fk.meta.referenced_table);
            let (Some(child), Some(parent)) = (child, parent) else {
                continue;
            };
            let label = format!(
                "{}{} → {}<br/>ON DELETE {}<br/>ON UPDATE {}{}",
                constraint(fk.meta, "<br/>"),
                fk.meta.columns.join(", "),
                fk.meta.referenced_columns.join(", "),
                fk.meta.on_delete.sql(),
                fk.meta.on_update.sql(),
                if fk.meta.native {
                    "<br/>run by the database"
                } else {
                    ""
                }
            );
            let _ = writeln!(out, "  t{child} -->|{}| t{parent}", mermaid_quote(&label));
        }
        out
    }
}
