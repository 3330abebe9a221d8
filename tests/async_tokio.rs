//! The async front end (cargo feature `tokio`, on for the tests): an async
//! `Database` over a SQLite file whose calls run on tokio's blocking pool,
//! and a worker task that is woken by a queued job and shuts down
//! gracefully — the batch under way commits, the job stays queued at its
//! saved position, and another worker finishes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cascadia::tokio::{Database, WorkerTask};
use cascadia::{
    Budget, DeleteOptions, Error, ExplainOptions, Filter, FilterOp, FullScan, Id, IntegrityOptions,
    JobStatus, Progress, Schema, SqliteOptions, SqliteStore, Table, Worker, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "teams")]
struct Team {
    #[primary_key]
    id: i64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "members")]
#[index(columns(team_id))]
struct Member {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    team_id: Id<Team>,
}

static SCHEMA: Schema = schema![Team, Member];

fn file_database(name: &str) -> cascadia::Database {
    let dir = std::env::temp_dir().join(format!("cascadia-async-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    cascadia::Database::new(
        SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).expect("open"),
    )
}

async fn fill(db: &Database, team: i64, members: i64) {
    db.write(move |tx| {
        tx.insert(&Team {
            id: team,
            name: format!("team {team}"),
        })?;
        for n in 0..members {
            tx.insert(&Member {
                id: team * 100_000 + n,
                team_id: Id::new(team),
            })?;
        }
        Ok::<_, Error>(())
    })
    .await
    .expect("fill");
}

async fn members_of(db: &Database, team: i64) -> usize {
    db.query::<Member>(
        vec![Filter::new("team_id", FilterOp::Eq, team)],
        FullScan::Refuse,
    )
    .await
    .expect("query")
    .len()
}

