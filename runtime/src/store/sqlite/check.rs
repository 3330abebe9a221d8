//! Preparing a database at open: the schema's tables created in a fresh
//! database, or an existing database checked against the schema as it is.
//!
//! The check only reads. It finds, per table:
//! - every column and the primary key;
//! - for each index of the schema, an index of the database with the same
//!   columns in the same order, whatever its name (its `sql_name`, or
//!   cascadia's `<table>__<index>`, is preferred): a unique index, a
//!   `UNIQUE` constraint's or the primary key serve too. A missing one is
//!   reported with the `CREATE INDEX` that adds it;
//! - each foreign key's actions as the database declares them
//!   (`PRAGMA foreign_key_list`), reconciled with the schema's: see
//!   [`reconcile`].
//!
//! Every problem is listed at once, and an open that fails has changed
//! nothing: no table is created (the job tables come with the first job),
//! and the journal mode is set only once the check has passed.

use rusqlite::{Connection, OptionalExtension};

use super::SqliteOptions;
use super::ddl::{self, DdlOptions, index_sql_name, quote};
use crate::model::error::{Error, ForeignKeyName, NativeConflict, Operation};
use crate::model::metadata::{Action, ForeignKeyMeta, IndexMeta, Name, TableMeta};
use crate::model::schema::Schema;

/// What an open learned about the database.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    /// Per table (in schema order), per index of its metadata: the name of
    /// the database's index that serves it (for `INDEXED BY`), or `None`
    /// when the primary key does (SQLite's planner then finds it alone).
    pub(super) index_names: Vec<Vec<Option<String>>>,
    /// Foreign keys declared on one side only, without actions that
    /// conflict: reported, not refused.
    pub(super) differences: Vec<String>,
}

/// Creates the schema's tables in a database that has none of them, or
/// checks a database that has some.
pub(super) fn prepare_database(
    conn: &Connection,
    schema: &Schema,
    options: &SqliteOptions,
) -> Result<Prepared, Error> {
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
        return Ok(Prepared {
            index_names: schema
                .tables()
                .map(|table| {
                    table
                        .indexes
                        .iter()
                        .map(|index| Some(index_sql_name(table, index)))
                        .collect()
                })
                .collect(),
            differences: Vec::new(),
        });
    }
    let mut missing = Vec::new();
    let mut conflicts = Vec::new();
    let mut prepared = Prepared::default();
    for table in schema.tables() {
        if !present(&table.name) {
            missing.push(format!("missing table `{}`", table.name));
            prepared.index_names.push(vec![None; table.indexes.len()]);
            continue;
        }
        let names = check_table(conn, table, &mut missing)?;
        prepared.index_names.push(names);
        // With `foreign_keys` off SQLite runs no action: nothing to
        // reconcile. With `native_actions`, it runs every one, by request.
        if options.foreign_keys && !options.native_actions {
            reconcile(
                conn,
                schema,
                table,
                &mut missing,
                &mut conflicts,
                &mut prepared.differences,
            )?;
        }
    }
    if !missing.is_empty() {
        return Err(Error::SchemaMismatch { missing });
    }
    if !conflicts.is_empty() {
        return Err(Error::NativeActions { conflicts });
    }
    for difference in &prepared.differences {
        tracing::warn!("{difference}");
    }
    tracing::debug!("the database matches the schema");
    Ok(prepared)
}

/// An index of the database: its name, columns (lowercase, in order;
/// `None` for an expression), whether it is unique, and whether it is the
/// primary key's.
struct DbIndex {
    name: String,
    columns: Vec<Option<String>>,
    unique: bool,
    primary_key: bool,
}

/// Appends to `missing` what the database's `table` lacks; returns the
/// names of the indexes that serve the schema's.
fn check_table(
    conn: &Connection,
    table: &TableMeta,
    missing: &mut Vec<String>,
) -> Result<Vec<Option<String>>, Error> {
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
    let wanted = lowercase(&table.primary_key);
    if found != wanted {
        missing.push(format!(
            "table `{}` has primary key ({}) but the schema wants ({})",
            table.name,
            found.join(", "),
            wanted.join(", ")
        ));
    }
    let indexes = database_indexes(conn, &table.name, &found)?;
    let mut served = Vec::new();
    for index in table.indexes.iter() {
        served.push(serving_index(table, index, &indexes, missing));
    }
    Ok(served)
}

fn lowercase(names: &[Name]) -> Vec<String> {
    names.iter().map(|c| c.to_ascii_lowercase()).collect()
}

