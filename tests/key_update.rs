//! Key updates whose ON UPDATE action rewrites the referencing rows with one
//! set-based statement keep the row-by-row semantics: a value the column
//! cannot hold is refused, naming the row, on every store.

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Database, Error, IndexRef, MemoryStore, Schema, SqliteOptions, SqliteStore, TableMeta,
    Value, ValueType,
};

/// `t0(id, u UNIQUE NULL)` ← `t1(id, f NOT NULL → t0(u) ON UPDATE CASCADE)`.
fn schema() -> Schema {
    Schema::new(vec![
        TableMeta::new("t0")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("u", ValueType::Integer).nullable())
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_u", ["u"]).unique()),
        TableMeta::new("t1")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("f", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_f", ["f"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["f"], "t0", ["u"])
                    .on_delete(Action::Cascade)
                    .on_update(Action::Cascade)
                    .with_index(IndexRef::Index("by_f".into())),
            ),
    ])
    .expect("schema")
}

fn databases() -> Vec<Database> {
    vec![
        Database::new(MemoryStore::new(schema()).unwrap()),
        Database::new(SqliteStore::open_in_memory(schema(), SqliteOptions::default()).unwrap()),
    ]
}

#[test]
fn a_cascaded_null_into_a_not_null_column_is_refused_on_every_store() {
    let int = Value::Integer;
    for db in databases() {
        db.insert_row("t0", vec![int(0), int(1)]).unwrap();
        db.insert_row("t1", vec![int(0), int(1)]).unwrap();
        let error = db
            .update_row("t0", &[int(0)], vec![int(0), Value::Null])
            .unwrap_err();
        assert!(
            matches!(&error, Error::NotNull { table, column } if table == "t1" && column == "f"),
            "{error:?}"
        );
        assert_eq!(db.rows("t1").unwrap(), vec![vec![int(0), int(1)]]);
    }
}

#[test]
fn a_cascaded_key_rewrites_every_referencing_row() {
    let int = Value::Integer;
    for db in databases() {
        db.insert_row("t0", vec![int(0), int(1)]).unwrap();
        for id in 0..300 {
            db.insert_row("t1", vec![int(id), int(1)]).unwrap();
        }
        let outcome = db
            .update_row("t0", &[int(0)], vec![int(0), int(2)])
            .unwrap();
        assert_eq!(outcome.rows_updated("t1"), 300);
        assert!(db.rows("t1").unwrap().iter().all(|row| row[1] == int(2)));
    }
}
