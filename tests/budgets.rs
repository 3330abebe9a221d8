//! Budgets bound every batch, whatever the action: no batch of a batched
//! delete writes more bytes than its byte budget (except a batch of one row
//! larger than the whole budget), for CASCADE, SET NULL and SET DEFAULT
//! alike, on every store; a delete whose last batch fills the budget
//! exactly ends there, with no empty transaction after it; and once the
//! executor has seen what a parent brings, a batch takes whole parents.

use std::sync::{Arc, Mutex};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Budget, ColumnDefault, Database, DeleteOptions, IndexRef, MemoryStore, Progress,
    Schema, SqliteOptions, SqliteStore, TableMeta, Value, ValueType,
};

/// `parents(id)` and one child table per action, each child `(id,
/// parent_id, body)` referencing `parents` with that action (SET DEFAULT to
/// parent 0).
fn schema() -> Schema {
    let child = |name: &str, action: Action| {
        let mut parent = ColumnMeta::new("parent_id", ValueType::Integer);
        if action == Action::SetNull {
            parent = parent.nullable();
        }
        if action == Action::SetDefault {
            parent.default = Some(ColumnDefault::Value(Value::Integer(0)));
        }
        TableMeta::new(name.to_owned())
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(parent)
            .with_column(ColumnMeta::new("body", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_parent", ["parent_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["parent_id"], "parents", ["id"])
                    .on_delete(action)
                    .with_index(IndexRef::Index("by_parent".into())),
            )
    };
    Schema::new(vec![
        TableMeta::new("parents")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_primary_key(["id"]),
        child("cascaded", Action::Cascade),
        child("nulled", Action::SetNull),
        child("defaulted", Action::SetDefault),
    ])
    .expect("schema")
}

fn databases() -> Vec<(&'static str, Database)> {
    vec![
        ("memory", Database::new(MemoryStore::new(schema()).unwrap())),
        (
            "sqlite",
            Database::new(SqliteStore::open_in_memory(schema(), SqliteOptions::default()).unwrap()),
        ),
    ]
}

/// Parents 0 and 1; `rows` children of parent 1 in `table`, with bodies of
/// 60 to 139 bytes, and one of `big` bytes if `big` is not zero.
fn fill(db: &Database, table: &str, rows: i64, big: usize) {
    for id in 0..=1 {
        db.insert_row("parents", vec![Value::Integer(id)]).unwrap();
    }
    for id in 0..rows {
        let body = "x".repeat(60 + (id as usize * 37) % 80);
        db.insert_row(table, vec![id.into(), 1.into(), body.into()])
            .unwrap();
    }
    if big > 0 {
        db.insert_row(table, vec![rows.into(), 1.into(), "y".repeat(big).into()])
            .unwrap();
    }
}

/// Deletes parent 1 with `budget`; returns (rows, bytes) of each batch.
fn batches(db: &Database, budget: Budget) -> Vec<(u64, u64)> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let options = DeleteOptions::default()
        .budget(budget)
        .observer(move |p: &Progress| {
            log.lock()
                .unwrap()
                .push((p.batch_rows_written, p.batch_bytes_written));
        });
    db.delete_rows("parents", &[vec![Value::Integer(1)]], &options)
        .expect("delete");
    seen.lock().unwrap().clone()
}

#[test]
fn no_batch_writes_past_its_byte_budget_for_any_action() {
    const BYTES: u64 = 2_500;
    for table in ["cascaded", "nulled", "defaulted"] {
        for (store, db) in databases() {
            fill(&db, table, 60, 5_000);
            let seen = batches(&db, Budget::UNLIMITED.bytes_written(BYTES));
            let total: u64 = seen.iter().map(|(_, bytes)| bytes).sum();
            assert!(seen.len() >= 3, "{store} {table}: {seen:?}");
            assert!(
                total > 5_000 + 60 * 60,
                "{store} {table}: {total} bytes in all"
            );
            for &(rows, bytes) in &seen {
                assert!(
                    bytes <= BYTES || rows == 1,
                    "{store} {table}: a batch of {rows} rows wrote {bytes} bytes, budget {BYTES}"
                );
            }
            // The 5,000-byte row went alone, in a batch of its own.
            let alone = seen
                .iter()
                .filter(|&&(rows, bytes)| rows == 1 && bytes > 5_000);
            assert_eq!(alone.count(), 1, "{store} {table}: {seen:?}");
            let left = db.rows(table).unwrap();
            match table {
                "cascaded" => assert!(left.is_empty()),
                "nulled" => assert!(left.iter().all(|row| row[1] == Value::Null)),
                _ => assert!(left.iter().all(|row| row[1] == Value::Integer(0))),
            }
        }
    }
}

#[test]
fn a_last_batch_that_fills_the_budget_exactly_is_the_last_transaction() {
    for table in ["cascaded", "nulled", "defaulted"] {
        for (store, db) in databases() {
            // 19 children and the parent: 20 rows, two batches of 10.
            fill(&db, table, 19, 0);
            let seen = batches(&db, Budget::UNLIMITED.rows_written(10));
            assert_eq!(
                seen.iter().map(|(rows, _)| *rows).collect::<Vec<_>>(),
                vec![10, 10],
                "{store} {table}"
            );
        }
    }
}

#[test]
fn batches_take_whole_parents_once_a_frame_was_measured() {
    // 300 parents with 9 cascaded children each, in one multi-key delete,
    // 100 rows written per batch: 10 parents with their children each.
    for (store, db) in databases() {
        for id in 1..=300i64 {
            db.insert_row("parents", vec![id.into()]).unwrap();
            for child in id * 10..id * 10 + 9 {
                db.insert_row("cascaded", vec![child.into(), id.into(), "body".into()])
                    .unwrap();
            }
        }
        let keys: Vec<Vec<Value>> = (1..=300).map(|id| vec![Value::Integer(id)]).collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let options = DeleteOptions::default()
            .budget(Budget::UNLIMITED.rows_written(100))
            .observer(move |p: &Progress| {
                log.lock()
                    .unwrap()
                    .push((p.batch_rows_written, p.held_rows));
            });
        let outcome = db.delete_rows("parents", &keys, &options).expect("delete");
        assert_eq!(outcome.rows_written(), 3_000, "{store}");
        assert!(db.rows("cascaded").unwrap().is_empty(), "{store}");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter().all(|&(rows, _)| rows <= 100),
            "{store}: {seen:?}"
        );
        // The first frames take the store's whole window (64 parents) and
        // are cut by the budget, then half as many, until one fits a batch
        // and is measured (here after 11 batches); from then on every batch
        // ends between parents: 100 rows written, nothing left on the stack.
        let whole = |&(rows, held): &(u64, usize)| rows == 100 && held == 0;
        let first = seen.iter().position(whole).expect("a whole batch");
        assert!(
            first <= 11,
            "{store}: learnt after {first} batches: {seen:?}"
        );
        assert!(seen[first..].iter().all(whole), "{store}: {seen:?}");
        assert_eq!(seen.len(), 30, "{store}: {seen:?}");
    }
}
