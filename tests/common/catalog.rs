//! Reading a schema from a SQLite catalogue: the conformance cases and the
//! Chinook data are plain SQL; this turns their tables into a cascadia
//! schema (see `conformance.rs` for the translation rules).

use std::collections::{HashMap, HashSet};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{Action, ColumnDefault, Error, IndexRef, Schema, TableMeta, Value, ValueType};
use rusqlite::Connection;

/// A table of the case as the mirror knows it.
#[derive(Debug, Clone)]
pub struct MirrorTable {
    pub name: String,
    /// (name, declared type, DEFAULT expression)
    pub columns: Vec<(String, String, Option<String>)>,
    /// The table has no primary key: cascadia's key is SQLite's rowid.
    pub hidden_rowid: bool,
    /// Column positions of cascadia's primary key among the mirror's columns
    /// (empty with a hidden rowid).
    pub pk: Vec<usize>,
}

/// A foreign key read from the catalogue: columns, parent table, parent
/// columns (empty: the parent's primary key), on update, on delete.
struct RawFk(Vec<String>, String, Vec<String>, Action, Action);

/// A schema read from a catalogue, and the tables as SQLite knows them.
pub struct Translation {
    pub schema: Schema,
    pub tables: Vec<MirrorTable>,
}

fn action(text: &str) -> Action {
    match text.to_ascii_uppercase().as_str() {
        "CASCADE" => Action::Cascade,
        "RESTRICT" => Action::Restrict,
        "SET NULL" => Action::SetNull,
        "SET DEFAULT" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

fn class_of_declared(declared: &str) -> Option<ValueType> {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Some(ValueType::Integer)
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Some(ValueType::Text)
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Some(ValueType::Real)
    } else {
        None
    }
}

fn class_of_typeof(name: &str) -> Option<ValueType> {
    match name {
        "integer" => Some(ValueType::Integer),
        "text" => Some(ValueType::Text),
        "real" => Some(ValueType::Real),
        "blob" => Some(ValueType::Blob),
        _ => None,
    }
}

fn query_strings(conn: &Connection, sql: &str, param: &str) -> Vec<Vec<Option<String>>> {
    let mut statement = conn.prepare(sql).expect("catalogue query");
    let count = statement.column_count();
    statement
        .query_map([param], |row| {
            (0..count)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                        rusqlite::types::Value::Real(r) => Some(r.to_string()),
                        rusqlite::types::Value::Text(t) => Some(t),
                        rusqlite::types::Value::Blob(_) => None,
                    })
                })
                .collect()
        })
        .expect("catalogue rows")
        .collect::<Result<_, _>>()
        .expect("catalogue rows")
}

/// Adds the storage classes of `conn`'s current data to `classes`, per
/// (table, column) in lower case; a column holding integers and reals (a
/// NUMERIC column) is REAL.
pub fn observe(conn: &Connection, classes: &mut HashMap<(String, String), ValueType>) {
    let tables: Vec<String> = query_strings(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name != ?1",
        "",
    )
    .into_iter()
    .filter_map(|r| r.into_iter().next().flatten())
    .collect();
    for table in tables {
        for column in query_strings(conn, "SELECT name FROM pragma_table_info(?1)", &table) {
            let Some(column) = column.into_iter().next().flatten() else {
                continue;
            };
            let sql = format!(
                "SELECT DISTINCT typeof(\"{column}\") FROM \"{table}\" WHERE \"{column}\" IS NOT NULL"
            );
            let Ok(mut query) = conn.prepare(&sql) else {
                continue;
            };
            let seen: Vec<ValueType> = query
                .query_map([], |r| r.get::<_, String>(0))
                .map(|rows| {
                    rows.filter_map(Result::ok)
                        .filter_map(|t| class_of_typeof(&t))
                        .collect()
                })
                .unwrap_or_default();
            for class in seen {
                let slot = classes
                    .entry((table.to_lowercase(), column.to_lowercase()))
                    .or_insert(class);
                if matches!((*slot, class), (ValueType::Integer, ValueType::Real)) {
                    *slot = ValueType::Real;
                }
            }
        }
    }
}

/// Storage classes seen per (table, column) when SQLite runs `statements`.
fn observed_classes(statements: &[String]) -> HashMap<(String, String), ValueType> {
    let conn = Connection::open_in_memory().expect("scratch");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("pragma");
    let mut classes = HashMap::new();
    for statement in statements {
        let _ = conn.execute_batch(statement);
        observe(&conn, &mut classes);
    }
    classes
}

