//! One suite for every backend: the `Store` / `Transaction` contract and the
//! `Database` behaviour on top of it. `store_suite!` generates the same
//! tests for the memory store, the SQLite store and the PostgreSQL store
//! (each PostgreSQL test in a schema of its own, on the server
//! `CASCADIA_POSTGRES_URL` names).

mod common;

use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Access, Action, ChildScan, ChildWrite, Claim, ColumnRange, Database, DeleteOptions, Error,
    IndexRange, IndexRef, JobFilter, JobRow, Lease, MemoryStore, ScanPosition, Schema,
    SqliteOptions, SqliteStore, Store, TableMeta, UpdateOptions, Value, ValueType,
};
use common::{int, teams_schema, text};

fn team(id: i64, slug: &str) -> Vec<Value> {
    vec![int(id), text(slug)]
}

fn member(id: i64, team: i64, mentor: Option<i64>, name: &str) -> Vec<Value> {
    vec![
        int(id),
        int(team),
        mentor.map_or(Value::Null, int),
        text(name),
    ]
}

/// Teams 1 and 2; members 10..=15 of team 1 (names m0..m5, 11..15 mentored
/// by 10), member 20 of team 2; posts on 10 and 20.
fn fill(store: &dyn Store) {
    let mut tx = store.begin(Access::Write).unwrap();
    tx.insert("teams", &team(1, "one")).unwrap();
    tx.insert("teams", &team(2, "two")).unwrap();
    for i in 0..6 {
        let mentor = (i > 0).then_some(10);
        tx.insert("members", &member(10 + i, 1, mentor, &format!("m{i}")))
            .unwrap();
    }
    tx.insert("members", &member(20, 2, None, "x")).unwrap();
    tx.insert("posts", &[int(100), int(10), text("p")]).unwrap();
    tx.insert("posts", &[int(101), int(20), text("q")]).unwrap();
    tx.commit().unwrap();
}

fn ids(rows: &[Vec<Value>]) -> Vec<i64> {
    rows.iter()
        .map(|row| match row[0] {
            Value::Integer(id) => id,
            _ => -1,
        })
        .collect()
}

/// The ids of rows a set-based write returned (in no particular order),
/// sorted.
fn sorted_ids(rows: &[Vec<Value>]) -> Vec<i64> {
    let mut ids = ids(rows);
    ids.sort_unstable();
    ids
}

fn by_team(prefix: Vec<Value>) -> IndexRange {
    IndexRange {
        table: "members".into(),
        index: IndexRef::Index("by_team".into()),
        prefix,
        range: None,
    }
}

