//! Helpers shared by the integration tests: run-time schemas and backends.
#![allow(dead_code)]

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Database, IndexRef, MemoryStore, Row, Schema, SqliteOptions, SqliteStore, TableMeta,
    Value, ValueType,
};

/// `teams(id, slug unique)`, `members(id, team_id → teams CASCADE, mentor_id → members SET NULL)`,
/// `posts(id, member_id → members CASCADE)`.
pub fn teams_schema() -> Schema {
    Schema::new(vec![
        TableMeta::new("teams")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("slug", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_slug", ["slug"]).unique()),
        TableMeta::new("members")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("team_id", ValueType::Integer))
            .with_column(ColumnMeta::new("mentor_id", ValueType::Integer).nullable())
            .with_column(ColumnMeta::new("name", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_team", ["team_id", "name"]))
            .with_index(IndexMeta::new("by_mentor", ["mentor_id"]))
            .with_index(IndexMeta::new("by_team_mentor", ["team_id", "mentor_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["team_id"], "teams", ["id"])
                    .on_delete(Action::Cascade)
                    .on_update(Action::Cascade)
                    .with_index(IndexRef::Index("by_team".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["mentor_id"], "members", ["id"])
                    .on_delete(Action::SetNull)
                    .with_index(IndexRef::Index("by_mentor".into())),
            ),
        TableMeta::new("posts")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("member_id", ValueType::Integer))
            .with_column(ColumnMeta::new("body", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_member", ["member_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["member_id"], "members", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_member".into())),
            ),
    ])
    .expect("valid schema")
}

pub fn memory(schema: Schema) -> Database {
    Database::new(MemoryStore::new(schema).expect("memory store"))
}

pub fn sqlite(schema: Schema) -> Database {
    Database::new(
        SqliteStore::open_in_memory(schema, SqliteOptions::default()).expect("sqlite store"),
    )
}

/// A database on a PostgreSQL store in a schema of its own (dropped with
/// the database).
pub fn postgres(schema: Schema) -> Database {
    postgres::database(schema)
}

pub fn int(v: i64) -> Value {
    Value::Integer(v)
}

pub fn text(v: &str) -> Value {
    Value::Text(v.to_owned())
}

/// Every table's rows, for comparisons.
pub fn dump(db: &Database) -> Vec<(String, Vec<Row>)> {
    let names: Vec<String> = db.schema().tables().map(|t| t.name.to_string()).collect();
    names
        .into_iter()
        .map(|name| {
            let rows = db.rows(&name).expect("rows");
            (name, rows)
        })
        .collect()
}
pub mod catalog;
pub mod differential;
pub mod generate;
pub mod postgres;
pub mod semantics;
pub mod workload;
