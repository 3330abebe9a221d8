//! Preparing a database at open: the schema (namespace) and the job
//! tables, then the schema's tables created in a schema that has none of
//! them, or an existing database checked against the schema — every
//! missing table, column, primary key or index, and every column of a type
//! cascadia cannot read, named at open.
//!
//! Indexes are matched by their columns, not their names: an index serves
//! when its leading key columns are the schema index's columns in order
//! (and it is unique when the schema's is); a missing one is reported with
//! its `CREATE INDEX`. A foreign key declared `NOT DEFERRABLE` whose `ON
//! UPDATE` action cascadia runs is refused too: a key update passes through
//! states such a key refuses at once. Each key's actions are read from
//! `pg_constraint` and reconciled as the SQLite store does: an action that
//! writes rows on a key cascadia runs, or a `native` key declared with
//! other actions, is refused ([`Error::NativeActions`]). The check only
//! reads: the job tables are created after it passes.

use postgres::Client;

use super::PostgresOptions;
use super::catalog::table_names;
use super::ddl::{self, DdlOptions, quote};
use crate::model::error::{Error, NativeConflict, Operation};
use crate::model::metadata::{Action, TableMeta};
use crate::model::schema::{ForeignKey, Schema};
use crate::model::value::ValueType;

/// What the open learned about the database.
pub(super) struct Catalog {
    /// Per table (schema order), per column: the PostgreSQL type as
    /// `format_type` spells it, for casts.
    pub(super) types: Vec<Vec<String>>,
    /// Every foreign key of the schema is declared in the database.
    pub(super) native_foreign_keys: bool,
}

/// A column as the catalogue describes it.
struct Column {
    name: String,
    /// `format_type` of its type, e.g. `bigint`, `character varying`.
    sql_type: String,
    /// `typname`, e.g. `int8`, `varchar`.
    type_name: String,
}

/// An index as the catalogue describes it (no partial or expression index).
struct Index {
    columns: Vec<String>,
    unique: bool,
    primary: bool,
}

/// A declared foreign key: child table, parent table, child columns,
/// deferrable, ON DELETE and ON UPDATE actions.
struct DeclaredKey(String, String, Vec<String>, bool, Action, Action);

/// `pg_constraint`'s action code as an action.
fn action(code: &str) -> Action {
    match code {
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        "r" => Action::Restrict,
        _ => Action::NoAction,
    }
}

/// Whether an action writes the referencing rows (the others only refuse).
fn writes_rows(action: Action) -> bool {
    matches!(
        action,
        Action::Cascade | Action::SetNull | Action::SetDefault
    )
}

const COLUMNS: &str = "SELECT a.attname::text, format_type(a.atttypid, NULL), t.typname::text \
     FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
     WHERE n.nspname = current_schema() AND c.relname = $1 \
     AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

const INDEXES: &str = "SELECT i.indisunique, i.indisprimary, \
     array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
       WHERE k.n <= i.indnkeyatts ORDER BY k.n) \
     FROM pg_catalog.pg_index i \
     JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relname = $1 \
     AND i.indpred IS NULL AND i.indexprs IS NULL";

const FOREIGN_KEYS: &str = "SELECT c.relname::text, p.relname::text, \
     array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, n) \
       JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum \
       ORDER BY u.n), k.condeferrable, k.confdeltype::text, k.confupdtype::text \
     FROM pg_catalog.pg_constraint k \
     JOIN pg_catalog.pg_class c ON c.oid = k.conrelid \
     JOIN pg_catalog.pg_class p ON p.oid = k.confrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE k.contype = 'f' AND n.nspname = current_schema()";