#[derive(Debug, PartialEq)]
enum AppError {
    NameTaken,
    Db(String),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Db(error.to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_common_operations_run_on_the_blocking_pool() {
    let db = Database::new(file_database("crud"));
    db.insert(Team {
        id: 1,
        name: "fjord".into(),
    })
    .await
    .expect("insert");
    fill(&db, 2, 3).await;
    assert_eq!(
        db.get::<Team>(1).await.expect("get").map(|t| t.name),
        Some("fjord".into())
    );
    db.update(Team {
        id: 1,
        name: "delta".into(),
    })
    .await
    .expect("update");
    assert_eq!(
        db.get::<Team>(1).await.expect("get").map(|t| t.name),
        Some("delta".into())
    );
    assert_eq!(members_of(&db, 2).await, 3);

    // A refused insert comes back as the error, from the blocking pool.
    let refused = db
        .insert(Member {
            id: 9,
            team_id: Id::new(7),
        })
        .await;
    assert!(
        matches!(refused, Err(Error::MissingParent { .. })),
        "{refused:?}"
    );

    // A write closure that fails with the application's error rolls back.
    let taken = db
        .write(|tx| {
            tx.insert(&Team {
                id: 3,
                name: "delta".into(),
            })?;
            Err::<(), _>(AppError::NameTaken)
        })
        .await;
    assert_eq!(taken, Err(AppError::NameTaken));
    assert!(
        db.get::<Team>(3).await.expect("get").is_none(),
        "rolled back"
    );

    let explain = db
        .explain_delete::<Team>(vec![2], ExplainOptions::default())
        .await
        .expect("explain");
    assert_eq!(explain.rows_deleted(), 4, "the team and its 3 members");
    let outcome = db.delete::<Team>(2).await.expect("delete");
    assert_eq!(outcome.deleted::<Member>(), 3);
    assert_eq!(members_of(&db, 2).await, 0);
    assert!(db.jobs().await.expect("jobs").is_empty());
}

/// On a single-threaded runtime, a slow call leaves the executor free: a
/// timer task keeps ticking while it runs (it would not, were the call run
/// on the executor's one thread).
#[tokio::test(flavor = "current_thread")]
async fn a_slow_call_does_not_block_the_executor() {
    let db = Database::new(file_database("concurrent"));
    fill(&db, 1, 10).await;
    let ticks = Arc::new(AtomicU64::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let read = db
        .read(|tx| {
            std::thread::sleep(Duration::from_millis(300));
            tx.rows("members")
        })
        .await
        .expect("read");
    let during = ticks.load(Ordering::Relaxed);
    ticker.abort();
    assert_eq!(read.len(), 10);
    assert!(
        during >= 10,
        "the timer ticked {during} times during a 300 ms call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_task_is_woken_by_a_queued_job_and_reports_it() {
    let db = Database::new(file_database("wake"));
    fill(&db, 1, 20).await;
    let worker = WorkerTask::spawn(
        Worker::new(db.blocking().clone()).poll_interval(Duration::from_secs(60)),
    );
    tokio::time::sleep(Duration::from_millis(100)).await; // asleep by now

    let start = Instant::now();
    db.enqueue_delete::<Team>(vec![1], DeleteOptions::default())
        .await
        .expect("enqueue");
    while worker.report().jobs_finished < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "woken, not after its 60 s poll"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = worker.shutdown().await;
    assert_eq!(report.jobs_finished, 1);
    assert_eq!(report.rows_deleted, 21);
    assert_eq!(members_of(&db, 1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_lets_the_batch_under_way_commit_and_leaves_the_job_to_resume() {
    let db = Database::new(file_database("shutdown"));
    let members = 2_000;
    fill(&db, 1, members).await;
    let batches = Arc::new(AtomicU64::new(0));
    let counter = batches.clone();
    let worker = WorkerTask::spawn(
        Worker::new(db.blocking().clone())
            .poll_interval(Duration::from_secs(60))
            .observer(move |_: &Progress| {
                counter.fetch_add(1, Ordering::SeqCst);
                // Slow batches: the job cannot end before the shutdown.
                std::thread::sleep(Duration::from_millis(5));
            }),
    );
    let options = DeleteOptions::default().budget(Budget::DEFAULT.rows_written(10));
    db.enqueue_delete::<Team>(vec![1], options)
        .await
        .expect("enqueue");
    let start = Instant::now();
    while batches.load(Ordering::SeqCst) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the worker started the job"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let report = tokio::time::timeout(Duration::from_secs(10), worker.shutdown())
        .await
        .expect("the shutdown waits for one batch, not the job");
    assert_eq!(report.jobs_finished, 0, "{report:?}");
    let left = members_of(&db, 1).await;
    assert!(
        0 < left && left < members as usize,
        "stopped mid-job: {left} left"
    );
    let jobs = db.jobs().await.expect("jobs");
    assert_eq!(jobs.len(), 1);
    assert!(
        matches!(jobs[0].status, JobStatus::Queued | JobStatus::Running),
        "{jobs:?}"
    );
    let orphans = db
        .run(|db| db.check_integrity(&IntegrityOptions::default()))
        .await
        .expect("integrity")
        .orphans();
    assert_eq!(orphans, 0, "every batch committed whole");

    // Another worker resumes the job from its saved position.
    let resumed = db
        .run(|db| Worker::new(db.clone()).run_until_idle())
        .await
        .expect("resume");
    assert_eq!(resumed.jobs_finished, 1);
    assert_eq!(members_of(&db, 1).await, 0);
    assert!(db.get::<Team>(1).await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_worker_task_stops_it() {
    let db = Database::new(file_database("drop"));
    fill(&db, 1, 5).await;
    let worker = db.spawn_worker();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(worker);
    // Stopped: a job queued now stays queued.
    tokio::time::sleep(Duration::from_millis(100)).await;
    db.enqueue_delete::<Team>(vec![1], DeleteOptions::default())
        .await
        .expect("enqueue");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(db.jobs().await.expect("jobs").len(), 1, "no worker ran it");
    assert_eq!(members_of(&db, 1).await, 5);
}
