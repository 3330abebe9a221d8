//! What the differential tests share: the outcome of an operation, how
//! cascadia runs a generated case, and the documented RESTRICT difference.
#![allow(dead_code)]

use cascadia::store::sqlite::ddl::quote;
use cascadia::{Database, DeleteOptions, Error, Row, Schema, TableMeta, UpdateOptions};

use super::generate::{Case, Op};

/// Contents of every table, rows sorted.
pub type Contents = Vec<Vec<Row>>;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Contents),
    ForeignKey(String),
    Unique(String),
    NotNull(String),
    Recursion(String),
    Other(String),
}

impl Outcome {
    pub fn failed(&self) -> bool {
        !matches!(self, Outcome::Ok(_))
    }
}

pub fn reversed(schema: &Schema) -> Schema {
    let tables: Vec<TableMeta> = schema
        .tables()
        .rev()
        .map(|t| {
            let mut t = t.clone();
            t.foreign_keys.to_mut().reverse();
            t
        })
        .collect();
    Schema::new(tables).expect("reversed schema")
}

/// Position of table `name` in `schema`.
pub fn schema_position(schema: &Schema, name: &str) -> usize {
    schema
        .tables()
        .position(|t| t.name == name)
        .expect("table of the schema")
}

/// `"k1" = <mark>first AND "k2" = <mark>first+1 ...`: the primary key of
/// `table` against numbered parameters (`?` for SQLite, `$` for
/// PostgreSQL).
pub fn where_key(table: &TableMeta, mark: &str, first: usize) -> String {
    table
        .primary_key
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = {mark}{}", quote(c), first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub fn classify(
    result: Result<cascadia::Outcome, Error>,
    db: &Database,
) -> (Outcome, Option<Error>) {
    match result {
        Ok(_) => {
            let contents = db
                .schema()
                .tables()
                .map(|t| {
                    let mut rows = db.rows(&t.name).expect("rows");
                    rows.sort();
                    rows
                })
                .collect();
            (Outcome::Ok(contents), None)
        }
        Err(error) => {
            let outcome = if error.is_foreign_key() {
                Outcome::ForeignKey(error.to_string())
            } else if error.is_unique() {
                Outcome::Unique(error.to_string())
            } else if matches!(error, Error::NotNull { .. }) {
                Outcome::NotNull(error.to_string())
            } else {
                Outcome::Other(error.to_string())
            };
            (outcome, Some(error))
        }
    }
}

pub fn through_cascadia(case: &Case, db: &Database) -> (Outcome, Option<Error>) {
    let tables: Vec<String> = case.schema.tables().map(|t| t.name.to_string()).collect();
    let result = match &case.op {
        Op::Delete { table, keys } => db.delete_rows(
            &tables[*table],
            keys,
            &DeleteOptions::default().batch_rows(case.batch_rows),
        ),
        Op::Update { table, key, row } => db.write(|tx| {
            tx.update_row(&tables[*table], key, row.clone(), &UpdateOptions::default())
        }),
    };
    classify(result, db)
}

/// Whether cascadia's RESTRICT refusal is the documented difference: the
/// oracle succeeded after deleting or changing the restricting row.
pub fn restricting_row_changed(case: &Case, error: &Error, contents: &Contents) -> bool {
    let Error::Restricted {
        foreign_key,
        child_key,
        ..
    } = error
    else {
        return false;
    };
    let position = schema_position(&case.schema, &foreign_key.table);
    let child = case.schema.tables().nth(position).expect("child table");
    let pk: Vec<usize> = child
        .primary_key
        .iter()
        .filter_map(|c| child.column_position(c))
        .collect();
    let find = |rows: &[Row]| {
        rows.iter()
            .find(|row| pk.iter().map(|&p| &row[p]).eq(child_key.iter()))
            .cloned()
    };
    find(&case.rows[position]) != find(&contents[position])
}