/// Creates the namespace and the job tables if missing, then creates the
/// schema's tables in a namespace that has none of them, or checks one
/// that has some; returns what the rest of the store needs to know.
pub(super) fn prepare_database(
    client: &mut Client,
    schema: &Schema,
    options: &PostgresOptions,
) -> Result<Catalog, Error> {
    if let Some(namespace) = &options.schema {
        if options.create_tables {
            let exists = !client
                .query(
                    "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                    &[namespace],
                )?
                .is_empty();
            if !exists {
                client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", quote(namespace)))?;
            }
        }
    }
    let existing = table_names(client)?;
    let any_present = schema
        .tables()
        .any(|t| existing.iter().any(|e| *e == t.name));
    if !any_present && options.create_tables {
        create(client, schema, options)?;
    } else {
        // Checked before anything is created: an open that fails leaves
        // the database as it was.
        check(client, schema, &existing, !options.native_actions)?;
    }
    super::jobs::create_tables(client, &existing)?;
    let mut types = Vec::new();
    for table in schema.tables() {
        let columns = columns(client, &table.name)?;
        types.push(
            table
                .columns
                .iter()
                .map(|c| {
                    columns
                        .iter()
                        .find(|found| found.name == c.name)
                        .map_or_else(|| "text".to_owned(), |found| found.sql_type.clone())
                })
                .collect(),
        );
    }
    let declared = foreign_keys(client)?;
    let native_foreign_keys = schema.tables().all(|table| {
        table
            .foreign_keys
            .iter()
            .all(|fk| find_key(&declared, table, &fk.columns, &fk.referenced_table).is_some())
    });
    Ok(Catalog {
        types,
        native_foreign_keys,
    })
}

fn create(client: &mut Client, schema: &Schema, options: &PostgresOptions) -> Result<(), Error> {
    let statements = ddl::create_statements(
        schema,
        &DdlOptions::default()
            .native_actions(options.native_actions)
            .byte_order_text(options.byte_order_text),
    )?;
    let mut script = String::from("BEGIN;\n");
    for statement in statements {
        script.push_str(&statement);
        script.push_str(";\n");
    }
    script.push_str("COMMIT;");
    if let Err(error) = client.batch_execute(&script) {
        let _ = client.batch_execute("ROLLBACK");
        return Err(error.into());
    }
    tracing::debug!(
        tables = schema.tables().count(),
        "created the schema's tables"
    );
    Ok(())
}

fn columns(client: &mut Client, table: &str) -> Result<Vec<Column>, Error> {
    Ok(client
        .query(COLUMNS, &[&table])?
        .iter()
        .map(|row| Column {
            name: row.get(0),
            sql_type: row.get(1),
            type_name: row.get(2),
        })
        .collect())
}

fn indexes(client: &mut Client, table: &str) -> Result<Vec<Index>, Error> {
    Ok(client
        .query(INDEXES, &[&table])?
        .iter()
        .map(|row| Index {
            unique: row.get(0),
            primary: row.get(1),
            columns: row.get(2),
        })
        .collect())
}

fn foreign_keys(client: &mut Client) -> Result<Vec<DeclaredKey>, Error> {
    Ok(client
        .query(FOREIGN_KEYS, &[])?
        .iter()
        .map(|row| {
            DeclaredKey(
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                action(row.get(4)),
                action(row.get(5)),
            )
        })
        .collect())
}

/// The declared key of `table` over `columns` to `parent`, if any.
fn find_key<'a>(
    declared: &'a [DeclaredKey],
    table: &TableMeta,
    columns: &[crate::model::metadata::Name],
    parent: &str,
) -> Option<&'a DeclaredKey> {
    declared.iter().find(|DeclaredKey(child, to, found, ..)| {
        *child == table.name
            && to == parent
            && found
                .iter()
                .map(String::as_str)
                .eq(columns.iter().map(|c| &**c))
    })
}

/// The type names cascadia reads as `class`, for messages and checks.
fn accepted(class: ValueType) -> &'static [&'static str] {
    match class {
        ValueType::Integer => &["int8", "int4", "int2", "bool"],
        ValueType::Real => &["float8", "float4"],
        ValueType::Text => &["text", "varchar", "bpchar", "name"],
        ValueType::Blob => &["bytea"],
    }
}