/// Translates the tables `statements` create, typing untyped columns by the
/// values the statements store.
pub fn translate(statements: &[String]) -> Result<Translation, Error> {
    let observed = observed_classes(statements);
    let conn = Connection::open_in_memory().expect("catalogue");
    for statement in statements {
        if statement.to_ascii_uppercase().starts_with("CREATE TABLE") {
            conn.execute_batch(statement).expect("create table");
        }
    }
    translate_catalog(&conn, &observed)
}

/// Translates the tables of `conn`'s catalogue into a cascadia schema;
/// `observed` gives the storage class of untyped columns.
pub fn translate_catalog(
    conn: &Connection,
    observed: &HashMap<(String, String), ValueType>,
) -> Result<Translation, Error> {
    let names: Vec<String> = query_strings(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name != ?1 ORDER BY rowid",
        "",
    )
    .into_iter()
    .filter_map(|r| r.into_iter().next().flatten())
    .collect();
    let canonical = |name: &str| {
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    };

    struct Raw {
        mirror: MirrorTable,
        /// (name, declared, notnull, pk position)
        columns: Vec<(String, String, bool, usize)>,
        /// (name, columns, unique)
        indexes: Vec<(String, Vec<String>, bool)>,
        fks: Vec<RawFk>,
    }
    let mut raws = Vec::new();
    for name in &names {
        let columns: Vec<(String, String, bool, usize, Option<String>)> = query_strings(
            conn,
            "SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info(?1) ORDER BY cid",
            name,
        )
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].clone().unwrap_or_default(),
                r[2].as_deref() == Some("1"),
                r[3].as_deref().and_then(|p| p.parse().ok()).unwrap_or(0),
                r[4].clone(),
            )
        })
        .collect();
        let mut pk: Vec<(usize, usize)> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.3 > 0)
            .map(|(i, c)| (c.3, i))
            .collect();
        pk.sort_unstable();
        let index_list = query_strings(
            conn,
            "SELECT name, origin, \"unique\" FROM pragma_index_list(?1)",
            name,
        );
        let index_columns = |index: &str| -> Vec<String> {
            query_strings(
                conn,
                "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                index,
            )
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
        };
        // UNIQUE constraints become unique indexes named after their
        // columns; CREATE INDEX indexes keep their names.
        let indexes: Vec<(String, Vec<String>, bool)> = index_list
            .iter()
            .filter_map(|r| {
                let index = r[0].clone()?;
                let columns = index_columns(&index);
                match r[1].as_deref() {
                    Some("u") => Some((format!("unique_{}", columns.join("_")), columns, true)),
                    Some("c") => Some((index, columns, r[2].as_deref() == Some("1"))),
                    _ => None,
                }
            })
            .collect();
        let mut fks: Vec<(i64, RawFk)> = Vec::new();
        for r in query_strings(
            conn,
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            name,
        ) {
            let id: i64 = r[0].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
            let from = r[2].clone().unwrap_or_default();
            let to = r[3].clone();
            match fks.last_mut() {
                Some((last, fk)) if *last == id => {
                    fk.0.push(from);
                    fk.2.extend(to);
                }
                _ => fks.push((
                    id,
                    RawFk(
                        vec![from],
                        canonical(r[1].as_deref().unwrap_or_default()),
                        to.into_iter().collect(),
                        action(r[4].as_deref().unwrap_or_default()),
                        action(r[5].as_deref().unwrap_or_default()),
                    ),
                )),
            }
        }
        raws.push(Raw {
            mirror: MirrorTable {
                name: name.clone(),
                columns: columns
                    .iter()
                    .map(|c| (c.0.clone(), c.1.clone(), c.4.clone()))
                    .collect(),
                hidden_rowid: pk.is_empty(),
                pk: pk.iter().map(|(_, i)| *i).collect(),
            },
            columns: columns
                .iter()
                .map(|c| (c.0.clone(), c.1.clone(), c.2, c.3))
                .collect(),
            indexes,
            fks: fks.into_iter().map(|(_, fk)| fk).collect(),
        });
    }

    // Storage classes: declared, else observed, then foreign-key columns take
    // their parent's (repeated for chains).
    let mut classes: HashMap<(String, String), ValueType> = HashMap::new();
    for raw in &raws {
        for (column, declared, _, _) in &raw.columns {
            let key = (raw.mirror.name.to_lowercase(), column.to_lowercase());
            let class = class_of_declared(declared)
                .or_else(|| observed.get(&key).copied())
                .unwrap_or(ValueType::Integer);
            classes.insert(key, class);
        }
    }
    let parent_columns = |raws: &[Raw], fk: &RawFk| {
        if fk.2.is_empty() {
            raws.iter()
                .find(|r| r.mirror.name == fk.1)
                .map(|r| {
                    r.mirror
                        .pk
                        .iter()
                        .map(|&i| r.columns[i].0.clone())
                        .collect()
                })
                .unwrap_or_default()
        } else {
            fk.2.clone()
        }
    };
    for _ in 0..raws.len() {
        for raw in &raws {
            for fk in &raw.fks {
                let referenced: Vec<String> = parent_columns(&raws, fk);
                for (child, parent) in fk.0.iter().zip(&referenced) {
                    let parent_key = (fk.1.to_lowercase(), parent.to_lowercase());
                    let declared = raw
                        .columns
                        .iter()
                        .find(|c| c.0.eq_ignore_ascii_case(child))
                        .and_then(|c| class_of_declared(&c.1));
                    if declared.is_none() {
                        if let Some(class) = classes.get(&parent_key).copied() {
                            classes.insert(
                                (raw.mirror.name.to_lowercase(), child.to_lowercase()),
                                class,
                            );
                        }
                    }
                }
            }
        }
    }

    let mut metas = Vec::new();
    for raw in &raws {
        let table = &raw.mirror.name;
        let mut meta = TableMeta::new(table.clone());
        if raw.mirror.hidden_rowid {
            meta = meta.with_column(ColumnMeta::new("rowid", ValueType::Integer));
        }
        let set_default_columns: HashSet<String> = raw
            .fks
            .iter()
            .filter(|fk| fk.3 == Action::SetDefault || fk.4 == Action::SetDefault)
            .flat_map(|fk| fk.0.iter().map(|c| c.to_lowercase()))
            .collect();
        for ((column, _, notnull, pk), (_, _, default)) in
            raw.columns.iter().zip(&raw.mirror.columns)
        {
            let class = classes[&(table.to_lowercase(), column.to_lowercase())];
            let mut meta_column = ColumnMeta::new(column.clone(), class);
            if !notnull && *pk == 0 {
                meta_column = meta_column.nullable();
            }
            match default {
                Some(expression) => {
                    let value: Value = conn
                        .query_row(&format!("SELECT {expression}"), [], |r| r.get(0))
                        .expect("constant default");
                    meta_column.default = Some(ColumnDefault::Value(value));
                }
                None if meta_column.nullable
                    && set_default_columns.contains(&column.to_lowercase()) =>
                {
                    meta_column.default = Some(ColumnDefault::Value(Value::Null));
                }
                None => {}
            }
            meta = meta.with_column(meta_column);
        }
        let pk: Vec<String> = if raw.mirror.hidden_rowid {
            vec!["rowid".to_owned()]
        } else {
            raw.mirror
                .pk
                .iter()
                .map(|&i| raw.columns[i].0.clone())
                .collect()
        };
        meta = meta.with_primary_key(pk.clone());
        let lower =
            |columns: &[String]| columns.iter().map(|c| c.to_lowercase()).collect::<Vec<_>>();
        let mut indexes: Vec<(String, Vec<String>)> = Vec::new();
        for (name, columns, unique) in &raw.indexes {
            if *unique && lower(columns) == lower(&pk) {
                continue;
            }
            let index = IndexMeta::new(name.clone(), columns.clone());
            meta = meta.with_index(if *unique { index.unique() } else { index });
            indexes.push((name.clone(), columns.clone()));
        }
        let serves = |index: &[String], columns: &[String]| {
            index.len() >= columns.len() && {
                let mut a: Vec<String> = index[..columns.len()]
                    .iter()
                    .map(|c| c.to_lowercase())
                    .collect();
                let mut b: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
                a.sort();
                b.sort();
                a == b
            }
        };
        for fk in &raw.fks {
            let referenced = parent_columns(&raws, fk);
            let index = if serves(&pk, &fk.0) {
                IndexRef::PrimaryKey
            } else if let Some((name, _)) = indexes.iter().find(|(_, i)| serves(i, &fk.0)) {
                IndexRef::Index(name.clone().into())
            } else {
                let name = format!("fk_{}", fk.0.join("_"));
                meta = meta.with_index(IndexMeta::new(name.clone(), fk.0.clone()));
                indexes.push((name.clone(), fk.0.clone()));
                IndexRef::Index(name.into())
            };
            meta = meta.with_foreign_key(
                ForeignKeyMeta::new(fk.0.clone(), fk.1.clone(), referenced)
                    .on_update(fk.3)
                    .on_delete(fk.4)
                    .with_index(index),
            );
        }
        metas.push(meta);
    }
    Ok(Translation {
        schema: Schema::new(metas)?,
        tables: raws.into_iter().map(|r| r.mirror).collect(),
    })
}
