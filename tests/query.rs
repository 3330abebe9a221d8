//! Reads by dynamic filters: the planner's index read plus residual filters
//! returns exactly the rows that satisfy the filters, on both stores, and a
//! filter no index serves is refused unless a scan is allowed.

use cascadia::{
    Database, Error, MemoryStore, Schema, SqliteOptions, SqliteStore, Table, Value, schema,
};
use cascadia::{Filter, FilterOp, FullScan};
use serde::{Deserialize, Serialize};

#[derive(Table, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[table(name = "events")]
#[index(name = "by_kind_time", columns(kind, time))]
#[index(name = "by_user", columns(user))]
struct Event {
    #[primary_key]
    id: i64,
    kind: i64,
    time: i64,
    user: Option<i64>,
}

static SCHEMA: Schema = schema![Event];

fn databases() -> Vec<(&'static str, Database)> {
    let sqlite = SqliteStore::open_in_memory(SCHEMA.clone(), SqliteOptions::default()).unwrap();
    let memory = MemoryStore::new(SCHEMA.clone()).unwrap();
    let dbs = vec![
        ("sqlite", Database::new(sqlite)),
        ("memory", Database::new(memory)),
    ];
    for (_, db) in &dbs {
        db.write(|tx| {
            for id in 0..300 {
                tx.insert(&Event {
                    id,
                    kind: id % 4,
                    time: (id * 7) % 50,
                    user: (id % 5 != 0).then_some(id % 6),
                })?;
            }
            Ok::<_, cascadia::Error>(())
        })
        .unwrap();
    }
    dbs
}

/// The rows of `db` that satisfy every filter, by brute force.
fn expected(db: &Database, filters: &[Filter]) -> Vec<Vec<Value>> {
    let meta = SCHEMA.table("events").unwrap();
    let mut rows: Vec<_> = db
        .rows("events")
        .unwrap()
        .into_iter()
        .filter(|row| {
            filters
                .iter()
                .all(|f| f.matches(&row[meta.column_position(&f.column).unwrap()]))
        })
        .collect();
    rows.sort();
    rows
}

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.sort();
    rows
}

#[test]
fn query_through_an_index_prefix_with_residual_filters() {
    let filters = [
        Filter::new("kind", FilterOp::Eq, 2),
        Filter::new("time", FilterOp::Ge, 10),
        Filter::new("time", FilterOp::Lt, 40),
        Filter::new("user", FilterOp::Eq, 2),
    ];
    for (backend, db) in databases() {
        let rows = db.query_rows("events", &filters, FullScan::Refuse).unwrap();
        let want = expected(&db, &filters);
        assert!(
            !want.is_empty(),
            "{backend}: the data must exercise the query"
        );
        assert_eq!(sorted(rows), want, "{backend}");

        let typed = db.query::<Event>(&filters, FullScan::Refuse).unwrap();
        assert_eq!(typed.len(), want.len(), "{backend}");
        assert!(
            typed
                .iter()
                .all(|e| e.kind == 2 && (10..40).contains(&e.time) && e.user == Some(2))
        );
    }
}

#[test]
fn a_filter_no_index_serves_is_refused_unless_a_scan_is_allowed() {
    let filters = [Filter::new("time", FilterOp::Gt, 45)];
    for (backend, db) in databases() {
        match db.query_rows("events", &filters, FullScan::Refuse) {
            Err(Error::NoIndexServes(error)) => {
                assert_eq!(error.table, "events");
                assert!(error.to_string().contains("`time`"), "{error}");
            }
            other => panic!("{backend}: expected NoIndexServes, got {other:?}"),
        }
        let rows = db.query_rows("events", &filters, FullScan::Allow).unwrap();
        assert_eq!(sorted(rows), expected(&db, &filters), "{backend}");
    }
}

#[test]
fn null_never_matches_a_filter() {
    let filters = [Filter::new("user", FilterOp::Eq, Value::Null)];
    for (backend, db) in databases() {
        assert!(
            db.query_rows("events", &filters, FullScan::Refuse)
                .unwrap()
                .is_empty(),
            "{backend}"
        );
        let ge = [Filter::new("user", FilterOp::Ge, 0)];
        let rows = db.query_rows("events", &ge, FullScan::Refuse).unwrap();
        assert_eq!(
            rows.len(),
            240,
            "{backend}: the 60 rows with a NULL user are left out"
        );
    }
}
