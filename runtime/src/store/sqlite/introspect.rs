//! Reading an existing SQLite database into cascadia's metadata: tables,
//! columns, primary keys, indexes and foreign keys with their native
//! actions, as the [`TableMeta`] list that [`Schema::new`](crate::Schema::new)
//! accepts.
//!
//! The read changes nothing: [`introspect_path`] opens the file with
//! `SQLITE_OPEN_READ_ONLY`, and [`introspect`] only runs `PRAGMA` table
//! functions and reads `sqlite_schema`.
//!
//! What is read, and how:
//! - Every table but SQLite's own (`sqlite_*`) and cascadia's job tables.
//!   Names keep their case and spaces (`"Order Items"`); every name is the
//!   SQL name, and `type_name` and each column's `field` repeat it.
//! - A column's storage class follows SQLite's affinity rules on its
//!   declared type (`INT` → integer; `CHAR`, `CLOB`, `TEXT` → text; `BLOB`
//!   or none → blob; `REAL`, `FLOA`, `DOUB` → real), except for NUMERIC
//!   affinity, which has no class of its own: a type naming `DATE` or `TIME`
//!   is text (SQLite stores dates as text), `BOOL` is integer, anything
//!   else (`NUMERIC(10,2)`, `DECIMAL`) is real. Hidden and generated columns
//!   are left out.
//! - A column's default is kept when it is a literal (a number, a string,
//!   `NULL`, `TRUE`/`FALSE`); an expression (`CURRENT_TIMESTAMP`,
//!   `(random())`) is left out and listed in [`Introspection::notes`].
//! - A table must declare its primary key: a rowid table without one is
//!   refused with [`Error::InvalidSchema`] naming it (cascadia deletes and
//!   updates by primary key, and a rowid that `VACUUM` may renumber is not a
//!   key anything else can reference).
//! - Indexes are every index of the table except the primary key's own,
//!   partial indexes (`WHERE ...`) and indexes on expressions, which cannot
//!   serve an equality lookup on columns; each skipped one is noted. A
//!   unique constraint's automatic index counts as a unique index.
//! - Index names: cascadia's names must be Rust identifiers (the derive
//!   names a query method after each), so a file's index name is mapped:
//!   `<table>__<name>` (the name cascadia's own DDL gives) becomes `<name>`;
//!   an automatic index (`sqlite_autoindex_*`) becomes `by_<columns>`; any
//!   other name that is not an identifier is lower-cased with every other
//!   character replaced by `_`. [`Introspection::index_sql_names`] keeps the
//!   SQL name of each.
//! - Foreign keys: `PRAGMA foreign_key_list`, with a missing parent column
//!   list (`REFERENCES parent` alone, `to` is NULL) read as the parent's
//!   primary key, and the parent's name in its own case. Each FK's access
//!   path is chosen as the derive chooses it: the shortest of the primary
//!   key and the indexes whose first columns are the FK's (the primary key
//!   first among equals), else [`IndexRef::Unindexed`]. A key whose
//!   actions write rows (`CASCADE`, `SET NULL`, `SET DEFAULT`) is marked
//!   [`native`](ForeignKeyMeta::native): SQLite runs it, cascadia counts it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{JOBS_TABLE, ROOTS_TABLE};
use crate::model::error::{Error, SchemaProblem};
use crate::model::metadata::{
    Action, ColumnDefault, ColumnMeta, ForeignKeyMeta, IndexMeta, IndexRef, Name, TableMeta,
};
use crate::model::value::{Value, ValueType};

/// What [`introspect`] read from a database.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Introspection {
    /// The tables, in name order, ready for [`Schema::new`](crate::Schema::new)
    /// (which may still refuse them: an FK with a cascading action and no
    /// index that serves it, say).
    pub tables: Vec<TableMeta>,
    /// `(table, index name in the metadata)` → the index's SQL name in the
    /// file, for every index.
    pub index_sql_names: BTreeMap<(String, String), String>,
    /// What was read but left out (expression defaults, partial and
    /// expression indexes, hidden columns), one sentence each.
    pub notes: Vec<String>,
}

/// Opens the SQLite file at `path` read-only and reads it (see [`introspect`]).
///
/// # Errors
/// As [`introspect`]; a store error when the file cannot be opened (it is
/// never created).
pub fn introspect_path(path: impl AsRef<Path>) -> Result<Introspection, Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    introspect(&conn)
}

