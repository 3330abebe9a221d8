//! DDL for SQLite: `CREATE TABLE` and `CREATE INDEX` statements from a
//! schema's metadata, and the identifier quoting every statement uses.
//!
//! Every foreign key is declared (as `CONSTRAINT "name" FOREIGN KEY ...`
//! when it has a [name](crate::ForeignKeyMeta::name)), so SQLite (with
//! `PRAGMA foreign_keys=ON`) checks what cascadia writes and `PRAGMA
//! foreign_key_check` can audit it. Without [`DdlOptions::native_actions`]
//! the keys carry no actions (SQL's default, `NO ACTION`) and are
//! `DEFERRABLE INITIALLY DEFERRED`: cascadia runs the actions itself, and
//! SQLite checks the keys at `COMMIT` — except a
//! [`native`](crate::ForeignKeyMeta::native) key, declared with its actions
//! (and deferred), since SQLite runs them. With
//! it, each key carries its `ON DELETE` / `ON UPDATE` actions, for a
//! database where SQLite runs them — the oracle of cascadia's differential
//! tests.
//!
//! Defaults: a constant [`ColumnDefault::Value`] becomes a `DEFAULT` clause.
//! A [`ColumnDefault::Computed`] (every `#[column(default = ...)]` of the
//! derive) gets none: cascadia evaluates it per row when it writes, and
//! SQLite cannot run Rust. So with `native_actions`, SQLite's own `ON DELETE
//! SET DEFAULT` matches cascadia's only for constant defaults.
//!
//! Layout: a table whose primary key is one `INTEGER` column is a rowid table
//! (`INTEGER PRIMARY KEY` aliases the rowid); any other table is `WITHOUT
//! ROWID`, so that every index holds the primary key and scans come out in
//! (index columns, primary key) order without a sort. Index `i` of table `t`
//! is named `t__i` (SQLite's index names are global to a database), or its
//! [`sql_name`](crate::IndexMeta::sql_name).

use crate::model::error::Error;
use crate::model::metadata::{ColumnDefault, TableMeta};
use crate::model::schema::Schema;
use crate::model::value::{Value, ValueType};

/// Options of [`create_statements`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DdlOptions {
    /// Declare each foreign key with its `ON DELETE` / `ON UPDATE` actions,
    /// so that SQLite runs them (default: false, cascadia runs them).
    pub native_actions: bool,
    /// Emit `IF NOT EXISTS` (default: false).
    pub if_not_exists: bool,
}

impl DdlOptions {
    /// Sets [`native_actions`](Self::native_actions).
    pub fn native_actions(mut self, native_actions: bool) -> Self {
        self.native_actions = native_actions;
        self
    }

    /// Sets [`if_not_exists`](Self::if_not_exists).
    pub fn if_not_exists(mut self, if_not_exists: bool) -> Self {
        self.if_not_exists = if_not_exists;
        self
    }
}

pub use crate::store::sql_names::{index_name, index_sql_name, quote};

/// Whether a table is stored as a rowid table: a single `INTEGER` primary-key
/// column (then the rowid itself).
pub(crate) fn is_rowid_table(table: &TableMeta) -> bool {
    match &*table.primary_key {
        [single] => table
            .column(single)
            .is_some_and(|c| c.value_type == ValueType::Integer),
        _ => false,
    }
}

/// A value as an SQL literal for a `DEFAULT` clause.
fn literal(value: &Value) -> String {
    match value {
        Value::Real(real) if real.is_infinite() => {
            if *real > 0.0 { "9e999" } else { "-9e999" }.to_owned()
        }
        Value::Real(real) if real.is_nan() => "NULL".to_owned(),
        other => other.to_string(),
    }
}

fn columns(names: &[crate::model::metadata::Name]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE TABLE` for one table.
fn create_table(table: &TableMeta, options: &DdlOptions) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let mut line = format!("  {} {}", quote(&column.name), column.value_type.sql());
            if !column.nullable {
                line.push_str(" NOT NULL");
            }
            // A computed default is evaluated by cascadia per row; SQLite gets
            // no DEFAULT for it.
            if let Some(ColumnDefault::Value(value)) = &column.default {
                line.push_str(" DEFAULT ");
                line.push_str(&literal(value));
            }
            line
        })
        .collect();
    lines.push(format!("  PRIMARY KEY ({})", columns(&table.primary_key)));
    for fk in table.foreign_keys.iter() {
        let constraint = fk
            .name
            .as_ref()
            .map(|name| format!("CONSTRAINT {} ", quote(name)))
            .unwrap_or_default();
        let mut line = format!(
            "  {constraint}FOREIGN KEY ({}) REFERENCES {} ({})",
            columns(&fk.columns),
            quote(&fk.referenced_table),
            columns(&fk.referenced_columns)
        );
        if options.native_actions {
            line.push_str(&format!(
                " ON DELETE {} ON UPDATE {}",
                fk.on_delete.sql(),
                fk.on_update.sql()
            ));
        } else if fk.native {
            // SQLite runs the actions (at once); its check of the key
            // waits for COMMIT like the others'.
            line.push_str(&format!(
                " ON DELETE {} ON UPDATE {} DEFERRABLE INITIALLY DEFERRED",
                fk.on_delete.sql(),
                fk.on_update.sql()
            ));
        } else {
            // Checked at COMMIT: cascadia's key updates and data cycles pass
            // through states a statement-level check would refuse.
            line.push_str(" DEFERRABLE INITIALLY DEFERRED");
        }
        lines.push(line);
    }
    format!(
        "CREATE TABLE {}{} (\n{}\n){}",
        if options.if_not_exists {
            "IF NOT EXISTS "
        } else {
            ""
        },
        quote(&table.name),
        lines.join(",\n"),
        if is_rowid_table(table) {
            ""
        } else {
            " WITHOUT ROWID"
        }
    )
}

/// The statements that create `schema`'s tables and indexes, tables first.
///
/// # Errors
/// [`Error::InvalidSchema`] if the schema breaks a rule.
pub fn create_statements(schema: &Schema, options: &DdlOptions) -> Result<Vec<String>, Error> {
    schema.validate()?;
    let mut statements: Vec<String> = schema
        .tables()
        .map(|table| create_table(table, options))
        .collect();
    for table in schema.tables() {
        for index in table.indexes.iter() {
            statements.push(format!(
                "CREATE {}INDEX {}{} ON {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                if options.if_not_exists {
                    "IF NOT EXISTS "
                } else {
                    ""
                },
                quote(&index_sql_name(table, index)),
                quote(&table.name),
                columns(&index.columns)
            ));
        }
    }
    Ok(statements)
}