/// Lists every mismatch between the database and the schema; with
/// `reconcile`, refuses the keys whose actions the database runs beside
/// cascadia's (as the SQLite store does: see its `check` module).
fn check(
    client: &mut Client,
    schema: &Schema,
    existing: &[String],
    reconcile: bool,
) -> Result<(), Error> {
    let declared = foreign_keys(client)?;
    let mut missing = Vec::new();
    let mut conflicts = Vec::new();
    for table in schema.tables() {
        if !existing.iter().any(|e| *e == table.name) {
            missing.push(format!("missing table `{}`", table.name));
            continue;
        }
        check_columns(&columns(client, &table.name)?, table, &mut missing);
        check_indexes(&indexes(client, &table.name)?, table, &mut missing);
        for fk in table.foreign_keys.iter() {
            let updates = !matches!(fk.on_update, Action::Restrict | Action::NoAction);
            let found = find_key(&declared, table, &fk.columns, &fk.referenced_table);
            if let (true, Some(DeclaredKey(.., on_delete, on_update))) = (reconcile, found) {
                for (event, database, wanted) in [
                    (Operation::Delete, *on_delete, fk.on_delete),
                    (Operation::Update, *on_update, fk.on_update),
                ] {
                    let conflict = if fk.native {
                        database != wanted && (writes_rows(database) || writes_rows(wanted))
                    } else {
                        writes_rows(database)
                    };
                    if conflict {
                        conflicts.push(NativeConflict {
                            foreign_key: ForeignKey { table, meta: fk }.name(schema),
                            event,
                            database,
                            schema: Some(wanted),
                            native: fk.native,
                        });
                    }
                }
            }
            if fk.native && found.is_none() {
                missing.push(format!(
                    "foreign key `{}({}) → {}` is `native` but the database does not declare it: PostgreSQL would not run its actions",
                    table.name,
                    fk.columns.join(", "),
                    fk.referenced_table
                ));
            }
            if let Some(DeclaredKey(_, _, _, false, ..)) = found {
                if updates && !fk.native {
                    missing.push(format!(
                        "foreign key `{}({}) → {}` is NOT DEFERRABLE, but cascadia runs its ON UPDATE {} through intermediate states: declare it DEFERRABLE",
                        table.name,
                        fk.columns.join(", "),
                        fk.referenced_table,
                        fk.on_update.sql()
                    ));
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::SchemaMismatch { missing });
    }
    if !conflicts.is_empty() {
        return Err(Error::NativeActions { conflicts });
    }
    tracing::debug!("the database matches the schema");
    Ok(())
}

fn check_columns(columns: &[Column], table: &TableMeta, missing: &mut Vec<String>) {
    for column in table.columns.iter() {
        match columns.iter().find(|c| c.name == column.name) {
            None => missing.push(format!("missing column `{}.{}`", table.name, column.name)),
            Some(found) if !accepted(column.value_type).contains(&found.type_name.as_str()) => {
                missing.push(format!(
                    "column `{}.{}` is {} but the schema wants {:?} values ({})",
                    table.name,
                    column.name,
                    found.sql_type,
                    column.value_type,
                    accepted(column.value_type).join(", ")
                ));
            }
            Some(_) => {}
        }
    }
}

fn check_indexes(indexes: &[Index], table: &TableMeta, missing: &mut Vec<String>) {
    let wanted: Vec<String> = table.primary_key.iter().map(|c| c.to_string()).collect();
    match indexes.iter().find(|i| i.primary) {
        Some(pk) if pk.columns == wanted => {}
        found => missing.push(format!(
            "table `{}` has primary key ({}) but the schema wants ({})",
            table.name,
            found.map_or_else(String::new, |pk| pk.columns.join(", ")),
            wanted.join(", ")
        )),
    }
    for index in table.indexes.iter() {
        let columns: Vec<String> = index.columns.iter().map(|c| c.to_string()).collect();
        let serves = indexes.iter().any(|found| {
            if index.unique {
                found.unique && found.columns == columns
            } else {
                found.columns.starts_with(&columns)
            }
        });
        if !serves {
            missing.push(format!(
                "missing {}index on `{}` ({}) (the schema's `{}`): CREATE {}INDEX {} ON {} ({})",
                if index.unique { "unique " } else { "" },
                table.name,
                columns.join(", "),
                index.name,
                if index.unique { "UNIQUE " } else { "" },
                quote(&ddl::index_sql_name(table, index)),
                quote(&table.name),
                index
                    .columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
}