/// Reads the tables of the database behind `conn` (see the module docs).
///
/// # Errors
/// [`Error::InvalidSchema`] naming every table without a declared primary
/// key; store errors from SQLite.
pub fn introspect(conn: &Connection) -> Result<Introspection, Error> {
    let names: Vec<String> = {
        let mut statement = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| name != JOBS_TABLE && name != ROOTS_TABLE)
        .collect();
    let mut introspection = Introspection {
        tables: Vec::new(),
        index_sql_names: BTreeMap::new(),
        notes: Vec::new(),
    };
    let mut problems = Vec::new();
    for name in &names {
        let table = read_table(conn, name, &names, &mut introspection)?;
        if table.primary_key.is_empty() {
            problems.push(SchemaProblem {
                table: Cow::Owned(name.clone()),
                columns: Vec::new(),
                message: "declares no primary key; cascadia finds rows by their primary key, so rebuild the table with one (`PRIMARY KEY (...)`)".into(),
            });
        }
        introspection.tables.push(table);
    }
    if problems.is_empty() {
        Ok(introspection)
    } else {
        Err(Error::InvalidSchema { problems })
    }
}

/// Reads one table: columns, primary key, indexes, foreign keys.
fn read_table(
    conn: &Connection,
    name: &str,
    all_tables: &[String],
    introspection: &mut Introspection,
) -> Result<TableMeta, Error> {
    let mut table = TableMeta::new(name.to_owned());
    // (position in the primary key, column name)
    let mut primary_key: Vec<(i64, String)> = Vec::new();
    {
        let mut statement = conn.prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
        )?;
        let mut rows = statement.query([name])?;
        while let Some(row) = rows.next()? {
            let column: String = row.get(0)?;
            let declared: String = row.get::<_, Option<String>>(1)?.unwrap_or_default();
            let not_null: bool = row.get(2)?;
            let default: Option<String> = row.get(3)?;
            let pk: i64 = row.get(4)?;
            let hidden: i64 = row.get(5)?;
            if hidden != 0 {
                introspection.notes.push(format!(
                    "column `{name}.{column}` is hidden or generated: left out"
                ));
                continue;
            }
            if pk > 0 {
                primary_key.push((pk, column.clone()));
            }
            let value_type = value_type(&declared);
            let mut meta = ColumnMeta::new(column.clone(), value_type);
            if !not_null && pk == 0 {
                meta = meta.nullable();
            }
            if let Some(text) = default {
                match literal(&text, value_type).filter(|value| fits(value, value_type)) {
                    Some(value) => meta.default = Some(ColumnDefault::Value(value)),
                    None => introspection.notes.push(format!(
                        "column `{name}.{column}` has the default `{text}`, which is not a literal of its class: left out"
                    )),
                }
            }
            table = table.with_column(meta);
        }
    }
    primary_key.sort();
    table = table.with_primary_key(primary_key.into_iter().map(|(_, column)| column));
    read_indexes(conn, &mut table, introspection)?;
    read_foreign_keys(conn, &mut table, all_tables)?;
    Ok(table)
}