/// The usable indexes of a table (not partial), its primary key among
/// them (`primary_key` set; a rowid table's, which no index lists, added).
fn database_indexes(
    conn: &Connection,
    table: &str,
    primary_key: &[String],
) -> Result<Vec<DbIndex>, Error> {
    let listed: Vec<(String, bool, bool, String)> = {
        let mut statement =
            conn.prepare("SELECT name, \"unique\", partial, origin FROM pragma_index_list(?1)")?;
        let rows = statement.query_map([table], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut indexes = Vec::new();
    for (name, unique, partial, origin) in listed {
        if partial {
            continue;
        }
        let columns: Vec<Option<String>> = {
            let mut statement =
                conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let rows = statement.query_map([&name], |row| row.get::<_, Option<String>>(0))?;
            rows.map(|r| r.map(|n| n.map(|n| n.to_ascii_lowercase())))
                .collect::<Result<_, _>>()?
        };
        indexes.push(DbIndex {
            name,
            columns,
            unique,
            primary_key: origin == "pk",
        });
    }
    if !primary_key.is_empty() && !indexes.iter().any(|index| index.primary_key) {
        // A rowid table's INTEGER PRIMARY KEY is the rowid: no index lists it.
        indexes.push(DbIndex {
            name: String::new(),
            columns: primary_key.iter().cloned().map(Some).collect(),
            unique: true,
            primary_key: true,
        });
    }
    Ok(indexes)
}

/// The database's index that serves `index` of the schema: same columns
/// in the same order, unique if the schema's is. Prefers the index named
/// as cascadia names it, then a secondary index, then the primary key
/// (`None`: no `INDEXED BY`). Appends to `missing` when there is none.
fn serving_index(
    table: &TableMeta,
    index: &IndexMeta,
    indexes: &[DbIndex],
    missing: &mut Vec<String>,
) -> Option<String> {
    let expected = index_sql_name(table, index);
    let wanted: Vec<Option<String>> = lowercase(&index.columns).into_iter().map(Some).collect();
    let serves = |db: &&DbIndex| db.columns == wanted && (db.unique || !index.unique);
    let candidates: Vec<&DbIndex> = indexes.iter().filter(serves).collect();
    let chosen = candidates
        .iter()
        .find(|db| db.name.eq_ignore_ascii_case(&expected))
        .or_else(|| candidates.iter().find(|db| !db.primary_key))
        .or_else(|| candidates.first());
    match chosen {
        Some(db) if db.primary_key => None,
        Some(db) => Some(db.name.clone()),
        None => {
            let create = format!(
                "CREATE {}INDEX {} ON {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                quote(&expected),
                quote(&table.name),
                index
                    .columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let same_name = indexes
                .iter()
                .find(|db| !db.primary_key && db.name.eq_ignore_ascii_case(&expected));
            missing.push(match same_name {
                Some(db) => format!(
                    "index `{expected}` is {}({}) but the schema wants {}({}); no index has these columns: give the schema's index another `sql_name` and create it: {create}",
                    if db.unique { "UNIQUE " } else { "" },
                    db.columns
                        .iter()
                        .map(|c| c.as_deref().unwrap_or("<expression>"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if index.unique { "UNIQUE " } else { "" },
                    index.columns.join(", ")
                ),
                None => format!(
                    "missing index `{expected}` on `{}` ({}): {create}",
                    table.name,
                    index.columns.join(", ")
                ),
            });
            // Not used: the open fails.
            Some(expected)
        }
    }
}

/// A foreign key as the database declares it.
struct DbForeignKey {
    referenced_table: String,
    /// (referencing column, referenced column), as declared, in key order;
    /// the referenced column is `None` when the key names none (the
    /// referenced table's primary key).
    pairs: Vec<(String, Option<String>)>,
    on_update: Action,
    on_delete: Action,
}

fn action(sql: &str) -> Action {
    match sql.to_ascii_uppercase().as_str() {
        "CASCADE" => Action::Cascade,
        "SET NULL" => Action::SetNull,
        "SET DEFAULT" => Action::SetDefault,
        "RESTRICT" => Action::Restrict,
        _ => Action::NoAction,
    }
}

/// Whether an action writes referencing rows (the others only refuse).
fn changes_rows(action: Action) -> bool {
    matches!(
        action,
        Action::Cascade | Action::SetNull | Action::SetDefault
    )
}

fn database_foreign_keys(conn: &Connection, table: &str) -> Result<Vec<DbForeignKey>, Error> {
    let mut statement = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows = statement.query_map([table], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;
    let mut keys: Vec<(i64, DbForeignKey)> = Vec::new();
    for row in rows {
        let (id, referenced, from, to, on_update, on_delete) = row?;
        if keys.last().is_none_or(|(last, _)| *last != id) {
            keys.push((
                id,
                DbForeignKey {
                    referenced_table: referenced,
                    pairs: Vec::new(),
                    on_update: action(&on_update),
                    on_delete: action(&on_delete),
                },
            ));
        }
        if let Some((_, key)) = keys.last_mut() {
            key.pairs.push((from, to));
        }
    }
    Ok(keys.into_iter().map(|(_, key)| key).collect())
}

/// Whether the database's key `db` is the schema's `fk`: the same
/// referenced table and the same (referencing, referenced) column pairs.
fn same_key(db: &DbForeignKey, fk: &ForeignKeyMeta, parent_key: Option<&[Name]>) -> bool {
    if !db
        .referenced_table
        .eq_ignore_ascii_case(&fk.referenced_table)
        || db.pairs.len() != fk.columns.len()
    {
        return false;
    }
    let mut wanted: Vec<(String, String)> = fk
        .columns
        .iter()
        .zip(fk.referenced_columns.iter())
        .map(|(c, r)| (c.to_ascii_lowercase(), r.to_ascii_lowercase()))
        .collect();
    let Some(mut found) = db
        .pairs
        .iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let to = match to {
                Some(to) => Some(to.to_ascii_lowercase()),
                None => parent_key
                    .and_then(|pk| pk.get(i))
                    .map(|c| c.to_ascii_lowercase()),
            };
            to.map(|to| (from.to_ascii_lowercase(), to))
        })
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    wanted.sort();
    found.sort();
    wanted == found
}

/// The name of a key the database declares and the schema does not.
fn database_key_name(
    table: &TableMeta,
    db: &DbForeignKey,
    parent_key: Option<&[Name]>,
) -> ForeignKeyName {
    let referenced: Vec<String> = db
        .pairs
        .iter()
        .filter_map(|(_, to)| to.as_ref().map(|to| to.to_ascii_lowercase()))
        .collect();
    let references_primary_key = referenced.is_empty()
        || parent_key.is_some_and(|pk| {
            let mut pk = lowercase(pk);
            let mut referenced = referenced.clone();
            pk.sort();
            referenced.sort();
            pk == referenced
        });
    ForeignKeyName {
        table: table.name.clone(),
        columns: db
            .pairs
            .iter()
            .map(|(from, _)| from.clone().into())
            .collect(),
        referenced_table: db.referenced_table.clone().into(),
        referenced_columns: db
            .pairs
            .iter()
            .filter_map(|(_, to)| to.clone().map(Into::into))
            .collect(),
        references_primary_key,
        constraint: None,
    }
}

/// Reconciles the foreign keys of `table` as the database declares them
/// with the schema's:
/// - a key cascadia runs (not `native`) must have no action in the
///   database that writes rows (CASCADE, SET NULL, SET DEFAULT): both
///   would run it — a conflict;
/// - a `native` key must be declared with the schema's actions (RESTRICT
///   and NO ACTION count as one: both only refuse) — a conflict otherwise,
///   and a `missing` entry when the database does not declare it;
/// - a key only the database declares is a conflict when its actions write
///   rows (cascadia would not count them), a difference otherwise (SQLite
///   checks it at commit);
/// - a key only the schema declares (not `native`) is a difference:
///   cascadia enforces it, SQLite does not check it.
fn reconcile(
    conn: &Connection,
    schema: &Schema,
    table: &TableMeta,
    missing: &mut Vec<String>,
    conflicts: &mut Vec<NativeConflict>,
    differences: &mut Vec<String>,
) -> Result<(), Error> {
    let declared = database_foreign_keys(conn, &table.name)?;
    let mut matched = vec![false; declared.len()];
    for fk in table.foreign_keys.iter() {
        let parent_key = schema
            .table(&fk.referenced_table)
            .map(|parent| &*parent.primary_key);
        let name = crate::model::schema::ForeignKey { table, meta: fk }.name(schema);
        let found = declared
            .iter()
            .enumerate()
            .find(|(i, db)| !matched[*i] && same_key(db, fk, parent_key));
        let Some((i, db)) = found else {
            if fk.native {
                missing.push(format!(
                    "foreign key {name} is `native` but the database does not declare it: SQLite would not run its actions"
                ));
            } else {
                differences.push(format!(
                    "foreign key {name} is in the schema but not declared in the database: cascadia enforces it, SQLite does not check it"
                ));
            }
            continue;
        };
        matched[i] = true;
        for (event, database, wanted) in [
            (Operation::Delete, db.on_delete, fk.on_delete),
            (Operation::Update, db.on_update, fk.on_update),
        ] {
            let conflict = if fk.native {
                database != wanted && (changes_rows(database) || changes_rows(wanted))
            } else {
                changes_rows(database)
            };
            if conflict {
                conflicts.push(NativeConflict {
                    foreign_key: name.clone(),
                    event,
                    database,
                    schema: Some(wanted),
                    native: fk.native,
                });
            }
        }
    }
    for (db, _) in declared.iter().zip(&matched).filter(|(_, m)| !**m) {
        let parent_key = schema
            .table(&db.referenced_table)
            .map(|parent| &*parent.primary_key);
        let name = database_key_name(table, db, parent_key);
        let mut writes = false;
        for (event, database) in [
            (Operation::Delete, db.on_delete),
            (Operation::Update, db.on_update),
        ] {
            if changes_rows(database) {
                writes = true;
                conflicts.push(NativeConflict {
                    foreign_key: name.clone(),
                    event,
                    database,
                    schema: None,
                    native: false,
                });
            }
        }
        if !writes {
            differences.push(format!(
                "foreign key {name} is declared in the database but not in the schema: SQLite checks it at commit, cascadia does not know it"
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
