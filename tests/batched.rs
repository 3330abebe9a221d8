//! Batched deletes, jobs and workers, on both backends: budgets (each one
//! stops a batch), the observer's counts, job resumption, the pending-job
//! cap, soft / scheduled deletes and restore, cancellation mid-cascade,
//! refusals met by a later batch, rows inserted between batches, the
//! refusal of children under rows being deleted, `explain_delete` and
//! `check_integrity`.
//!
//! Every observer here also audits the database after each committed batch
//! (`check_integrity`, and SQLite's `PRAGMA foreign_key_check` on the SQLite
//! store, whose foreign keys are declared without actions and enforced).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::store::sqlite::ddl::{DdlOptions, create_statements};
use cascadia::{
    Access, Action, Budget, Database, DeleteOptions, Error, ExplainOptions, IndexRef,
    IntegrityOptions, JobStatus, MemoryStore, Progress, ProgressEvent, Row, Schema, SqliteOptions,
    SqliteStore, Store, TableMeta, Value, ValueType, Worker,
};
use common::{int, text};
use rusqlite::Connection;

/// `teams(id, name, deleted_at soft-delete)`; `members(team_id → teams
/// CASCADE, mentor_id → members SET NULL)`; `posts(member_id → members
/// CASCADE)`; `invoices(member_id → members RESTRICT)`.
fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("teams")
            .with_column(id())
            .with_column(ColumnMeta::new("name", ValueType::Text))
            .with_column(ColumnMeta::new("deleted_at", ValueType::Integer).nullable())
            .with_primary_key(["id"])
            .with_soft_delete("deleted_at"),
        TableMeta::new("members")
            .with_column(id())
            .with_column(ColumnMeta::new("team_id", ValueType::Integer))
            .with_column(ColumnMeta::new("mentor_id", ValueType::Integer).nullable())
            .with_column(ColumnMeta::new("name", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_team", ["team_id"]))
            .with_index(IndexMeta::new("by_mentor", ["mentor_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["team_id"], "teams", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_team".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["mentor_id"], "members", ["id"])
                    .on_delete(Action::SetNull)
                    .with_index(IndexRef::Index("by_mentor".into())),
            ),
        TableMeta::new("posts")
            .with_column(id())
            .with_column(ColumnMeta::new("member_id", ValueType::Integer))
            .with_column(ColumnMeta::new("body", ValueType::Text))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_member", ["member_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["member_id"], "members", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_member".into())),
            ),
        TableMeta::new("invoices")
            .with_column(id())
            .with_column(ColumnMeta::new("member_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_member", ["member_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["member_id"], "members", ["id"])
                    .on_delete(Action::Restrict)
                    .with_index(IndexRef::Index("by_member".into())),
            ),
    ])
    .expect("schema")
}

/// A database on one backend, with the SQLite store when there is one.
#[derive(Clone)]
struct Fixture {
    db: Database,
    shared: Arc<dyn Store>,
    sqlite: Option<SqliteStore>,
}

impl Fixture {
    fn store(&self) -> &dyn Store {
        self.db.store()
    }

    /// Orphans, by cascadia's audit and (SQLite) by SQLite's own.
    fn orphans(&self) -> u64 {
        let ours = self
            .db
            .check_integrity(&IntegrityOptions::default())
            .expect("integrity")
            .orphans();
        let sqlite = self.sqlite.as_ref().map_or(0, |store| {
            store
                .with_connection_mut(|conn| {
                    Ok(conn
                        .prepare("PRAGMA foreign_key_check")?
                        .query_map([], |_| Ok(()))?
                        .count())
                })
                .expect("foreign_key_check") as u64
        });
        ours + sqlite
    }

    fn count(&self, table: &str) -> usize {
        self.db.rows(table).expect("rows").len()
    }

    /// Inserts a row straight into the store, bypassing cascadia's checks
    /// (as another program writing the database would).
    fn raw_insert(&self, table: &str, row: Row) {
        let mut tx = self.store().begin(Access::Write).expect("begin");
        tx.insert(table, &row).expect("insert");
        tx.commit().expect("commit");
    }
}

fn memory() -> Fixture {
    let shared: Arc<dyn Store> = Arc::new(MemoryStore::new(schema()).expect("store"));
    Fixture {
        db: Database::from_shared(shared.clone()),
        shared,
        sqlite: None,
    }
}

fn sqlite() -> Fixture {
    let store = SqliteStore::open_in_memory(schema(), SqliteOptions::default()).expect("store");
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    Fixture {
        db: Database::from_shared(shared.clone()),
        shared,
        sqlite: Some(store),
    }
}

/// Teams 1..=`teams`, `members` members each (id team*1000+m; team 2's
/// first member is mentored by team 1's first), `posts` posts per member
/// (id member*100+p).
fn fill(fixture: &Fixture, teams: i64, members: i64, posts: i64) {
    let mut tx = fixture.store().begin(Access::Write).expect("begin");
    for t in 1..=teams {
        tx.insert("teams", &[int(t), text(&format!("team {t}")), Value::Null])
            .expect("team");
    }
    for t in 1..=teams {
        for m in 0..members {
            let id = t * 1000 + m;
            let mentor = if (t, m) == (2, 0) {
                int(1000)
            } else {
                Value::Null
            };
            tx.insert(
                "members",
                &[int(id), int(t), mentor, text(&format!("member {id}"))],
            )
            .expect("member");
            for p in 0..posts {
                tx.insert(
                    "posts",
                    &[int(id * 100 + p), int(id), text(&"x".repeat(40))],
                )
                .expect("post");
            }
        }
    }
    tx.commit().expect("commit");
}

/// Every table's rows.
fn dump(fixture: &Fixture) -> Vec<Vec<Row>> {
    ["teams", "members", "posts", "invoices"]
        .iter()
        .map(|t| fixture.db.rows(t).expect("rows"))
        .collect()
}

/// What each committed batch reported, and any audit failure.
#[derive(Default)]
struct Seen {
    progress: Vec<Progress>,
    orphans_after: Vec<u64>,
}

fn observe(fixture: &Fixture, seen: &Arc<Mutex<Seen>>) -> impl FnMut(&Progress) + Send + 'static {
    let fixture = fixture.clone();
    let seen = seen.clone();
    move |progress: &Progress| {
        let orphans = fixture.orphans();
        let mut seen = seen.lock().unwrap();
        seen.progress.push(progress.clone());
        seen.orphans_after.push(orphans);
    }
}

