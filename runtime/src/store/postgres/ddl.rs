//! DDL for PostgreSQL: `CREATE TABLE` and `CREATE INDEX` statements from a
//! schema's metadata, and the identifier quoting every statement uses.
//!
//! - Types: `Integer` → `BIGINT`, `Real` → `DOUBLE PRECISION`, `Text` →
//!   `TEXT COLLATE "C"` (byte order, the order of [`Value`]'s `Ord`; see
//!   [`DdlOptions::byte_order_text`]), `Blob` → `BYTEA`.
//! - Every foreign key is declared `DEFERRABLE INITIALLY IMMEDIATE`: the
//!   store's write transactions defer them (`SET CONSTRAINTS ALL DEFERRED`),
//!   so the intermediate states of a key update pass and PostgreSQL's check
//!   at `COMMIT` stays a safety net under cascadia's. Without
//!   [`DdlOptions::native_actions`] the keys carry no actions (`NO ACTION`):
//!   cascadia runs them. With it, each key carries its `ON DELETE` / `ON
//!   UPDATE` actions, for a database where PostgreSQL runs them — the oracle
//!   of the differential tests (PostgreSQL never defers an action, only the
//!   `NO ACTION` check, so `DEFERRABLE INITIALLY IMMEDIATE` keeps its
//!   semantics).
//! - A secondary index that is not unique also holds the primary-key
//!   columns it lacks, last: scans come out in (index columns, primary key)
//!   order straight from the index, and a resume position is an index
//!   condition. Index `i` of table `t` is named `t__i` (PostgreSQL's index
//!   names are per schema).
//! - A constant [`ColumnDefault::Value`] becomes a `DEFAULT` clause; a
//!   [`ColumnDefault::Computed`] gets none (cascadia evaluates it per row).

use crate::model::error::Error;
use crate::model::metadata::{ColumnDefault, ForeignKeyMeta, IndexMeta, Name, TableMeta};
use crate::model::schema::Schema;
use crate::model::value::{Value, ValueType};

/// Options of [`create_statements`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DdlOptions {
    /// Declare each foreign key with its `ON DELETE` / `ON UPDATE` actions,
    /// so that PostgreSQL runs them (default: false, cascadia runs them).
    pub native_actions: bool,
    /// Declare text columns `COLLATE "C"` (default: true), so that
    /// PostgreSQL orders text by bytes, as cascadia's values do. Turn it off
    /// for an engine without the "C" collation (CockroachDB).
    pub byte_order_text: bool,
    /// Emit `IF NOT EXISTS` (default: false).
    pub if_not_exists: bool,
}

impl Default for DdlOptions {
    fn default() -> Self {
        DdlOptions {
            native_actions: false,
            byte_order_text: true,
            if_not_exists: false,
        }
    }
}

impl DdlOptions {
    /// Sets [`native_actions`](Self::native_actions).
    pub fn native_actions(mut self, native_actions: bool) -> Self {
        self.native_actions = native_actions;
        self
    }

    /// Sets [`byte_order_text`](Self::byte_order_text).
    pub fn byte_order_text(mut self, byte_order: bool) -> Self {
        self.byte_order_text = byte_order;
        self
    }

    /// Sets [`if_not_exists`](Self::if_not_exists).
    pub fn if_not_exists(mut self, if_not_exists: bool) -> Self {
        self.if_not_exists = if_not_exists;
        self
    }
}

pub use crate::store::sql_names::{index_name, index_sql_name, quote};

/// The PostgreSQL type cascadia creates for a storage class.
pub fn sql_type(class: ValueType, options: &DdlOptions) -> &'static str {
    match class {
        ValueType::Integer => "BIGINT",
        ValueType::Real => "DOUBLE PRECISION",
        ValueType::Text if options.byte_order_text => "TEXT COLLATE \"C\"",
        ValueType::Text => "TEXT",
        ValueType::Blob => "BYTEA",
    }
}

