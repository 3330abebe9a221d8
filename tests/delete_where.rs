//! Deletes by condition: the roots are found through an index, a page at a
//! time, and their cascades run in the same job, with the same results as a
//! delete of the same keys; explain, max_rows, queued jobs and the
//! full-scan refusal work on them, on every store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Budget, Database, DeleteOptions, Error, ExplainOptions, Filter, FilterOp, FullScan,
    IndexRef, MemoryStore, Progress, Schema, SqliteOptions, SqliteStore, TableMeta, Value,
    ValueType, Worker,
};

/// `staff(id)` ← `rentals(id, staff_id, day)` ← `payments(id, rental_id)`,
/// both CASCADE; `rentals` indexed by `(staff_id, day)`.
fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("staff")
            .with_column(id())
            .with_primary_key(["id"]),
        TableMeta::new("rentals")
            .with_column(id())
            .with_column(ColumnMeta::new("staff_id", ValueType::Integer))
            .with_column(ColumnMeta::new("day", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_staff_day", ["staff_id", "day"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["staff_id"], "staff", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_staff_day".into())),
            ),
        TableMeta::new("payments")
            .with_column(id())
            .with_column(ColumnMeta::new("rental_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_rental", ["rental_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["rental_id"], "rentals", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_rental".into())),
            ),
    ])
    .expect("schema")
}

fn int(v: i64) -> Value {
    Value::Integer(v)
}

/// Two staff; 600 rentals each over 30 days, two payments per rental.
fn filled() -> Vec<(&'static str, Database)> {
    let dbs = vec![
        ("memory", Database::new(MemoryStore::new(schema()).unwrap())),
        (
            "sqlite",
            Database::new(SqliteStore::open_in_memory(schema(), SqliteOptions::default()).unwrap()),
        ),
    ];
    for (_, db) in &dbs {
        db.write(|tx| {
            for staff in 1..=2 {
                tx.insert_row("staff", vec![int(staff)])?;
                for r in 0..600 {
                    let rental = staff * 10_000 + r;
                    tx.insert_row("rentals", vec![int(rental), int(staff), int(r % 30)])?;
                    for p in 0..2 {
                        tx.insert_row("payments", vec![int(rental * 10 + p), int(rental)])?;
                    }
                }
            }
            Ok::<_, cascadia::Error>(())
        })
        .unwrap();
    }
    dbs
}

fn by_staff(staff: i64) -> Vec<Filter> {
    vec![Filter::new("staff_id", FilterOp::Eq, staff)]
}

#[test]
fn a_delete_where_runs_in_bounded_batches_and_equals_the_delete_of_the_same_keys() {
    for (store, db) in filled() {
        let held = Arc::new(AtomicUsize::new(0));
        let seen = held.clone();
        let options = DeleteOptions::default()
            .budget(Budget::DEFAULT.rows_written(100))
            .observer(move |p: &Progress| {
                seen.fetch_max(p.held_rows, Ordering::Relaxed);
            });
        let filters = vec![
            Filter::new("staff_id", FilterOp::Eq, 1),
            Filter::new("day", FilterOp::Lt, 10),
        ];
        let explained = db
            .explain_delete_rows_where("rentals", &filters, &ExplainOptions::default())
            .unwrap();
        let outcome = db.delete_rows_where("rentals", &filters, &options).unwrap();
        assert_eq!(outcome.rows_deleted("rentals"), 200, "{store}");
        assert_eq!(outcome.rows_deleted("payments"), 400, "{store}");
        assert_eq!(explained.tables["rentals"].deleted, 200, "{store}");
        assert_eq!(explained.tables["payments"].deleted, 400, "{store}");
        assert!(outcome.job.is_some(), "{store}: more than one batch");
        let held = held.load(Ordering::Relaxed);
        assert!(
            held <= 128,
            "{store}: {held} rows held at once for 600 deleted"
        );
        let rentals = db.rows("rentals").unwrap();
        assert_eq!(rentals.len(), 1_000, "{store}");
        assert!(
            rentals.iter().all(|r| r[1] != int(1) || r[2] >= int(10)),
            "{store}: only the matching rentals went"
        );
        assert_eq!(db.rows("payments").unwrap().len(), 2_000, "{store}");
        assert!(db.jobs().unwrap().is_empty(), "{store}");
    }
}

#[test]
fn max_rows_counts_a_delete_where_before_anything_is_written() {
    for (store, db) in filled() {
        let options = DeleteOptions::default().max_rows(1_000);
        let error = db
            .delete_rows_where("rentals", &by_staff(2), &options)
            .unwrap_err();
        assert!(
            matches!(error, Error::TooManyRows { limit: 1_000, .. }),
            "{store}: {error}"
        );
        assert_eq!(
            db.rows("rentals").unwrap().len(),
            1_200,
            "{store}: nothing written"
        );
        let sync = DeleteOptions::default().sync().max_rows(2_000);
        let outcome = db
            .delete_rows_where("rentals", &by_staff(2), &sync)
            .unwrap();
        assert_eq!(outcome.rows_written(), 1_800, "{store}");
    }
}

#[test]
fn a_filter_no_index_serves_needs_a_full_scan_asked_for() {
    for (store, db) in filled() {
        let by_day = vec![Filter::new("day", FilterOp::Eq, 3)];
        let error = db
            .delete_rows_where("rentals", &by_day, &DeleteOptions::default())
            .unwrap_err();
        assert!(matches!(error, Error::NoIndexServes(_)), "{store}: {error}");
        assert_eq!(db.rows("rentals").unwrap().len(), 1_200, "{store}");
        let scan = DeleteOptions::default().full_scan(FullScan::Allow);
        let outcome = db.delete_rows_where("rentals", &by_day, &scan).unwrap();
        assert_eq!(outcome.rows_deleted("rentals"), 40, "{store}");
    }
}

#[test]
fn a_queued_delete_where_is_one_job_a_worker_drains() {
    for (store, db) in filled() {
        let options = DeleteOptions::default().budget(Budget::DEFAULT.rows_written(50));
        let job = db
            .enqueue_delete_rows_where("rentals", &by_staff(1), &options)
            .unwrap();
        let info = db.job(job).unwrap().expect("queued");
        assert_eq!(info.table, "rentals", "{store}");
        let report = Worker::new(db.clone()).run_until_idle().unwrap();
        assert_eq!(report.finished.len(), 1, "{store}");
        let outcome = &report.finished[0].1;
        assert_eq!(outcome.rows_deleted("rentals"), 600, "{store}");
        assert_eq!(outcome.rows_deleted("payments"), 1_200, "{store}");
        assert_eq!(db.rows("rentals").unwrap().len(), 600, "{store}");
    }
}