/// The contents after deleting `team` in sync mode on a fresh fixture.
fn expected_after_deleting(
    make: fn() -> Fixture,
    teams: i64,
    members: i64,
    posts: i64,
) -> Vec<Vec<Row>> {
    let reference = make();
    fill(&reference, teams, members, posts);
    reference
        .db
        .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().sync())
        .expect("sync delete");
    dump(&reference)
}

macro_rules! both {
    ($($name:ident => $body:expr;)*) => {
        mod on_memory {
            use super::*;
            $(#[test] fn $name() { ($body)(memory as fn() -> Fixture) })*
        }
        mod on_sqlite {
            use super::*;
            $(#[test] fn $name() { ($body)(sqlite as fn() -> Fixture) })*
        }
    };
}

both! {
    rows_written_budget_bounds_every_batch => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 20, 4);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let options = DeleteOptions::default()
            .batch_rows(5)
            .budget(Budget::UNLIMITED.rows_written(7))
            .observer(observe(&f, &seen));
        let outcome = f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        assert_eq!(dump(&f), expected_after_deleting(make, 2, 20, 4));
        assert_eq!(outcome.rows_deleted("posts"), 80);
        assert_eq!(outcome.rows_deleted("members"), 20);
        assert_eq!(outcome.rows_updated("members"), 1, "team 2's first member loses its mentor");
        let seen = seen.lock().unwrap();
        assert!(seen.progress.len() > 10, "{} batches", seen.progress.len());
        for p in &seen.progress {
            assert!(p.batch_rows_written <= 7, "a batch wrote {} rows", p.batch_rows_written);
            assert!(p.held_rows <= 3 * 5, "held {} rows", p.held_rows);
        }
        assert!(seen.orphans_after.iter().all(|&n| n == 0), "{:?}", seen.orphans_after);
        assert!(f.db.jobs().unwrap().is_empty(), "the finished job is gone");
    };

    bytes_written_budget_bounds_every_batch => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 1, 10, 10);
        let seen = Arc::new(Mutex::new(Seen::default()));
        // A post is 8 + 8 + 40 bytes: 100 of them need 6 batches or more.
        let options = DeleteOptions::default()
            .budget(Budget::UNLIMITED.bytes_written(1_000))
            .observer(observe(&f, &seen));
        f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        assert_eq!(f.count("posts"), 0);
        let seen = seen.lock().unwrap();
        assert!(seen.progress.len() >= 6, "{} batches", seen.progress.len());
        for p in &seen.progress {
            assert!(p.batch_bytes_written <= 1_000, "a batch wrote {} bytes", p.batch_bytes_written);
        }
        assert!(seen.orphans_after.iter().all(|&n| n == 0));
    };

    rows_read_budget_stops_a_batch => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 1, 30, 3);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let options = DeleteOptions::default()
            .batch_rows(10)
            .budget(Budget::UNLIMITED.rows_read(25))
            .observer(observe(&f, &seen));
        f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        assert_eq!(f.count("members"), 0);
        let seen = seen.lock().unwrap();
        assert!(seen.progress.len() > 3, "{} batches", seen.progress.len());
        for p in &seen.progress {
            // Checked between steps: at most one page (batch_rows) past it.
            assert!(p.batch_rows_read <= 25 + 10, "a batch read {} rows", p.batch_rows_read);
        }
        assert!(seen.orphans_after.iter().all(|&n| n == 0));
    };

    observer_counts_add_up => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 12, 5);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let options = DeleteOptions::default()
            .batch_rows(4)
            .budget(Budget::DEFAULT.rows_written(9))
            .observer(observe(&f, &seen));
        let outcome = f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        let seen = seen.lock().unwrap();
        let last = seen.progress.last().expect("progress");
        assert_eq!(last.event, ProgressEvent::Finished);
        assert_eq!(last.batches as usize, seen.progress.len());
        assert_eq!(last.outcome.deleted, outcome.deleted);
        assert_eq!(last.outcome.updated, outcome.updated);
        assert_eq!(last.job, outcome.job);
        assert!(outcome.job.is_some(), "more than one batch makes a job");
        let written: u64 = seen.progress.iter().map(|p| p.batch_rows_written).sum();
        assert_eq!(written, outcome.rows_written());
        // Counts only grow, batch after batch.
        for pair in seen.progress.windows(2) {
            assert!(pair[0].rows_written() <= pair[1].rows_written());
            assert_eq!(pair[0].batches + 1, pair[1].batches);
        }
        assert_eq!(outcome.rows_deleted("teams"), 1);
        assert_eq!(outcome.rows_deleted("members"), 12);
        assert_eq!(outcome.rows_deleted("posts"), 60);
    };

    a_small_delete_needs_no_job => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 3, 2);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let options = DeleteOptions::default().observer(observe(&f, &seen));
        let outcome = f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        assert_eq!(outcome.job, None);
        assert_eq!(outcome.rows_deleted("posts"), 6);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.progress.len(), 1);
        assert_eq!(seen.progress[0].event, ProgressEvent::Finished);
        assert!(f.db.jobs().unwrap().is_empty());
    };

    a_stopped_job_resumes_from_its_persisted_state => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 20, 3);
        let id = f
            .db
            .enqueue_delete_rows(
                "teams",
                &[vec![int(1)]],
                &DeleteOptions::default().batch_rows(4).budget(Budget::DEFAULT.rows_written(5)),
            )
            .expect("enqueue");
        assert_eq!(f.db.job(id).unwrap().expect("job").status, JobStatus::Queued);
        // A worker on its own thread, stopped after three batches.
        let batches = Arc::new(AtomicU64::new(0));
        let counter = batches.clone();
        let handle = Worker::new(f.db.clone())
            .poll_interval(Duration::from_millis(5))
            .observer(move |_: &Progress| {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            })
            .spawn();
        while batches.load(Ordering::SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let report = handle.stop();
        assert!(report.finished.is_empty(), "stopped before the end");
        let info = f.db.job(id).unwrap().expect("the job is still there");
        assert_eq!(info.status, JobStatus::Running);
        assert!(info.batches >= 3);
        assert_eq!(f.orphans(), 0);
        // A new database over the same store (as a new process would be)
        // picks the job up where it stopped.
        let again = Database::from_shared(f.shared.clone());
        let report = Worker::new(again).run_until_idle().expect("worker");
        assert_eq!(report.finished.len(), 1);
        let (done, outcome) = &report.finished[0];
        assert_eq!(*done, id);
        assert_eq!(outcome.rows_deleted("posts"), 60, "counts survive the stop");
        assert_eq!(dump(&f), expected_after_deleting(make, 2, 20, 3));
        assert!(f.db.jobs().unwrap().is_empty());
    };

    the_pending_job_cap_coalesces_instead_of_failing => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 3, 4, 2);
        let db = f.db.clone().with_max_pending_jobs(2);
        let options = DeleteOptions::default();
        let a = db.enqueue_delete_rows("posts", &[vec![int(100_000)]], &options).unwrap();
        let b = db.enqueue_delete_rows("members", &[vec![int(1001)]], &options).unwrap();
        assert_ne!(a, b);
        // At the cap: more posts join the posts job.
        let c = db.enqueue_delete_rows("posts", &[vec![int(200_000)], vec![int(200_001)]], &options).unwrap();
        assert_eq!(c, a, "coalesced into the posts job");
        // No active job deletes teams: refused before anything is written.
        let error = db.enqueue_delete_rows("teams", &[vec![int(3)]], &options).unwrap_err();
        assert!(matches!(error, Error::TooManyJobs { cap: 2, .. }), "{error}");
        // A batched delete waiting for its rows joins the posts job too.
        let outcome = db.delete_rows("posts", &[vec![int(300_000)]], &options).unwrap();
        assert_eq!(outcome.job, Some(a));
        assert_eq!(db.jobs().unwrap().len(), 1, "only the members job is left");
        assert!(db.get_row("posts", &[int(300_000)]).unwrap().is_none());
        assert!(db.get_row("posts", &[int(200_001)]).unwrap().is_none());
        let report = Worker::new(db.clone()).run_until_idle().unwrap();
        assert_eq!(report.finished.len(), 1);
        assert!(db.get_row("members", &[int(1001)]).unwrap().is_none());
        assert!(db.get_row("teams", &[int(3)]).unwrap().is_some());
        assert_eq!(f.orphans(), 0);
    };

    soft_delete_sets_the_column_and_refuses_new_children => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 2, 1);
        let outcome = f.db.delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().soft()).unwrap();
        assert_eq!(outcome.rows_updated("teams"), 1);
        assert_eq!(outcome.rows_written(), 1, "nothing else changes");
        assert!(f.db.get_row("teams", &[int(1)]).unwrap().is_none(), "reads hide it");
        let row = f.db.including_soft_deleted().get_row("teams", &[int(1)]).unwrap().unwrap();
        let Value::Integer(at) = row[2] else { panic!("deleted_at is set: {row:?}") };
        assert!(at > 1_600_000_000_000, "milliseconds since the epoch: {at}");
        // Soft-deleting again keeps the first time.
        f.db.delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().soft()).unwrap();
        assert_eq!(f.db.including_soft_deleted().get_row("teams", &[int(1)]).unwrap().unwrap()[2], int(at));
        // A new member of the team, or a post of one of its members: refused.
        let error = f.db.insert_row("members", vec![int(1500), int(1), Value::Null, text("new")]).unwrap_err();
        match &error {
            Error::ParentBeingDeleted { deleting, .. } => {
                assert_eq!(deleting.soft_deleted_at, Some(at));
                assert_eq!(deleting.job, None);
            }
            other => panic!("{other}"),
        }
        assert_eq!(
            error.to_string(),
            format!("cannot insert members 1500: members(team_id) → teams references teams 1, which is being deleted: teams 1 is soft-deleted (at {at} ms)")
        );
        let error = f.db.insert_row("posts", vec![int(9), int(1000), text("p")]).unwrap_err();
        assert!(error.to_string().contains("teams 1 is soft-deleted"), "{error}");
        // Pointing an existing row at it: refused too.
        let error = f.db.update_row("members", &[int(2000)], vec![int(2000), int(1), int(1000), text("m")]).unwrap_err();
        assert!(matches!(error, Error::ParentBeingDeleted { .. }), "{error}");
        // Other teams are fine; restore clears the column and allows it again.
        f.db.insert_row("members", vec![int(2500), int(2), Value::Null, text("ok")]).unwrap();
        let restored = f.db.restore_rows("teams", &[vec![int(1)]]).unwrap();
        assert_eq!(restored.rows_updated("teams"), 1);
        assert_eq!(f.db.get_row("teams", &[int(1)]).unwrap().unwrap()[2], Value::Null);
        f.db.insert_row("members", vec![int(1500), int(1), Value::Null, text("new")]).unwrap();
        // A table without a soft-delete column refuses soft deletes.
        let error = f.db.delete_rows("members", &[vec![int(1000)]], &DeleteOptions::default().soft()).unwrap_err();
        assert!(matches!(error, Error::NoSoftDelete { .. }), "{error}");
    };

    a_scheduled_delete_runs_when_due => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 5, 2);
        let outcome = f
            .db
            .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().scheduled(Duration::from_millis(150)))
            .unwrap();
        let id = outcome.job.expect("a job");
        let info = f.db.job(id).unwrap().unwrap();
        assert_eq!(info.status, JobStatus::Queued);
        assert!(info.due.is_some_and(|due| due > info.created));
        // Not due yet: nothing happens.
        let worker = Worker::new(f.db.clone());
        let report = worker.run_until_idle().unwrap();
        assert!(report.finished.is_empty());
        assert_eq!(f.count("members"), 10);
        // Inserting under it is refused, naming the job.
        let error = f.db.insert_row("posts", vec![int(7), int(1001), text("late")]).unwrap_err();
        assert!(error.to_string().contains(&format!("delete job {id} deletes it")), "{error}");
        std::thread::sleep(Duration::from_millis(200));
        let report = worker.run_until_idle().unwrap();
        assert_eq!(report.finished.len(), 1);
        assert_eq!(f.count("members"), 5);
        assert!(f.db.get_row("teams", &[int(1)]).unwrap().is_none());
        assert_eq!(f.orphans(), 0);
    };

    restoring_cancels_a_scheduled_delete => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 1, 5, 2);
        let before = dump(&f);
        let id = f
            .db
            .delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default().scheduled(Duration::ZERO))
            .unwrap()
            .job
            .unwrap();
        f.db.restore_rows("teams", &[vec![int(1)]]).unwrap();
        let report = Worker::new(f.db.clone()).run_until_idle().unwrap();
        assert_eq!(report.cancelled.len(), 1, "{report:?}");
        assert!(matches!(f.db.job(id).unwrap().unwrap().status, JobStatus::Cancelled { .. }));
        assert_eq!(dump(&f), before, "nothing was deleted");
        assert!(f.db.forget_job(id).unwrap());
        assert!(f.db.jobs().unwrap().is_empty());
    };

    cancellation_mid_cascade_leaves_a_consistent_database_and_a_stopped_job => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 20, 3);
        let id = f
            .db
            .delete_rows(
                "teams",
                &[vec![int(1)]],
                &DeleteOptions::default()
                    .scheduled(Duration::ZERO)
                    .batch_rows(4)
                    .budget(Budget::DEFAULT.rows_written(6)),
            )
            .unwrap()
            .job
            .unwrap();
        // Restore the team while its job runs, after the third batch.
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut audit = observe(&f, &seen);
        let db = f.db.clone();
        let worker = Worker::new(f.db.clone()).observer(move |p: &Progress| {
            audit(p);
            if p.batches == 3 && p.event == ProgressEvent::Batch {
                db.restore_rows("teams", &[vec![int(1)]]).expect("restore");
            }
        });
        let report = worker.run_until_idle().unwrap();
        assert_eq!(report.cancelled.len(), 1, "{report:?}");
        assert!(report.cancelled[0].1.contains("teams 1 was restored"), "{report:?}");
        let info = f.db.job(id).unwrap().unwrap();
        assert!(matches!(info.status, JobStatus::Cancelled { .. }));
        assert_eq!(info.batches, 3, "no batch after the restore");
        assert_eq!(f.orphans(), 0);
        assert!(seen.lock().unwrap().orphans_after.iter().all(|&n| n == 0));
        assert!(f.db.get_row("teams", &[int(1)]).unwrap().is_some(), "the root stays");
        let posts = f.count("posts");
        assert!(posts < 120 && posts > 60, "part of team 1's posts went: {posts} left");
        // Explicit cancellation works the same way.
        let id = f.db.enqueue_delete_rows("teams", &[vec![int(2)]], &DeleteOptions::default()).unwrap();
        assert!(f.db.cancel_job(id).unwrap());
        let report = Worker::new(f.db.clone()).run_until_idle().unwrap();
        assert!(report.finished.is_empty());
        assert!(f.db.get_row("teams", &[int(2)]).unwrap().is_some());
    };

    a_restrict_row_inserted_after_the_check_fails_the_job_without_orphans => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 1, 20, 2);
        let inserted = Arc::new(AtomicBool::new(false));
        let (fixture, flag) = (f.clone(), inserted.clone());
        let options = DeleteOptions::default()
            .batch_rows(4)
            .budget(Budget::DEFAULT.rows_written(5))
            .observer(move |p: &Progress| {
                if p.batches == 1 && !flag.swap(true, Ordering::SeqCst) {
                    // Another program invoices member 1019 (deleted later).
                    fixture.raw_insert("invoices", vec![int(1), int(1019)]);
                    assert!(fixture.db.get_row("members", &[int(1019)]).unwrap().is_some());
                }
            });
        let error = f.db.delete_rows("teams", &[vec![int(1)]], &options).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot delete members 1019: RESTRICT on invoices(member_id) → members: invoices 1 references it"
        );
        assert_eq!(f.orphans(), 0);
        let jobs = f.db.jobs().unwrap();
        assert_eq!(jobs.len(), 1);
        assert!(matches!(&jobs[0].status, JobStatus::Failed { error } if error.contains("RESTRICT")));
        assert!(f.db.get_row("members", &[int(1019)]).unwrap().is_some());
        // Once the invoice is gone, retrying finishes the delete.
        f.db.delete_rows("invoices", &[vec![int(1)]], &DeleteOptions::default()).unwrap();
        assert!(f.db.retry_job(jobs[0].id).unwrap());
        let report = Worker::new(f.db.clone()).run_until_idle().unwrap();
        assert_eq!(report.finished.len(), 1);
        assert_eq!(f.count("members"), 0);
        assert_eq!(f.orphans(), 0);
    };

    rows_inserted_between_batches_under_a_deleted_row_are_deleted_too => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 1, 30, 2);
        let inserted = Arc::new(AtomicU64::new(0));
        let (fixture, count) = (f.clone(), inserted.clone());
        let options = DeleteOptions::default()
            .batch_rows(8)
            .budget(Budget::DEFAULT.rows_written(5))
            .observer(move |p: &Progress| {
                // Another program adds posts to members whose posts were
                // already scanned (their frame is still on the stack).
                if p.batches <= 3 && p.event == ProgressEvent::Batch {
                    let n = count.fetch_add(1, Ordering::SeqCst) as i64;
                    fixture.raw_insert("posts", vec![int(900 + n), int(1000), text("late")]);
                }
            });
        f.db.delete_rows("teams", &[vec![int(1)]], &options).expect("delete");
        assert!(inserted.load(Ordering::SeqCst) > 0);
        assert_eq!(f.count("posts"), 0);
        assert_eq!(f.count("members"), 0);
        assert_eq!(f.orphans(), 0);
        assert!(f.db.jobs().unwrap().is_empty());
    };

    explain_delete_counts_and_names_refusals => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 10, 3);
        let before = dump(&f);
        let explain = f.db.explain_delete_rows("teams", &[vec![int(1)]], &ExplainOptions::default()).unwrap();
        assert!(explain.would_succeed());
        assert!(!explain.truncated);
        assert_eq!(explain.tables["teams"].deleted, 1);
        assert_eq!(explain.tables["members"].deleted, 10);
        assert_eq!(explain.tables["members"].updated, 1);
        assert_eq!(explain.tables["posts"].deleted, 30);
        assert_eq!(explain.rows_deleted(), 41);
        f.raw_insert("invoices", vec![int(5), int(1003)]);
        let explain = f.db.explain_delete_rows("teams", &[vec![int(1)]], &ExplainOptions::default()).unwrap();
        assert_eq!(explain.refusals.len(), 1);
        let refusal = &explain.refusals[0];
        assert_eq!(refusal.action, Action::Restrict);
        assert_eq!(refusal.foreign_key.to_string(), "invoices(member_id) → members");
        assert_eq!((refusal.key.clone(), refusal.child_key.clone()), (vec![int(1003)], vec![int(5)]));
        assert_eq!(
            refusal.message,
            "cannot delete teams 1 (it cascades to members 1003): RESTRICT on invoices(member_id) → \
             members: invoices 5 references members 1003"
        );
        assert_eq!(explain.rows_deleted(), 41, "it still counts everything");
        // Bounded: past the cap it says so.
        let explain = f.db.explain_delete_rows("teams", &[vec![int(1)]], &ExplainOptions::default().max_rows(12)).unwrap();
        assert!(explain.truncated);
        assert!(explain.rows_deleted() + explain.rows_updated() <= 12);
        let mut after = dump(&f);
        after[3].clear();
        assert_eq!(after, before, "explain writes nothing");
        // The delete agrees with it.
        let error = f.db.delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default()).unwrap_err();
        assert!(matches!(error, Error::Restricted { .. }), "{error}");
    };

    a_refusal_names_the_root_whose_cascade_reached_it => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 3, 4, 1);
        f.raw_insert("invoices", vec![int(7), int(2003)]);
        let before = dump(&f);
        let roots = [vec![int(1)], vec![int(2)], vec![int(3)]];
        for options in [DeleteOptions::default(), DeleteOptions::default().sync()] {
            let error = f.db.delete_rows("teams", &roots, &options).unwrap_err();
            let Error::Restricted { table, key, via, .. } = &error else {
                panic!("{options:?}: {error}");
            };
            assert_eq!((table.as_ref(), key.clone()), ("members", vec![int(2003)]));
            let via: Vec<String> = via.iter().map(ToString::to_string).collect();
            assert_eq!(via, ["teams 2"], "{options:?}: the root it came from");
            assert_eq!(
                error.to_string(),
                "cannot delete teams 2 (it cascades to members 2003): RESTRICT on \
                 invoices(member_id) → members: invoices 7 references members 2003",
            );
            assert_eq!(dump(&f), before, "{options:?}: nothing changed");
        }
        // Deleting the refused row itself names no cascade.
        let error = f.db.delete_rows("members", &[vec![int(2003)]], &DeleteOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot delete members 2003: RESTRICT on invoices(member_id) → members: invoices 7 references it"
        );
    };

    check_integrity_finds_orphans => |make: fn() -> Fixture| {
        let f = make();
        fill(&f, 2, 5, 2);
        let report = f.db.check_integrity(&IntegrityOptions::default().batch_rows(3)).unwrap();
        assert!(report.is_clean());
        assert_eq!(report.rows_checked, 10 + 20);
        assert_eq!(report.foreign_keys.len(), 4);
        // An orphan written behind cascadia's back.
        match &f.sqlite {
            Some(store) => store
                .with_connection_mut(|conn| {
                    conn.execute_batch(
                        "PRAGMA foreign_keys = OFF; INSERT INTO posts VALUES (77, 4242, 'lost'); PRAGMA foreign_keys = ON",
                    )?;
                    Ok(())
                })
                .unwrap(),
            None => f.raw_insert("posts", vec![int(77), int(4242), text("lost")]),
        }
        let report = f.db.check_integrity(&IntegrityOptions::default().batch_rows(3)).unwrap();
        assert_eq!(report.orphans(), 1);
        let posts = report
            .foreign_keys
            .iter()
            .find(|fk| fk.foreign_key.to_string() == "posts(member_id) → members")
            .unwrap();
        assert_eq!(posts.orphans, 1);
        assert_eq!(posts.samples, vec![vec![int(77)]]);
        assert!(report.transactions >= 1);
    };

    a_delete_that_changes_keys_runs_in_one_transaction => |_make: fn() -> Fixture| {
        // SET NULL on a unique column another key references: a key change.
        let schema = Schema::new(vec![
            TableMeta::new("p").with_column(ColumnMeta::new("id", ValueType::Integer)).with_primary_key(["id"]),
            TableMeta::new("c")
                .with_column(ColumnMeta::new("id", ValueType::Integer))
                .with_column(ColumnMeta::new("p", ValueType::Integer).nullable())
                .with_primary_key(["id"])
                .with_index(IndexMeta::new("by_p", ["p"]).unique())
                .with_foreign_key(
                    ForeignKeyMeta::new(["p"], "p", ["id"])
                        .on_delete(Action::SetNull)
                        .with_index(IndexRef::Index("by_p".into())),
                ),
        ])
        .unwrap();
        let db = Database::new(MemoryStore::new(schema).unwrap());
        for i in 0..10 {
            db.insert_row("p", vec![int(i)]).unwrap();
            db.insert_row("c", vec![int(i), int(i)]).unwrap();
        }
        let keys: Vec<Vec<Value>> = (0..10).map(|i| vec![int(i)]).collect();
        let explain = db.explain_delete_rows("p", &keys, &ExplainOptions::default()).unwrap();
        assert!(explain.single_transaction);
        let batches = Arc::new(AtomicU64::new(0));
        let counter = batches.clone();
        let outcome = db
            .delete_rows(
                "p",
                &keys,
                &DeleteOptions::default()
                    .budget(Budget::UNLIMITED.rows_written(2))
                    .observer(move |_: &Progress| {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }),
            )
            .unwrap();
        assert_eq!(outcome.rows_updated("c"), 10);
        assert_eq!(batches.load(Ordering::SeqCst), 0, "not batched");
    };
}