macro_rules! store_suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            // One counter per backend: the suites run in parallel.
            static NEXT_DEFAULT: AtomicI64 = AtomicI64::new(0);

            fn next_default() -> Value {
                // Alternates 1, 2, 1, 2...: a computed default evaluated per row.
                Value::Integer(1 + NEXT_DEFAULT.fetch_add(1, Ordering::SeqCst) % 2)
            }

            /// `p(id)`, `c(id, pid → p SET DEFAULT with a computed default)`.
            fn computed_default_schema() -> Schema {
                Schema::new(vec![
                    TableMeta::new("p")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_primary_key(["id"]),
                    TableMeta::new("c")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_column(
                            ColumnMeta::new("pid", ValueType::Integer).with_computed_default(next_default),
                        )
                        .with_primary_key(["id"])
                        .with_index(IndexMeta::new("by_p", ["pid"]))
                        .with_foreign_key(
                            ForeignKeyMeta::new(["pid"], "p", ["id"])
                                .on_delete(Action::SetDefault)
                                .with_index(IndexRef::Index("by_p".into())),
                        ),
                ])
                .unwrap()
            }

            fn open(schema: Schema) -> Box<dyn Store> {
                let open: fn(Schema) -> Box<dyn Store> = $open;
                open(schema)
            }

            fn store() -> Box<dyn Store> {
                let store = open(teams_schema());
                fill(&*store);
                store
            }

            fn database(schema: Schema) -> Database {
                let store: std::sync::Arc<dyn Store> = open(schema).into();
                Database::from_shared(store)
            }

            fn filled() -> Database {
                let store: std::sync::Arc<dyn Store> = store().into();
                Database::from_shared(store)
            }

            #[test]
            fn get_insert_update_delete() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                assert_eq!(tx.get("teams", &[int(1)]).unwrap(), Some(team(1, "one")));
                assert_eq!(tx.get("teams", &[int(9)]).unwrap(), None);
                assert!(tx.update("teams", &[int(1)], &team(1, "uno")).unwrap());
                assert!(!tx.update("teams", &[int(9)], &team(9, "x")).unwrap());
                assert_eq!(tx.get("teams", &[int(1)]).unwrap(), Some(team(1, "uno")));
                assert!(tx.delete("posts", &[int(100)]).unwrap());
                assert!(!tx.delete("posts", &[int(100)]).unwrap());
                assert_eq!(
                    tx.delete_many("posts", &[vec![int(101)], vec![int(7)]]).unwrap(),
                    1
                );
                tx.commit().unwrap();
                let mut tx = store.begin(Access::Read).unwrap();
                assert_eq!(tx.get("teams", &[int(1)]).unwrap(), Some(team(1, "uno")));
                assert_eq!(tx.get("posts", &[int(100)]).unwrap(), None);
            }

            #[test]
            fn get_many_returns_the_rows_of_the_keys_that_have_one() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let keys = [vec![int(12)], vec![int(99)], vec![int(10)], vec![int(20)]];
                let rows = tx.get_many("members", &keys).unwrap();
                assert_eq!(sorted_ids(&rows), vec![10, 12, 20]);
                assert!(rows.contains(&member(12, 1, Some(10), "m2")));
                assert_eq!(tx.get_many("members", &[]).unwrap(), Vec::<Vec<Value>>::new());
                let error = tx
                    .get_many("members", &[vec![int(10), int(1)]])
                    .unwrap_err();
                assert!(matches!(error, Error::KeyShape { .. }), "{error}");
                let error = tx.get_many("nope", &[vec![int(1)]]).unwrap_err();
                assert!(matches!(error, Error::UnknownTable { .. }), "{error}");
            }

            #[test]
            fn duplicate_primary_key_is_refused() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                match tx.insert("teams", &team(1, "other")).unwrap_err() {
                    Error::Duplicate { table, columns, values, .. } => {
                        assert_eq!(table, "teams");
                        assert_eq!(columns, vec!["id"]);
                        assert_eq!(values, vec![int(1)]);
                    }
                    other => panic!("{other}"),
                }
            }

            #[test]
            fn unique_index_is_enforced_and_nulls_never_collide() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                let error = tx.insert("teams", &team(3, "one")).unwrap_err();
                assert!(
                    matches!(&error, Error::Duplicate { columns, .. } if columns == &["slug"]),
                    "{error}"
                );
                let error = tx.update("teams", &[int(2)], &team(2, "one")).unwrap_err();
                assert!(error.is_unique(), "{error}");
                // Updating a row to its own unique values is no collision.
                assert!(tx.update("teams", &[int(1)], &team(1, "one")).unwrap());
                // The failed writes changed nothing.
                assert_eq!(tx.get("teams", &[int(2)]).unwrap(), Some(team(2, "two")));
                assert_eq!(tx.get("teams", &[int(3)]).unwrap(), None);
            }

            #[test]
            fn nulls_in_a_unique_key_never_collide() {
                let schema = Schema::new(vec![
                    TableMeta::new("t")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_column(ColumnMeta::new("a", ValueType::Integer).nullable())
                        .with_column(ColumnMeta::new("b", ValueType::Integer).nullable())
                        .with_primary_key(["id"])
                        .with_index(IndexMeta::new("ab", ["a", "b"]).unique()),
                ])
                .unwrap();
                let store = open(schema);
                let mut tx = store.begin(Access::Write).unwrap();
                tx.insert("t", &[int(1), int(1), Value::Null]).unwrap();
                tx.insert("t", &[int(2), int(1), Value::Null]).unwrap();
                tx.insert("t", &[int(3), int(1), int(2)]).unwrap();
                assert!(tx.insert("t", &[int(4), int(1), int(2)]).unwrap_err().is_unique());
            }

            #[test]
            fn update_can_change_the_primary_key() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                assert!(tx.update("members", &[int(20)], &member(21, 2, None, "x")).unwrap());
                assert_eq!(tx.get("members", &[int(20)]).unwrap(), None);
                let found = tx.scan(&by_team(vec![int(2)]), None, 10).unwrap();
                assert_eq!(ids(&found), vec![21]);
                let error = tx
                    .update("members", &[int(21)], &member(10, 2, None, "x"))
                    .unwrap_err();
                assert!(error.is_unique(), "{error}");
            }

            #[test]
            fn scans_follow_index_then_primary_key_order() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let all = tx.scan(&by_team(vec![]), None, 100).unwrap();
                assert_eq!(ids(&all), vec![10, 11, 12, 13, 14, 15, 20]);
                let team_one = tx.scan(&by_team(vec![int(1)]), None, 100).unwrap();
                assert_eq!(ids(&team_one), vec![10, 11, 12, 13, 14, 15]);
                let exact = tx.scan(&by_team(vec![int(1), text("m3")]), None, 100).unwrap();
                assert_eq!(ids(&exact), vec![13]);
                let pk = IndexRange::new("members", IndexRef::PrimaryKey);
                assert_eq!(ids(&tx.scan(&pk, None, 3).unwrap()), vec![10, 11, 12]);
                let mentored = IndexRange {
                    table: "members".into(),
                    index: IndexRef::Index("by_mentor".into()),
                    prefix: vec![int(10)],
                    range: None,
                };
                assert_eq!(ids(&tx.scan(&mentored, None, 100).unwrap()), vec![11, 12, 13, 14, 15]);
            }

            #[test]
            fn scan_ranges_respect_their_bounds() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let range = |lower, upper| IndexRange {
                    range: Some(ColumnRange { lower, upper }),
                    ..by_team(vec![int(1)])
                };
                let cases = [
                    (Bound::Included(text("m1")), Bound::Included(text("m3")), vec![11, 12, 13]),
                    (Bound::Excluded(text("m1")), Bound::Excluded(text("m3")), vec![12]),
                    (Bound::Unbounded, Bound::Excluded(text("m2")), vec![10, 11]),
                    (Bound::Excluded(text("m4")), Bound::Unbounded, vec![15]),
                ];
                for (lower, upper, expected) in cases {
                    let found = tx.scan(&range(lower.clone(), upper.clone()), None, 100).unwrap();
                    assert_eq!(ids(&found), expected, "{lower:?}..{upper:?}");
                }
                let pk_range = IndexRange {
                    table: "members".into(),
                    index: IndexRef::PrimaryKey,
                    prefix: vec![],
                    range: Some(ColumnRange {
                        lower: Bound::Included(int(12)),
                        upper: Bound::Excluded(int(15)),
                    }),
                };
                assert_eq!(ids(&tx.scan(&pk_range, None, 100).unwrap()), vec![12, 13, 14]);
            }

            #[test]
            fn scans_resume_after_a_position() {
                let store = store();
                let db_schema = teams_schema();
                let mut tx = store.begin(Access::Read).unwrap();
                for range in [
                    by_team(vec![]),
                    by_team(vec![int(1)]),
                    IndexRange::new("members", IndexRef::PrimaryKey),
                    IndexRange::new("members", IndexRef::Index("by_mentor".into())),
                ] {
                    let all = tx.scan(&range, None, 100).unwrap();
                    for page_size in 1..4 {
                        let mut paged = Vec::new();
                        let mut after: Option<ScanPosition> = None;
                        loop {
                            let page = tx.scan(&range, after.as_ref(), page_size).unwrap();
                            let Some(last) = page.last() else { break };
                            after = Some(ScanPosition::after_row(&db_schema, &range, last).unwrap());
                            let full = page.len() == page_size;
                            paged.extend(page);
                            if !full {
                                break;
                            }
                        }
                        assert_eq!(ids(&paged), ids(&all), "{range} by {page_size}");
                    }
                }
            }

            #[test]
            fn null_never_matches_a_prefix() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let mentorless = IndexRange {
                    table: "members".into(),
                    index: IndexRef::Index("by_mentor".into()),
                    prefix: vec![Value::Null],
                    range: None,
                };
                assert!(tx.scan(&mentorless, None, 100).unwrap().is_empty());
            }

            #[test]
            fn scan_where_filters_without_an_index() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                // members.name is column 3
                let found = tx.scan_where("members", &[1, 3], &[int(1), text("m2")], None, 10).unwrap();
                assert_eq!(ids(&found), vec![12]);
                let team_one = tx.scan_where("members", &[1], &[int(1)], Some(&[int(12)]), 2).unwrap();
                assert_eq!(ids(&team_one), vec![13, 14]);
                assert!(tx.scan_where("members", &[2], &[Value::Null], None, 10).unwrap().is_empty());
            }

            #[test]
            fn invalid_ranges_and_keys_are_refused() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let too_long = by_team(vec![int(1), text("m1"), int(3)]);
                assert!(matches!(tx.scan(&too_long, None, 1), Err(Error::InvalidRange { .. })));
                let unknown = IndexRange::new("members", IndexRef::Index("nope".into()));
                assert!(matches!(tx.scan(&unknown, None, 1), Err(Error::InvalidRange { .. })));
                let range_after_everything = IndexRange {
                    range: Some(ColumnRange {
                        lower: Bound::Included(int(1)),
                        upper: Bound::Unbounded,
                    }),
                    ..by_team(vec![int(1), text("m1")])
                };
                assert!(matches!(
                    tx.scan(&range_after_everything, None, 1),
                    Err(Error::InvalidRange { .. })
                ));
                let unindexed = IndexRange::new("members", IndexRef::Unindexed);
                assert!(matches!(tx.scan(&unindexed, None, 1), Err(Error::InvalidRange { .. })));
                assert!(matches!(tx.get("nope", &[int(1)]), Err(Error::UnknownTable { .. })));
                assert!(matches!(tx.get("teams", &[int(1), int(2)]), Err(Error::KeyShape { .. })));
            }

            #[test]
            fn a_dropped_transaction_rolls_back() {
                let store = store();
                {
                    let mut tx = store.begin(Access::Write).unwrap();
                    tx.insert("teams", &team(3, "three")).unwrap();
                    tx.update("teams", &[int(1)], &team(7, "seven")).unwrap();
                    tx.delete("posts", &[int(100)]).unwrap();
                    let job = tx.insert_job(&JobRow::new("teams", None, b"state".to_vec())).unwrap();
                    tx.put_job_roots(job, 0, b"roots").unwrap();
                }
                let mut tx = store.begin(Access::Read).unwrap();
                assert_eq!(tx.get("teams", &[int(3)]).unwrap(), None);
                assert_eq!(tx.get("teams", &[int(1)]).unwrap(), Some(team(1, "one")));
                assert_eq!(tx.get("teams", &[int(7)]).unwrap(), None);
                assert!(tx.get("posts", &[int(100)]).unwrap().is_some());
                assert!(tx.list_jobs(JobFilter::ALL).unwrap().is_empty());
                // The indexes were rolled back too.
                let slug = IndexRange {
                    table: "teams".into(),
                    index: IndexRef::Index("by_slug".into()),
                    prefix: vec![text("seven")],
                    range: None,
                };
                assert!(tx.scan(&slug, None, 10).unwrap().is_empty());
            }

            #[test]
            fn savepoints_nest() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                tx.savepoint().unwrap();
                tx.insert("teams", &team(3, "three")).unwrap();
                tx.savepoint().unwrap();
                tx.insert("teams", &team(4, "four")).unwrap();
                tx.rollback_to_savepoint().unwrap();
                tx.release_savepoint().unwrap();
                assert!(matches!(tx.release_savepoint(), Err(Error::NoSavepoint)));
                tx.commit().unwrap();
                let mut tx = store.begin(Access::Read).unwrap();
                assert!(tx.get("teams", &[int(3)]).unwrap().is_some());
                assert!(tx.get("teams", &[int(4)]).unwrap().is_none());
            }

            #[test]
            fn job_rows_commit_with_the_rows() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                let first = tx.insert_job(&JobRow::new("teams", None, b"one".to_vec())).unwrap();
                let second = tx.insert_job(&JobRow::new("members", Some(5), b"two".to_vec())).unwrap();
                assert!(second > first, "ids increase: {first} then {second}");
                tx.put_job_roots(first, 0, b"keys 0").unwrap();
                tx.put_job_roots(first, 1, b"keys 1").unwrap();
                tx.put_job_roots(first, 1, b"keys 1 again").unwrap();
                tx.delete("posts", &[int(100)]).unwrap();
                tx.commit().unwrap();
                let mut tx = store.begin(Access::Write).unwrap();
                let jobs = tx.list_jobs(JobFilter::ALL).unwrap();
                assert_eq!(
                    jobs.iter().map(|j| (j.id, j.table.as_str(), j.due_ms, j.state.as_slice())).collect::<Vec<_>>(),
                    vec![(first, "teams", None, &b"one"[..]), (second, "members", Some(5), &b"two"[..])]
                );
                assert_eq!(tx.job_roots(first, 1).unwrap().as_deref(), Some(&b"keys 1 again"[..]));
                assert_eq!(tx.job_roots(first, 2).unwrap(), None);
                let mut row = tx.job(second).unwrap().unwrap();
                row.active = false;
                row.generation = 3;
                row.state = b"three".to_vec();
                assert!(tx.update_job(&row).unwrap());
                assert_eq!(tx.job(second).unwrap(), Some(row.clone()));
                let active = tx.list_jobs(JobFilter::ACTIVE).unwrap();
                assert_eq!(active.iter().map(|j| j.id).collect::<Vec<_>>(), vec![first]);
                assert!(active[0].state.is_empty(), "listed without its state");
                assert!(tx.delete_job(first).unwrap());
                assert!(!tx.delete_job(first).unwrap());
                assert_eq!(tx.job_roots(first, 0).unwrap(), None, "the roots go with the job");
                assert_eq!(tx.job(first).unwrap(), None);
                tx.commit().unwrap();
                let mut tx = store.begin(Access::Write).unwrap();
                let third = tx.insert_job(&JobRow::new("teams", None, Vec::new())).unwrap();
                assert!(third > second, "a deleted job's id is not given again");
            }

            #[test]
            fn a_claim_takes_the_first_due_job_no_other_worker_holds() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                let later = tx.insert_job(&JobRow::new("teams", Some(2_000), b"later".to_vec())).unwrap();
                let mut row = JobRow::new("teams", None, b"held".to_vec());
                row.lease = Some(Lease { owner: "other".into(), until_ms: 1_500 });
                let held = tx.insert_job(&row).unwrap();
                let mut row = JobRow::new("teams", None, b"stopped".to_vec());
                row.active = false;
                tx.insert_job(&row).unwrap();
                let free = tx.insert_job(&JobRow::new("teams", None, b"free".to_vec())).unwrap();
                tx.commit().unwrap();

                let mut tx = store.begin(Access::Write).unwrap();
                let claimed = tx.claim_job(&Claim::new("me", 1_000, 31_000)).unwrap().unwrap();
                assert_eq!((claimed.id, claimed.state.as_slice()), (free, &b"free"[..]));
                assert_eq!(claimed.lease, Some(Lease { owner: "me".into(), until_ms: 31_000 }));
                assert_eq!(tx.job(free).unwrap().unwrap().lease, claimed.lease);
                // Leased to me now: a claim by another skips it; so is
                // everything else at 1,000 ms.
                assert_eq!(tx.claim_job(&Claim::new("you", 1_000, 31_000)).unwrap(), None);
                // My own lease does not keep me out.
                assert_eq!(tx.claim_job(&Claim::new("me", 1_000, 32_000)).unwrap().map(|j| j.id), Some(free));
                tx.commit().unwrap();

                let mut tx = store.begin(Access::Write).unwrap();
                // At 1,500 ms the other worker's lease has expired: its job is
                // taken over, before the later one is due.
                let taken = tx.claim_job(&Claim::new("you", 1_500, 9_000)).unwrap().unwrap();
                assert_eq!(taken.id, held);
                let due = tx.claim_job(&Claim::new("them", 2_000, 9_000)).unwrap().unwrap();
                assert_eq!(due.id, later);
                assert_eq!(tx.claim_job(&Claim::new("others", 2_000, 9_000)).unwrap(), None);
                tx.commit().unwrap();
                let mut tx = store.begin(Access::Read).unwrap();
                assert!(matches!(tx.claim_job(&Claim::new("me", 0, 1)), Err(Error::ReadOnly)));
            }

            #[test]
            fn delete_children_takes_rows_in_scan_order_within_rows_and_bytes() {
                // Members of team 1 in index order (team_id, name): 10 (m0,
                // 19 bytes: no mentor), then 11..15 (26 bytes each).
                let store = store();
                let range = IndexRange::new("members", IndexRef::Index("by_team".into()));
                let team_one = [vec![int(1)]];
                let id = [0usize];
                let write = |limit, bytes, first| {
                    ChildWrite::new(ChildScan::new(&range, &team_one, limit).columns(&id))
                        .bytes(bytes, first)
                };
                let all = vec![10, 11, 12, 13, 14, 15];
                // (limit, bytes, first row always, rows taken, all taken:
                // `None` when a store may not be able to tell)
                for (limit, bytes, first, expected, exhausted) in [
                    (2, None, false, vec![10, 11], Some(false)),
                    (10, Some(45), false, vec![10, 11], Some(false)),
                    (10, Some(44), false, vec![10], Some(false)),
                    (10, Some(10), true, vec![10], Some(false)),
                    (10, Some(10), false, vec![], Some(false)),
                    (0, None, true, vec![], Some(false)),
                    (5, Some(1_000), false, all[..5].to_vec(), Some(false)),
                    (6, Some(1_000), false, all.clone(), None),
                    (10, Some(149), false, all.clone(), Some(true)),
                    (10, None, false, all.clone(), Some(true)),
                ] {
                    let mut tx = store.begin(Access::Write).unwrap();
                    let written = tx.delete_children(&write(limit, bytes, first)).unwrap();
                    assert_eq!(sorted_ids(&written.returned), expected, "limit {limit}, bytes {bytes:?}");
                    if let Some(exhausted) = exhausted {
                        assert_eq!(written.exhausted, exhausted, "limit {limit}, bytes {bytes:?}");
                    }
                    assert_eq!(written.rows, expected.len() as u64);
                    let sizes: u64 = expected.iter().map(|&id| if id == 10 { 19 } else { 26 }).sum();
                    // Without a byte limit a store may leave the sizes
                    // uncounted (SQLite does: it then reads no row).
                    let counted = written.bytes == sizes || bytes.is_none() && written.bytes == 0;
                    assert!(counted, "limit {limit}, bytes {bytes:?}: {} bytes", written.bytes);
                    assert!(written.returned.iter().all(|row| row[3] == Value::Null), "only the id asked for");
                    let scan = ChildScan::new(&range, &team_one, 100);
                    assert_eq!(tx.count_children(&scan).unwrap(), 6 - expected.len() as u64);
                    // Rolled back when dropped.
                }
                let mut tx = store.begin(Access::Write).unwrap();
                // Several parents at once; a NULL parent matches nothing.
                let mentors = IndexRange::new("members", IndexRef::Index("by_mentor".into()));
                let parents = [vec![int(10)], vec![Value::Null], vec![int(99)]];
                let written = tx.delete_children(&ChildWrite::new(ChildScan::new(&mentors, &parents, 100))).unwrap();
                assert_eq!((written.rows, written.returned.len()), (5, 0), "no column asked for");
                let left = tx.scan(&by_team(vec![int(1)]), None, 10).unwrap();
                assert_eq!(ids(&left), vec![10]);
                drop(tx);
                let mut tx = store.begin(Access::Read).unwrap();
                assert!(matches!(tx.delete_children(&write(1, None, false)), Err(Error::ReadOnly)));
            }

            #[test]
            fn update_children_sets_columns_and_counts_the_new_rows() {
                let store = store();
                let mut tx = store.begin(Access::Write).unwrap();
                let mentors = IndexRange::new("members", IndexRef::Index("by_mentor".into()));
                let parents = [vec![int(10)]];
                let returned = [0usize, 2];
                let write = ChildWrite::new(ChildScan::new(&mentors, &parents, 3).columns(&returned))
                    .bytes(Some(1_000), false);
                let written = tx.update_children(&write, &[(2, Value::Null)]).unwrap();
                assert_eq!(sorted_ids(&written.returned), vec![11, 12, 13]);
                assert!(written.returned.iter().all(|row| row[2] == Value::Null));
                // Each row after the update: 8 + 8 + 1 (NULL) + 2.
                assert_eq!((written.rows, written.bytes), (3, 57));
                assert_eq!(tx.count_children(&ChildScan::new(&mentors, &parents, 1)).unwrap(), 2);
                assert_eq!(tx.get("members", &[int(12)]).unwrap(), Some(member(12, 1, None, "m2")));
                // A new key for the rest: the byte limit counts the rows as
                // updated (8 + 8 + 8 + 2 = 26 each).
                let write = ChildWrite::new(ChildScan::new(&mentors, &parents, 10)).bytes(Some(26), false);
                let written = tx.update_children(&write, &[(2, int(20))]).unwrap();
                assert_eq!((written.rows, written.bytes), (1, 26));
                assert_eq!(tx.get("members", &[int(14)]).unwrap(), Some(member(14, 1, Some(20), "m4")));
                assert_eq!(tx.count_children(&ChildScan::new(&mentors, &[vec![int(20)]], 1)).unwrap(), 1);
                tx.commit().unwrap();
            }

            #[test]
            fn child_scans_resume_after_a_position_across_parents() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let range = IndexRange::new("members", IndexRef::Index("by_team".into()));
                let teams = [vec![int(2)], vec![int(1)]];
                let all = tx.scan_children(&ChildScan::new(&range, &teams, 100)).unwrap();
                let order: Vec<Vec<Value>> = all.into_iter().map(|(row, _)| row).collect();
                assert_eq!(ids(&order), vec![10, 11, 12, 13, 14, 15, 20]);
                let after = ScanPosition::after_row(store.schema(), &range, &order[5]).unwrap();
                let rest = tx
                    .scan_children(&ChildScan::new(&range, &teams, 100).after(Some(&after)))
                    .unwrap();
                assert_eq!(ids(&rest.into_iter().map(|(row, _)| row).collect::<Vec<_>>()), vec![20]);
                assert_eq!(tx.count_children(&ChildScan::new(&range, &teams, 1).after(Some(&after))).unwrap(), 1);
            }

            #[test]
            fn child_scans_without_sizes_return_the_columns_asked_for() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                let range = IndexRange::new("members", IndexRef::Index("by_team".into()));
                let team_one = [vec![int(1)]];
                let asked = [0usize, 1];
                let scan = ChildScan::new(&range, &team_one, 100).columns(&asked);
                let sized = tx.scan_children(&scan).unwrap();
                let sizes: Vec<u64> = sized.iter().map(|(_, size)| *size).collect();
                assert_eq!(sizes, vec![19, 26, 26, 26, 26, 26]);
                // Without sizes: the same rows in the same order, the
                // columns asked for, each size exact or 0.
                let bare = tx.scan_children(&scan.sizes(false)).unwrap();
                assert_eq!(bare.len(), sized.len());
                for ((row, size), (bare_row, bare_size)) in sized.iter().zip(&bare) {
                    assert_eq!(row[..2], bare_row[..2]);
                    assert!(bare_size == size || *bare_size == 0, "{bare_size} for {row:?}");
                }
                assert_eq!(ids(&bare.into_iter().map(|(row, _)| row).collect::<Vec<_>>()), vec![10, 11, 12, 13, 14, 15]);
            }

            #[test]
            fn read_transactions_refuse_writes() {
                let store = store();
                let mut tx = store.begin(Access::Read).unwrap();
                assert!(matches!(tx.insert("teams", &team(5, "five")), Err(Error::ReadOnly)));
                assert!(matches!(tx.delete("teams", &[int(1)]), Err(Error::ReadOnly)));
                assert!(matches!(
                    tx.insert_job(&JobRow::new("teams", None, Vec::new())),
                    Err(Error::ReadOnly)
                ));
            }

            #[test]
            fn a_second_transaction_on_the_same_thread_is_refused() {
                let store = store();
                let _tx = store.begin(Access::Write).unwrap();
                assert!(matches!(store.begin(Access::Read), Err(Error::NestedTransaction)));
            }

            #[test]
            fn the_store_is_shared_across_threads() {
                let db = filled();
                let other = db.clone();
                std::thread::spawn(move || other.insert_row("teams", team(3, "three")))
                    .join()
                    .unwrap()
                    .unwrap();
                assert_eq!(db.get_row("teams", &[int(3)]).unwrap(), Some(team(3, "three")));
            }

            #[test]
            fn inserts_check_foreign_keys() {
                let db = filled();
                let error = db.insert_row("members", member(30, 9, None, "z")).unwrap_err();
                assert_eq!(
                    error.to_string(),
                    "cannot insert members 30: members(team_id) → teams has no teams row with 9"
                );
                // MATCH SIMPLE: a NULL reference is not checked.
                db.insert_row("members", member(30, 1, None, "z")).unwrap();
                // A row may reference itself.
                db.insert_row("members", member(31, 1, Some(31), "self")).unwrap();
                let error = db.insert_row("members", member(32, 1, Some(99), "w")).unwrap_err();
                assert!(error.is_foreign_key(), "{error}");
            }

            #[test]
            fn updates_check_foreign_keys() {
                let db = filled();
                let error = db.update_row("members", &[int(20)], member(20, 7, None, "x")).unwrap_err();
                assert!(matches!(error, Error::MissingParent { .. }), "{error}");
                assert_eq!(db.get_row("members", &[int(20)]).unwrap(), Some(member(20, 2, None, "x")));
                let error = db.update_row("members", &[int(99)], member(99, 1, None, "x")).unwrap_err();
                assert!(matches!(error, Error::NotFound { .. }), "{error}");
            }

            #[test]
            fn rows_are_type_checked() {
                let db = filled();
                let error = db.insert_row("teams", vec![text("x"), text("y")]).unwrap_err();
                assert!(matches!(error, Error::TypeMismatch { .. }), "{error}");
                let error = db.insert_row("teams", vec![int(5), Value::Null]).unwrap_err();
                assert_eq!(error.to_string(), "column `teams.slug` is not nullable, got NULL");
                let error = db.insert_row("teams", vec![int(5)]).unwrap_err();
                assert!(matches!(error, Error::RowShape { .. }), "{error}");
            }

            #[test]
            fn delete_runs_every_action_and_counts() {
                let db = filled();
                let outcome = db
                    .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default())
                    .unwrap();
                assert_eq!(outcome.rows_deleted("teams"), 1);
                assert_eq!(outcome.rows_deleted("members"), 6);
                assert_eq!(outcome.rows_deleted("posts"), 1);
                assert_eq!(outcome.rows_written(), 8);
                assert!(db.get_row("posts", &[int(100)]).unwrap().is_none());
                assert!(db.get_row("posts", &[int(101)]).unwrap().is_some());
                // Deleting a missing row does nothing.
                let outcome = db
                    .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default())
                    .unwrap();
                assert_eq!(outcome.rows_written(), 0);
            }

            #[test]
            fn set_null_runs_when_the_referenced_row_is_deleted() {
                let db = filled();
                let outcome = db
                    .delete_rows("members", &[vec![int(10)]], &DeleteOptions::default())
                    .unwrap();
                assert_eq!(outcome.rows_updated("members"), 5);
                assert_eq!(db.get_row("members", &[int(11)]).unwrap(), Some(member(11, 1, None, "m1")));
            }

            #[test]
            fn key_updates_cascade() {
                let db = filled();
                let outcome = db.update_row("teams", &[int(1)], team(5, "one")).unwrap();
                assert_eq!(outcome.rows_updated("teams"), 1);
                assert_eq!(outcome.rows_updated("members"), 6);
                assert_eq!(db.get_row("members", &[int(12)]).unwrap(), Some(member(12, 5, Some(10), "m2")));
            }

            #[test]
            fn max_rows_fails_fast_and_changes_nothing() {
                let db = filled();
                let error = db
                    .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().max_rows(5))
                    .unwrap_err();
                assert_eq!(
                    error.to_string(),
                    "cannot delete teams 1: it would write more than 5 rows (max_rows)"
                );
                assert!(db.get_row("teams", &[int(1)]).unwrap().is_some());
                assert!(db
                    .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().max_rows(8))
                    .is_ok());
                let db = filled();
                let error = db
                    .write(|tx| {
                        tx.update_row("teams", &[int(1)], team(5, "one"), &UpdateOptions::default().max_rows(3))
                    })
                    .unwrap_err();
                assert!(matches!(error, Error::TooManyRows { .. }), "{error}");
                assert!(db.get_row("teams", &[int(1)]).unwrap().is_some());
            }

            #[test]
            fn a_key_update_is_counted_before_anything_is_written() {
                // invoices(team_id) → teams ON UPDATE RESTRICT comes first:
                // run before counting, the update would stop at the invoice.
                let schema = Schema::new(vec![
                    TableMeta::new("teams")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_primary_key(["id"]),
                    TableMeta::new("invoices")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_column(ColumnMeta::new("team_id", ValueType::Integer))
                        .with_primary_key(["id"])
                        .with_index(IndexMeta::new("by_team", ["team_id"]))
                        .with_foreign_key(
                            ForeignKeyMeta::new(["team_id"], "teams", ["id"])
                                .on_update(Action::Restrict)
                                .with_index(IndexRef::Index("by_team".into())),
                        ),
                    TableMeta::new("members")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_column(ColumnMeta::new("team_id", ValueType::Integer))
                        .with_primary_key(["id"])
                        .with_index(IndexMeta::new("by_team", ["team_id"]))
                        .with_foreign_key(
                            ForeignKeyMeta::new(["team_id"], "teams", ["id"])
                                .on_update(Action::Cascade)
                                .with_index(IndexRef::Index("by_team".into())),
                        ),
                ])
                .unwrap();
                let db = database(schema);
                db.insert_row("teams", vec![int(1)]).unwrap();
                db.insert_row("teams", vec![int(2)]).unwrap();
                for member in 1..=6 {
                    db.insert_row("members", vec![int(member), int(1)]).unwrap();
                    db.insert_row("members", vec![int(10 + member), int(2)]).unwrap();
                }
                db.insert_row("invoices", vec![int(1), int(1)]).unwrap();
                let update = |team: i64, limit: u64| {
                    db.write(|tx| {
                        tx.update_row("teams", &[int(team)], vec![int(team + 100)], &UpdateOptions::default().max_rows(limit))
                    })
                };
                // 1 team + 6 members > 3: refused by the count, before the
                // execution could meet the invoice.
                let error = update(1, 3).unwrap_err();
                assert_eq!(error.to_string(), "cannot update teams 1: it would write more than 3 rows (max_rows)");
                // Within the limit, the execution runs and meets the invoice.
                let error = update(1, 100).unwrap_err();
                assert!(matches!(error, Error::Restricted { .. }), "{error}");
                // Team 2 has no invoice: 7 rows fit 7, not 6.
                assert!(matches!(update(2, 6).unwrap_err(), Error::TooManyRows { limit: 6, .. }));
                let outcome = update(2, 7).unwrap();
                assert_eq!((outcome.rows_updated("teams"), outcome.rows_updated("members")), (1, 6));
                assert!(db.get_row("teams", &[int(1)]).unwrap().is_some(), "team 1 unchanged");
            }

            #[test]
            fn restrict_refuses_with_a_message_naming_everything() {
                let schema = Schema::new(vec![
                    TableMeta::new("teams")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_primary_key(["id"]),
                    TableMeta::new("members")
                        .with_column(ColumnMeta::new("id", ValueType::Integer))
                        .with_column(ColumnMeta::new("team_id", ValueType::Integer))
                        .with_primary_key(["id"])
                        .with_foreign_key(
                            ForeignKeyMeta::new(["team_id"], "teams", ["id"])
                                .on_delete(Action::Restrict)
                                .with_index(IndexRef::Unindexed),
                        ),
                ])
                .unwrap();
                let db = database(schema);
                db.insert_row("teams", vec![int(1)]).unwrap();
                db.insert_row("members", vec![int(7), int(1)]).unwrap();
                let error = db
                    .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default())
                    .unwrap_err();
                assert_eq!(
                    error.to_string(),
                    "cannot delete teams 1: RESTRICT on members(team_id) → teams: members 7 references it"
                );
                assert!(db.get_row("teams", &[int(1)]).unwrap().is_some());
            }

            #[test]
            fn a_failed_operation_inside_a_transaction_is_undone_alone() {
                let db = filled();
                db.write(|tx| {
                    tx.insert_row("teams", team(3, "three"))?;
                    assert!(tx.insert_row("members", member(40, 9, None, "n")).is_err());
                    assert!(tx.update_row("teams", &[int(2)], team(2, "one"), &UpdateOptions::default()).is_err());
                    tx.insert_row("members", member(40, 3, None, "n"))
                })
                .unwrap();
                assert_eq!(db.get_row("members", &[int(40)]).unwrap(), Some(member(40, 3, None, "n")));
                assert_eq!(db.get_row("teams", &[int(2)]).unwrap(), Some(team(2, "two")));
            }

            #[test]
            fn a_computed_default_is_evaluated_per_row() {
                let db = database(computed_default_schema());
                db.write(|tx| {
                    for id in 1..=3 {
                        tx.insert_row("p", vec![int(id)])?;
                    }
                    for id in 1..=4 {
                        tx.insert_row("c", vec![int(id), int(3)])?;
                    }
                    Ok::<_, cascadia::Error>(())
                })
                .unwrap();
                NEXT_DEFAULT.store(0, Ordering::SeqCst);
                db.delete_rows("p", &[vec![int(3)]], &DeleteOptions::default()).unwrap();
                let mut parents: Vec<Value> = db.rows("c").unwrap().into_iter().map(|r| r[1].clone()).collect();
                parents.sort();
                assert_eq!(parents, vec![int(1), int(1), int(2), int(2)]);
            }
        }
    };
}

store_suite!(memory, |schema| Box::new(MemoryStore::new(schema).unwrap()));
store_suite!(sqlite, |schema| Box::new(
    SqliteStore::open_in_memory(schema, SqliteOptions::default()).unwrap()
));
store_suite!(postgres, |schema| Box::new(
    common::postgres::TestStore::new(schema)
));