/// A value as a PostgreSQL literal, for a `DEFAULT` clause.
pub(super) fn literal(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Integer(integer) => integer.to_string(),
        Value::Real(real) if real.is_nan() => "'NaN'::float8".to_owned(),
        Value::Real(real) if real.is_infinite() => {
            format!("'{}Infinity'::float8", if *real < 0.0 { "-" } else { "" })
        }
        Value::Real(real) => format!("{real:?}::float8"),
        Value::Text(text) => format!("'{}'", text.replace('\'', "''")),
        Value::Blob(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("'\\x{hex}'::bytea")
        }
    }
}

fn columns(names: &[Name]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn if_not_exists(options: &DdlOptions) -> &'static str {
    if options.if_not_exists {
        "IF NOT EXISTS "
    } else {
        ""
    }
}

/// `ALTER TABLE ... ADD FOREIGN KEY` for one foreign key of `table`.
fn add_foreign_key(table: &TableMeta, fk: &ForeignKeyMeta, options: &DdlOptions) -> String {
    let actions = if options.native_actions || fk.native {
        format!(
            " ON DELETE {} ON UPDATE {}",
            fk.on_delete.sql(),
            fk.on_update.sql()
        )
    } else {
        String::new()
    };
    let constraint = fk
        .name
        .as_ref()
        .map(|name| format!("CONSTRAINT {} ", quote(name)))
        .unwrap_or_default();
    format!(
        "ALTER TABLE {} ADD {constraint}FOREIGN KEY ({}) REFERENCES {} ({}){actions} DEFERRABLE INITIALLY IMMEDIATE",
        quote(&table.name),
        columns(&fk.columns),
        quote(&fk.referenced_table),
        columns(&fk.referenced_columns)
    )
}

/// `CREATE TABLE` for one table, without its foreign keys.
fn create_table(table: &TableMeta, options: &DdlOptions) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let mut line = format!(
                "  {} {}",
                quote(&column.name),
                sql_type(column.value_type, options)
            );
            if !column.nullable {
                line.push_str(" NOT NULL");
            }
            if let Some(ColumnDefault::Value(value)) = &column.default {
                line.push_str(" DEFAULT ");
                line.push_str(&literal(value));
            }
            line
        })
        .collect();
    lines.push(format!("  PRIMARY KEY ({})", columns(&table.primary_key)));
    format!(
        "CREATE TABLE {}{} (\n{}\n)",
        if_not_exists(options),
        quote(&table.name),
        lines.join(",\n")
    )
}

/// The columns of the index cascadia creates for `index`: its own, then
/// (unless it is unique) the primary key's it lacks.
pub(super) fn created_columns(table: &TableMeta, index: &IndexMeta) -> Vec<Name> {
    let mut names: Vec<Name> = index.columns.to_vec();
    if !index.unique {
        for column in table.primary_key.iter() {
            if !names.contains(column) {
                names.push(column.clone());
            }
        }
    }
    names
}

/// `CREATE INDEX` for one index.
fn create_index(table: &TableMeta, index: &IndexMeta, options: &DdlOptions) -> String {
    format!(
        "CREATE {}INDEX {}{} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if_not_exists(options),
        quote(&index_sql_name(table, index)),
        quote(&table.name),
        columns(&created_columns(table, index))
    )
}

/// The statements that create `schema`'s tables and indexes: tables
/// without their foreign keys first, then the indexes, then the keys
/// (`ALTER TABLE ... ADD`, so that tables may reference each other in any
/// order, and a key to a unique column finds its unique index).
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
            statements.push(create_index(table, index, options));
        }
    }
    // After the indexes: a key to a unique column needs its unique index.
    for table in schema.tables() {
        for fk in table.foreign_keys.iter() {
            statements.push(add_foreign_key(table, fk, options));
        }
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_postgresql_literals() {
        assert_eq!(literal(&Value::Text("it's".into())), "'it''s'");
        assert_eq!(literal(&Value::Blob(vec![10, 255])), "'\\x0aff'::bytea");
        assert_eq!(literal(&Value::Real(f64::INFINITY)), "'Infinity'::float8");
        assert_eq!(literal(&Value::Real(1.5)), "1.5::float8");
    }
}