/// `r` ← `p(x, y)` (CASCADE) and `r` ← `q` (CASCADE); `c(a, b)`: `(a, b) →
/// p(x, y)` NO ACTION and `b → q` SET NULL, sharing column `b`.
fn overlapping_schema() -> Schema {
    let int_col = |name: &'static str| ColumnMeta::new(name, ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("r")
            .with_column(int_col("id"))
            .with_primary_key(["id"]),
        TableMeta::new("p")
            .with_column(int_col("x"))
            .with_column(int_col("y"))
            .with_column(int_col("r"))
            .with_primary_key(["x", "y"])
            .with_index(IndexMeta::new("by_r", ["r"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["r"], "r", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_r".into())),
            ),
        TableMeta::new("q")
            .with_column(int_col("id"))
            .with_column(int_col("r"))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_r", ["r"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["r"], "r", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_r".into())),
            ),
        TableMeta::new("c")
            .with_column(int_col("id"))
            .with_column(int_col("a"))
            .with_column(int_col("b").nullable())
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_ab", ["a", "b"]))
            .with_index(IndexMeta::new("by_b", ["b"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["a", "b"], "p", ["x", "y"])
                    .with_index(IndexRef::Index("by_ab".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["b"], "q", ["id"])
                    .on_delete(Action::SetNull)
                    .with_index(IndexRef::Index("by_b".into())),
            ),
    ])
    .unwrap()
}

