//! Large fan-out in bounded memory: one parent → 100,000 children →
//! 500,000 grandchildren, deleted in batched mode (1,000 rows per batch)
//! from a file-backed SQLite database (WAL, foreign keys declared without
//! actions and enforced).
//!
//! Asserted: every row goes, no batch writes more than 1,000 rows, the
//! executor never holds more than depth × batch size rows (3 × 1,000), and
//! the process's peak resident memory during the delete (Linux `VmHWM`,
//! reset before it) stays under 200 MiB — a generous bound: the figures
//! printed (`cargo test --test fanout -- --nocapture`) are far below it.
//! This file holds one test, so the process measures nothing else.
//!
//! Scale: `CASCADIA_FANOUT_CHILDREN` (default 100,000; 5 grandchildren each).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Budget, Database, DeleteOptions, IndexRef, Progress, Schema, SqliteOptions,
    SqliteStore, TableMeta, Value, ValueType,
};

fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("parents")
            .with_column(id())
            .with_primary_key(["id"]),
        TableMeta::new("children")
            .with_column(id())
            .with_column(ColumnMeta::new("parent_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_parent", ["parent_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["parent_id"], "parents", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_parent".into())),
            ),
        TableMeta::new("grandchildren")
            .with_column(id())
            .with_column(ColumnMeta::new("child_id", ValueType::Integer))
            .with_column(ColumnMeta::new("body", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_child", ["child_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["child_id"], "children", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_child".into())),
            ),
    ])
    .expect("schema")
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn large_fan_out_in_bounded_memory() {
    let children: i64 = std::env::var("CASCADIA_FANOUT_CHILDREN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("cascadia-fanout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("fanout.db");
    let store = SqliteStore::open(&path, schema(), SqliteOptions::default()).expect("store");
    let started = Instant::now();
    store
        .with_connection_mut(|conn| {
            let tx = conn.transaction()?;
            tx.execute("INSERT INTO parents VALUES (1)", [])?;
            tx.execute("INSERT INTO parents VALUES (2)", [])?;
            {
                let mut child = tx.prepare("INSERT INTO children VALUES (?1, ?2)")?;
                let mut grandchild = tx.prepare("INSERT INTO grandchildren VALUES (?1, ?2, ?3)")?;
                for c in 0..children + 10 {
                    // Ten children of parent 2 must stay.
                    let parent = if c < children { 1 } else { 2 };
                    child.execute(rusqlite::params![c, parent])?;
                    for g in 0..5 {
                        grandchild.execute(rusqlite::params![c * 5 + g, c, "grandchild"])?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
        .expect("fill");
    let filled = started.elapsed();

    let db = Database::new(store.clone());
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before_kib = peak_rss_kib();
    let (max_rows, max_held, batches) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let (rows, held, count) = (max_rows.clone(), max_held.clone(), batches.clone());
    let options = DeleteOptions::default()
        .batch_rows(1_000)
        .budget(Budget::DEFAULT.rows_written(1_000))
        .observer(move |p: &Progress| {
            rows.fetch_max(p.batch_rows_written, Ordering::Relaxed);
            held.fetch_max(p.held_rows as u64, Ordering::Relaxed);
            count.fetch_add(1, Ordering::Relaxed);
        });
    let started = Instant::now();
    let outcome = db
        .delete_rows("parents", &[vec![Value::Integer(1)]], &options)
        .expect("delete");
    let deleted_in = started.elapsed();
    let peak_kib = peak_rss_kib();

    assert_eq!(outcome.rows_deleted("parents"), 1);
    assert_eq!(outcome.rows_deleted("children"), children as u64);
    assert_eq!(outcome.rows_deleted("grandchildren"), 5 * children as u64);
    let left: (i64, i64, i64, usize) = store
        .with_connection_mut(|conn| {
            let count = |table: &str| -> rusqlite::Result<i64> {
                conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            };
            let orphans = conn
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |_| Ok(()))?
                .count();
            Ok((
                count("parents")?,
                count("children")?,
                count("grandchildren")?,
                orphans,
            ))
        })
        .expect("counts");
    assert_eq!(left, (1, 10, 50, 0), "parent 2's rows stay, no orphan");
    let max_rows = max_rows.load(Ordering::Relaxed);
    let max_held = max_held.load(Ordering::Relaxed);
    assert!(max_rows <= 1_000, "a batch wrote {max_rows} rows");
    assert!(
        max_held <= 3 * 1_000,
        "the executor held {max_held} rows (depth 3 × batch 1,000)"
    );
    let peak_mib = peak_kib.map(|kib| kib as f64 / 1024.0);
    if let Some(peak) = peak_mib {
        assert!(peak < 200.0, "peak RSS {peak:.0} MiB");
    }
    println!(
        "fan-out: {} rows deleted ({:.1}s to fill), in {:.1}s over {} batches; max rows per batch {max_rows}, max rows held {max_held}; peak RSS {:.1} MiB (before the delete {:.1} MiB)",
        outcome.rows_deleted("parents")
            + outcome.rows_deleted("children")
            + outcome.rows_deleted("grandchildren"),
        filled.as_secs_f64(),
        deleted_in.as_secs_f64(),
        batches.load(Ordering::Relaxed),
        peak_mib.unwrap_or(0.0),
        before_kib.map_or(0.0, |kib| kib as f64 / 1024.0),
    );
    drop(db);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