/// Reads the indexes of `table` (see the module docs for what is skipped
/// and how names are mapped).
fn read_indexes(
    conn: &Connection,
    table: &mut TableMeta,
    introspection: &mut Introspection,
) -> Result<(), Error> {
    let list: Vec<(String, bool, String, bool)> = {
        let mut statement = conn.prepare(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY name",
        )?;
        let rows = statement.query_map([&*table.name], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (sql_name, unique, origin, partial) in list {
        if origin == "pk" {
            continue;
        }
        if partial {
            introspection.notes.push(format!(
                "index `{sql_name}` on `{}` is partial: left out (it cannot serve every lookup)",
                table.name
            ));
            continue;
        }
        let columns: Vec<Option<String>> = {
            let mut statement =
                conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
            let rows = statement.query_map([&sql_name], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let Some(columns) = columns.into_iter().collect::<Option<Vec<String>>>() else {
            introspection.notes.push(format!(
                "index `{sql_name}` on `{}` indexes an expression: left out",
                table.name
            ));
            continue;
        };
        let mut rust_name = index_rust_name(&table.name, &sql_name, &columns, origin == "u");
        let base = rust_name.clone();
        let mut suffix = 2;
        while table.index(&rust_name).is_some() {
            rust_name = format!("{base}_{suffix}");
            suffix += 1;
        }
        introspection
            .index_sql_names
            .insert((table.name.to_string(), rust_name.clone()), sql_name);
        let mut index = IndexMeta::new(rust_name, columns);
        index.unique = unique;
        table.indexes.to_mut().push(index);
    }
    Ok(())
}

/// Reads the foreign keys of `table`, choosing each one's access path.
fn read_foreign_keys(
    conn: &Connection,
    table: &mut TableMeta,
    all_tables: &[String],
) -> Result<(), Error> {
    // id → (parent, [(from, to)], on_update, on_delete)
    type Raw = (String, Vec<(String, Option<String>)>, String, String);
    let mut raw: BTreeMap<i64, Raw> = BTreeMap::new();
    {
        let mut statement = conn.prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )?;
        let mut rows = statement.query([&*table.name])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let entry = raw.entry(id).or_insert_with(|| {
                (
                    row.get(1).unwrap_or_default(),
                    Vec::new(),
                    row.get(4).unwrap_or_default(),
                    row.get(5).unwrap_or_default(),
                )
            });
            entry.1.push((row.get(2)?, row.get(3)?));
        }
    }
    // SQLite numbers the foreign keys from the last declared: reverse to
    // get the declaration order.
    for (_, (parent, pairs, on_update, on_delete)) in raw.into_iter().rev() {
        let parent = all_tables
            .iter()
            .find(|name| name.eq_ignore_ascii_case(&parent))
            .cloned()
            .unwrap_or(parent);
        let columns: Vec<String> = pairs.iter().map(|(from, _)| from.clone()).collect();
        let referenced: Vec<String> = if pairs.iter().all(|(_, to)| to.is_some()) {
            pairs.into_iter().filter_map(|(_, to)| to).collect()
        } else {
            parent_primary_key(conn, &parent)?
        };
        let index = serving_index(table, &columns);
        let mut fk = ForeignKeyMeta::new(columns, parent, referenced)
            .on_delete(action(&on_delete))
            .on_update(action(&on_update))
            .with_index(index);
        // The database runs an action that writes rows itself: the key is
        // `native`, so that cascadia counts what SQLite does instead of
        // doing it a second time (see `ForeignKeyMeta::native`).
        fk.native = [fk.on_delete, fk.on_update]
            .iter()
            .any(|a| matches!(a, Action::Cascade | Action::SetNull | Action::SetDefault));
        table.foreign_keys.to_mut().push(fk);
    }
    Ok(())
}

/// The primary-key columns of `table`, in key order.
fn parent_primary_key(conn: &Connection, table: &str) -> Result<Vec<String>, Error> {
    let mut statement =
        conn.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
    let rows = statement.query_map([table], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The access path the derive would choose for an FK on `columns`: the
/// shortest serving one, the primary key first among equals.
pub fn serving_index(table: &TableMeta, columns: &[String]) -> IndexRef {
    let columns: Vec<Name> = columns.iter().map(|c| Cow::Owned(c.clone())).collect();
    let primary_key = cascadia_rules::serves(&table.primary_key, &columns)
        .then(|| (table.primary_key.len(), IndexRef::PrimaryKey));
    let indexes = table
        .indexes
        .iter()
        .filter(|index| cascadia_rules::serves(&index.columns, &columns))
        .map(|index| (index.columns.len(), IndexRef::Index(index.name.clone())));
    primary_key
        .into_iter()
        .chain(indexes)
        .min_by_key(|(len, _)| *len)
        .map_or(IndexRef::Unindexed, |(_, index)| index)
}

/// The cascadia name of an index whose SQL name is `sql_name`.
fn index_rust_name(table: &str, sql_name: &str, columns: &[String], automatic: bool) -> String {
    if automatic || sql_name.starts_with("sqlite_autoindex_") {
        return identifier(&format!("by_{}", columns.join("_")));
    }
    let prefix = format!("{table}__");
    let name = match sql_name.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(&prefix) => &sql_name[prefix.len()..],
        _ => sql_name,
    };
    if is_identifier(name) && name != "by_primary_key" {
        name.to_owned()
    } else {
        identifier(name)
    }
}

/// Whether `name` is a plain Rust identifier (ASCII, not a keyword).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let starts = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
        && !KEYWORDS.contains(&name)
}

/// `name` lower-cased, with every character but ASCII letters and digits
/// replaced by `_`, starting with a letter or `_`.
fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "idx_");
    }
    if KEYWORDS.contains(&out.as_str()) || out == "by_primary_key" {
        out.push('_');
    }
    out
}

/// Rust's strict and reserved keywords (2024 edition).
pub const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// The storage class of a column declared with type `declared` (see the
/// module docs).
pub fn value_type(declared: &str) -> ValueType {
    let upper = declared.to_ascii_uppercase();
    let has = |part: &str| upper.contains(part);
    if has("INT") {
        ValueType::Integer
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        ValueType::Text
    } else if has("BLOB") || upper.trim().is_empty() {
        ValueType::Blob
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        ValueType::Real
    } else if has("DATE") || has("TIME") {
        ValueType::Text
    } else if has("BOOL") {
        ValueType::Integer
    } else {
        ValueType::Real
    }
}