/// A NO ACTION row outside the delete is fine when another action of the
/// delete frees it (SET NULL on a shared column): in batched mode the SET
/// NULL is applied before the NO ACTION parent goes, so no batch commits
/// an orphan, and the result is SQLite's.
#[test]
fn a_no_action_row_freed_by_an_overlapping_set_null_never_shows_an_orphan() {
    let fill = |db: &Database| {
        db.insert_row("r", vec![int(1)]).unwrap();
        for i in 0..6 {
            db.insert_row("p", vec![int(1), int(i), int(1)]).unwrap();
            db.insert_row("q", vec![int(i), int(1)]).unwrap();
            db.insert_row("c", vec![int(i), int(1), int(i)]).unwrap();
        }
    };
    let oracle = Connection::open_in_memory().unwrap();
    oracle.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    for statement in create_statements(
        &overlapping_schema(),
        &DdlOptions::default().native_actions(true),
    )
    .unwrap()
    {
        oracle.execute_batch(&statement).unwrap();
    }
    oracle.execute_batch("INSERT INTO r VALUES (1)").unwrap();
    for i in 0..6 {
        oracle
            .execute("INSERT INTO p VALUES (1, ?1, 1)", [i])
            .unwrap();
        oracle.execute("INSERT INTO q VALUES (?1, 1)", [i]).unwrap();
        oracle
            .execute("INSERT INTO c VALUES (?1, 1, ?1)", [i])
            .unwrap();
    }
    oracle.execute("DELETE FROM r WHERE id = 1", []).unwrap();
    let expected: Vec<Row> = oracle
        .prepare("SELECT id, a, b FROM c ORDER BY id")
        .unwrap()
        .query_map([], |row| Ok(vec![row.get(0)?, row.get(1)?, row.get(2)?]))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(expected.iter().all(|row| row[2] == Value::Null));

    let store =
        SqliteStore::open_in_memory(overlapping_schema(), SqliteOptions::default()).unwrap();
    let db = Database::new(store.clone());
    fill(&db);
    let orphans = Arc::new(AtomicU64::new(0));
    let (seen, audited) = (orphans.clone(), store.clone());
    let options = DeleteOptions::default()
        .batch_rows(2)
        .budget(Budget::UNLIMITED.rows_written(1))
        .observer(move |_: &Progress| {
            let found = audited
                .with_connection_mut(|conn| {
                    Ok(conn
                        .prepare("PRAGMA foreign_key_check")?
                        .query_map([], |_| Ok(()))?
                        .count())
                })
                .unwrap();
            seen.fetch_add(found as u64, Ordering::SeqCst);
        });
    let outcome = db.delete_rows("r", &[vec![int(1)]], &options).unwrap();
    assert_eq!(orphans.load(Ordering::SeqCst), 0);
    assert_eq!(db.rows("c").unwrap(), expected);
    assert_eq!(outcome.rows_updated("c"), 6);
    assert_eq!(outcome.rows_deleted("p"), 6);
}

