//! Preparing a database at open: the jobs table, then the schema's tables
//! created in a fresh database, or an existing database checked against the
//! schema — every missing table, column or index named at open.

use rusqlite::{Connection, OptionalExtension};

use super::SqliteOptions;
use super::ddl::{self, DdlOptions, index_name};
use crate::model::error::Error;
use crate::model::metadata::TableMeta;
use crate::model::schema::Schema;

/// Creates the jobs table, then creates the schema's tables in a database
/// that has none of them, or checks a database that has some.
pub(super) fn prepare_database(
    conn: &Connection,
    schema: &Schema,
    options: &SqliteOptions,
) -> Result<(), Error> {
    conn.execute_batch(&super::jobs::create_statements())?;
    let existing: Vec<String> = {
        let mut statement = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
        let names = statement.query_map([], |row| row.get::<_, String>(0))?;
        names.collect::<Result<_, _>>()?
    };
    let present = |name: &str| existing.iter().any(|e| e.eq_ignore_ascii_case(name));
    let any_present = schema.tables().any(|t| present(&t.name));
    if !any_present && options.create_tables {
        let statements = ddl::create_statements(
            schema,
            &DdlOptions::default().native_actions(options.native_actions),
        )?;
        let mut script = String::from("BEGIN;\n");
        for statement in statements {
            script.push_str(&statement);
            script.push_str(";\n");
        }
        script.push_str("COMMIT;");
        conn.execute_batch(&script)?;
        tracing::debug!(
            tables = schema.tables().count(),
            "created the schema's tables"
        );
        return Ok(());
    }
    let mut missing = Vec::new();
    for table in schema.tables() {
        if !present(&table.name) {
            missing.push(format!("missing table `{}`", table.name));
            continue;
        }
        check_table(conn, table, &mut missing)?;
    }
    if missing.is_empty() {
        tracing::debug!("the database matches the schema");
        Ok(())
    } else {
        Err(Error::SchemaMismatch { missing })
    }
}

/// Appends to `missing` what the database's `table` lacks.
fn check_table(
    conn: &Connection,
    table: &TableMeta,
    missing: &mut Vec<String>,
) -> Result<(), Error> {
    // (name, position in the primary key, 0 when not in it)
    let columns: Vec<(String, i64)> = {
        let mut statement = conn.prepare("SELECT name, pk FROM pragma_table_xinfo(?1)")?;
        let rows = statement.query_map([&*table.name], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for column in table.columns.iter() {
        if !columns
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(&column.name))
        {
            missing.push(format!("missing column `{}.{}`", table.name, column.name));
        }
    }
    let mut pk: Vec<(i64, &str)> = columns
        .iter()
        .filter(|(_, position)| *position > 0)
        .map(|(name, position)| (*position, name.as_str()))
        .collect();
    pk.sort_unstable();
    let found: Vec<String> = pk.iter().map(|(_, n)| n.to_ascii_lowercase()).collect();
    let wanted: Vec<String> = table
        .primary_key
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if found != wanted {
        missing.push(format!(
            "table `{}` has primary key ({}) but the schema wants ({})",
            table.name,
            found.join(", "),
            wanted.join(", ")
        ));
    }
    let indexes: Vec<(String, bool)> = {
        let mut statement = conn.prepare("SELECT name, \"unique\" FROM pragma_index_list(?1)")?;
        let rows = statement.query_map([&*table.name], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for index in table.indexes.iter() {
        let name = index_name(&table.name, &index.name);
        let Some((_, unique)) = indexes.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) else {
            missing.push(format!(
                "missing index `{name}` on `{}` ({})",
                table.name,
                index.columns.join(", ")
            ));
            continue;
        };
        let found: Vec<String> = {
            let mut statement =
                conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let rows = statement.query_map([&name], |row| row.get::<_, Option<String>>(0))?;
            rows.filter_map(|r| r.transpose())
                .map(|r| r.map(|n| n.to_ascii_lowercase()))
                .collect::<Result<_, _>>()?
        };
        let wanted: Vec<String> = index
            .columns
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if found != wanted || *unique != index.unique {
            missing.push(format!(
                "index `{name}` is {}({}) but the schema wants {}({})",
                if *unique { "UNIQUE " } else { "" },
                found.join(", "),
                if index.unique { "UNIQUE " } else { "" },
                wanted.join(", ")
            ));
        }
    }
    Ok(())
}

/// Whether every foreign key the schema's tables declare in the database is
/// `INITIALLY DEFERRED` (checked at `COMMIT`): each table's `CREATE TABLE`
/// text says so at least once per foreign key it declares.
pub(super) fn foreign_keys_deferred(conn: &Connection, schema: &Schema) -> Result<bool, Error> {
    for table in schema.tables() {
        let declared: i64 = conn.query_row(
            "SELECT count(DISTINCT id) FROM pragma_foreign_key_list(?1)",
            [&*table.name],
            |row| row.get(0),
        )?;
        if declared == 0 {
            continue;
        }
        let sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [&*table.name],
                |row| row.get(0),
            )
            .optional()?;
        let deferred = sql
            .unwrap_or_default()
            .to_ascii_uppercase()
            .matches("INITIALLY DEFERRED")
            .count() as i64;
        if deferred < declared {
            return Ok(false);
        }
    }
    Ok(true)
}