/// The value of a literal default (`dflt_value` of `PRAGMA table_info`),
/// in the column's class; `None` when it is an expression.
fn literal(text: &str, class: ValueType) -> Option<Value> {
    let text = text.trim();
    let unparenthesised = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .map(str::trim);
    let text = match unparenthesised {
        Some(inner) if literal(inner, class).is_some() => inner,
        _ => text,
    };
    if text.eq_ignore_ascii_case("NULL") {
        return Some(Value::Null);
    }
    if text.eq_ignore_ascii_case("TRUE") {
        return Some(Value::Integer(1));
    }
    if text.eq_ignore_ascii_case("FALSE") {
        return Some(Value::Integer(0));
    }
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        let string = inner.replace("''", "'");
        return Some(match class {
            ValueType::Integer => string
                .trim()
                .parse()
                .map(Value::Integer)
                .unwrap_or(Value::Text(string)),
            ValueType::Real => string
                .trim()
                .parse()
                .map(Value::Real)
                .unwrap_or(Value::Text(string)),
            ValueType::Blob | ValueType::Text => Value::Text(string),
        });
    }
    if let Ok(integer) = text.parse::<i64>() {
        return Some(match class {
            ValueType::Real => Value::Real(integer as f64),
            ValueType::Text => Value::Text(integer.to_string()),
            _ => Value::Integer(integer),
        });
    }
    if let Ok(real) = text.parse::<f64>() {
        if text.chars().any(|c| c.is_ascii_digit()) {
            return Some(Value::Real(real));
        }
    }
    None
}

/// Whether a default `value` belongs to the column class `class` (a
/// default of another class is left out: cascadia's rows hold one class
/// per column).
fn fits(value: &Value, class: ValueType) -> bool {
    value.value_type().is_none_or(|found| found == class)
}

/// The cascadia action that SQLite's action text (`CASCADE`, `SET NULL`,
/// ...) names; `NO ACTION` for anything else.
pub fn action(sql: &str) -> Action {
    match sql.to_ascii_uppercase().as_str() {
        "CASCADE" => Action::Cascade,
        "RESTRICT" => Action::Restrict,
        "SET NULL" => Action::SetNull,
        "SET DEFAULT" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_with_spaces_text_keys_and_implicit_parent_columns() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            r#"
            CREATE TABLE "Symbol Table" (fqn TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'fn');
            CREATE TABLE edges (
                id INTEGER PRIMARY KEY,
                from_fqn TEXT NOT NULL REFERENCES "Symbol Table" ON DELETE CASCADE,
                to_fqn TEXT REFERENCES "symbol table"(fqn) ON UPDATE SET NULL,
                weight NUMERIC(10,2) DEFAULT 1.5,
                created DATETIME DEFAULT CURRENT_TIMESTAMP
            );
            CREATE INDEX "edges by from" ON edges(from_fqn, to_fqn);
            CREATE INDEX edges__by_to ON edges(to_fqn);
            CREATE UNIQUE INDEX odd ON edges(weight) WHERE weight > 0;
            "#,
        )
        .unwrap();
        let found = introspect(&conn).unwrap();
        let names: Vec<&str> = found.tables.iter().map(|t| &*t.name).collect();
        assert_eq!(names, ["Symbol Table", "edges"]);
        let symbols = &found.tables[0];
        assert_eq!(&*symbols.primary_key, ["fqn"]);
        assert_eq!(symbols.columns[0].value_type, ValueType::Text);
        assert_eq!(
            symbols
                .column("kind")
                .unwrap()
                .default
                .as_ref()
                .unwrap()
                .value(),
            Value::Text("fn".into())
        );
        let edges = &found.tables[1];
        let index_names: Vec<&str> = edges.indexes.iter().map(|i| &*i.name).collect();
        assert_eq!(index_names, ["edges_by_from", "by_to"]);
        assert_eq!(
            found.index_sql_names[&("edges".into(), "edges_by_from".into())],
            "edges by from"
        );
        let from = &edges.foreign_keys[0];
        assert_eq!(&*from.columns, ["from_fqn"]);
        assert_eq!(from.referenced_table, "Symbol Table");
        assert_eq!(&*from.referenced_columns, ["fqn"]);
        assert_eq!(from.on_delete, Action::Cascade);
        assert_eq!(from.index, IndexRef::Index("edges_by_from".into()));
        let to = &edges.foreign_keys[1];
        assert_eq!(to.on_update, Action::SetNull);
        assert_eq!(to.index, IndexRef::Index("by_to".into()));
        assert_eq!(edges.column("weight").unwrap().value_type, ValueType::Real);
        assert_eq!(edges.column("created").unwrap().value_type, ValueType::Text);
        assert!(edges.column("created").unwrap().default.is_none());
        assert_eq!(found.notes.len(), 2, "{:?}", found.notes);
        crate::model::schema::Schema::new(found.tables).unwrap();
    }

    #[test]
    fn refuses_a_table_without_a_primary_key_by_name() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE \"Log Lines\" (line TEXT);")
            .unwrap();
        let error = introspect(&conn).unwrap_err().to_string();
        assert!(error.contains("Log Lines"), "{error}");
        assert!(error.contains("primary key"), "{error}");
    }
}