/// A worker on its own thread and its own connection to the database file
/// drains jobs queued by another connection.
#[test]
fn a_background_worker_on_a_second_connection_drains_queued_jobs() {
    let dir = std::env::temp_dir().join(format!("cascadia-worker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("worker.db");
    let store = SqliteStore::open(&path, schema(), SqliteOptions::default()).unwrap();
    let fixture = Fixture {
        db: Database::new(store.clone()),
        shared: Arc::new(store.clone()),
        sqlite: Some(store.clone()),
    };
    fill(&fixture, 3, 20, 3);
    let finished = Arc::new(AtomicU64::new(0));
    let counter = finished.clone();
    let handle = Worker::new(Database::new(store.reopen().unwrap()))
        .poll_interval(Duration::from_millis(10))
        .observer(move |p: &Progress| {
            if p.event == ProgressEvent::Finished {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .spawn();
    let options = DeleteOptions::default().budget(Budget::DEFAULT.rows_written(7));
    for team in [1, 3] {
        fixture
            .db
            .enqueue_delete_rows("teams", &[vec![int(team)]], &options)
            .unwrap();
    }
    let started = std::time::Instant::now();
    while finished.load(Ordering::SeqCst) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker drains the jobs"
        );
        // Reads go on meanwhile.
        let _ = fixture.count("teams");
        std::thread::sleep(Duration::from_millis(5));
    }
    let report = handle.stop();
    assert_eq!(report.finished.len(), 2, "{report:?}");
    assert_eq!(fixture.count("teams"), 1);
    assert_eq!(fixture.count("members"), 20);
    assert_eq!(fixture.orphans(), 0);
    assert!(
        SqliteStore::open_in_memory(schema(), SqliteOptions::default())
            .unwrap()
            .reopen()
            .is_err()
    );
    drop(fixture);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two workers, each on its own connection to the database file, drain
/// the same jobs at once: every batch reads the job's state in its own
/// write transaction, so they take turns, each job finishes once, and the
/// result is that of one worker alone.
#[test]
fn two_workers_on_the_same_jobs_take_turns() {
    let dir = std::env::temp_dir().join(format!("cascadia-two-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("workers.db");
    let store = SqliteStore::open(&path, schema(), SqliteOptions::default()).unwrap();
    let fixture = Fixture {
        db: Database::new(store.clone()),
        shared: Arc::new(store.clone()),
        sqlite: Some(store.clone()),
    };
    fill(&fixture, 4, 30, 3);
    let options = DeleteOptions::default()
        .batch_rows(8)
        .budget(Budget::DEFAULT.rows_written(9));
    for team in [1, 2, 3] {
        fixture
            .db
            .enqueue_delete_rows("teams", &[vec![int(team)]], &options)
            .unwrap();
    }
    // Batches of the finished jobs, and the largest batch seen.
    let batches = Arc::new(AtomicU64::new(0));
    let largest = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (batches, largest) = (batches.clone(), largest.clone());
            Worker::new(Database::new(store.reopen().unwrap()))
                .poll_interval(Duration::from_millis(5))
                .observer(move |p: &Progress| match p.event {
                    ProgressEvent::Batch => {
                        largest.fetch_max(p.batch_rows_written, Ordering::SeqCst);
                    }
                    ProgressEvent::Finished => {
                        batches.fetch_add(p.batches, Ordering::SeqCst);
                    }
                    _ => {}
                })
                .spawn()
        })
        .collect();
    let started = std::time::Instant::now();
    while !fixture.db.jobs().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the workers drain the jobs"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let reports: Vec<_> = workers.into_iter().map(|w| w.stop()).collect();
    let finished: Vec<_> = reports.iter().flat_map(|r| r.finished.iter()).collect();
    assert_eq!(finished.len(), 3, "each job finishes once: {reports:?}");
    assert!(
        reports
            .iter()
            .all(|r| r.errors.is_empty() && r.failed.is_empty()),
        "{reports:?}"
    );
    let posts: u64 = finished.iter().map(|(_, o)| o.rows_deleted("posts")).sum();
    assert_eq!(posts, 3 * 30 * 3, "every post counted once");
    // 121 rows deleted and one mentor set to NULL per team, 9 rows a batch.
    let batches = batches.load(Ordering::SeqCst);
    assert!(batches >= 3 * 122 / 9, "{batches} batches");
    assert!(largest.load(Ordering::SeqCst) <= 9);
    assert_eq!(fixture.count("teams"), 1);
    assert_eq!(fixture.count("members"), 30);
    assert_eq!(fixture.count("posts"), 90);
    assert_eq!(fixture.orphans(), 0);
    drop(fixture);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

mod derived {
    use super::*;
    use cascadia::{Id, Table, schema};

    #[derive(Table)]
    #[table(name = "folders")]
    pub struct Folder {
        #[primary_key]
        pub id: i64,
    }

    #[derive(Table)]
    #[table(name = "files")]
    #[index(columns(folder_id))]
    pub struct File {
        #[primary_key]
        pub id: i64,
        #[foreign_key(references = Folder, on_delete = cascade)]
        pub folder_id: Id<Folder>,
    }

    /// A schema's own default budget, set in a `static`.
    static SCHEMA: Schema = schema![Folder, File].with_budget(Budget::DEFAULT.rows_written(3));

    #[test]
    fn the_schema_budget_is_the_default_and_options_override_it() {
        assert_eq!(SCHEMA.budget().rows_written, Some(3));
        let db = Database::new(MemoryStore::new(SCHEMA.clone()).unwrap());
        for folder in 1..=2 {
            db.insert_row("folders", vec![int(folder)]).unwrap();
            for file in 0..10 {
                db.insert_row("files", vec![int(folder * 100 + file), int(folder)])
                    .unwrap();
            }
        }
        let most = Arc::new(AtomicU64::new(0));
        let seen = most.clone();
        db.delete::<Folder>(&1).unwrap();
        db.delete_with::<Folder>(
            &[2],
            &DeleteOptions::default()
                .budget(Budget::DEFAULT.rows_written(6))
                .observer(move |p| {
                    seen.fetch_max(p.batch_rows_written, Ordering::SeqCst);
                }),
        )
        .unwrap();
        assert_eq!(most.load(Ordering::SeqCst), 6, "the options' budget wins");
        assert!(db.rows("files").unwrap().is_empty());
        // The schema's budget applied to the first delete: 11 rows, 4 batches.
        let db = Database::new(MemoryStore::new(SCHEMA.clone()).unwrap());
        db.insert_row("folders", vec![int(1)]).unwrap();
        for file in 0..10 {
            db.insert_row("files", vec![int(file), int(1)]).unwrap();
        }
        let batches = Arc::new(AtomicU64::new(0));
        let (count, most) = (batches.clone(), Arc::new(AtomicU64::new(0)));
        let seen = most.clone();
        db.delete_with::<Folder>(
            &[1],
            &DeleteOptions::default().observer(move |p| {
                count.fetch_add(1, Ordering::SeqCst);
                seen.fetch_max(p.batch_rows_written, Ordering::SeqCst);
            }),
        )
        .unwrap();
        assert_eq!(batches.load(Ordering::SeqCst), 4);
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}
