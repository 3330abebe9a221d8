//! A spawned worker that runs for a long time: its report stays bounded
//! however many jobs it finishes or errors it meets; a job queued through
//! its database (or a `WorkerHandle::wake`) wakes it long before its poll
//! interval ends; a store that fails is retried with a delay that doubles
//! up to a cap, and the jobs are drained once the store is back.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cascadia::{
    Access, Capabilities, Database, DeleteOptions, Error, Id, MemoryStore, Schema, SqliteOptions,
    SqliteStore, Store, StoreErrorKind, Table, Transaction, Worker, WorkerHandle, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Table, Serialize, Deserialize)]
#[table(name = "teams")]
struct Team {
    #[primary_key]
    id: i64,
}

#[derive(Debug, Table, Serialize, Deserialize)]
#[table(name = "members")]
#[index(columns(team_id))]
struct Member {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    team_id: Id<Team>,
}

static SCHEMA: Schema = schema![Team, Member];

const MEMBERS_PER_TEAM: i64 = 3;

fn sqlite_file(name: &str) -> SqliteStore {
    let dir = std::env::temp_dir().join(format!("cascadia-worker-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).expect("open")
}

fn fill(db: &Database, teams: i64) {
    db.write(|tx| {
        for team in 1..=teams {
            tx.insert(&Team { id: team })?;
            for n in 0..MEMBERS_PER_TEAM {
                let id = team * 100 + n;
                tx.insert(&Member {
                    id,
                    team_id: Id::new(team),
                })?;
            }
        }
        Ok::<_, Error>(())
    })
    .expect("fill");
}

/// Waits until `done` holds, failing after `limit`.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

fn stop_within(handle: WorkerHandle) -> cascadia::WorkerReport {
    let start = Instant::now();
    let report = handle.stop();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the worker stops promptly"
    );
    report
}

#[test]
fn the_report_of_a_long_running_worker_keeps_counts_and_only_the_last_jobs() {
    let db = Database::new(sqlite_file("bounded"));
    let teams = 30;
    fill(&db, teams);
    let handle = Worker::new(db.clone())
        .history(4)
        .poll_interval(Duration::from_secs(60))
        .spawn();
    for team in 1..=teams {
        db.enqueue_delete::<Team>(&[team], &DeleteOptions::default())
            .expect("enqueue");
    }
    wait_until(Duration::from_secs(60), "every job finished", || {
        handle.report().jobs_finished == teams as u64
    });
    let report = stop_within(handle);
    assert_eq!(report.jobs_finished, teams as u64);
    assert_eq!(report.finished.len(), 4, "only the last 4 jobs are kept");
    assert_eq!(report.rows_deleted, (teams * (1 + MEMBERS_PER_TEAM)) as u64);
    let last: Vec<_> = report.finished.iter().map(|(job, _)| *job).collect();
    let mut sorted = last.clone();
    sorted.sort();
    assert_eq!(last, sorted, "the kept jobs are the latest, oldest first");
    assert!(db.rows("members").expect("rows").is_empty());
}

#[test]
fn a_queued_job_wakes_a_sleeping_worker_long_before_its_poll_interval() {
    let store = sqlite_file("wake");
    let db = Database::new(store.clone());
    fill(&db, 2);
    let handle = Worker::new(db.clone())
        .poll_interval(Duration::from_secs(60))
        .spawn();
    // Let it find nothing and go to sleep.
    std::thread::sleep(Duration::from_millis(200));

    let start = Instant::now();
    db.enqueue_delete::<Team>(&[1], &DeleteOptions::default())
        .expect("enqueue");
    wait_until(
        Duration::from_secs(20),
        "the job queued through the database",
        || db.jobs().expect("jobs").is_empty(),
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "woken, not polled after 60 s"
    );

    // A job queued through another database value does not raise this
    // one's wake-up: the handle's `wake` does.
    let other = Database::new(store.reopen().expect("reopen"));
    other
        .enqueue_delete::<Team>(&[2], &DeleteOptions::default())
        .expect("enqueue");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        other.jobs().expect("jobs").len(),
        1,
        "asleep: nothing woke it yet"
    );
    handle.wake();
    wait_until(Duration::from_secs(20), "the job after wake()", || {
        other.jobs().expect("jobs").is_empty()
    });
    let report = stop_within(handle);
    assert_eq!(report.jobs_finished, 2);
    assert!(db.rows("teams").expect("rows").is_empty());
}

/// A store whose transactions cannot begin while `down` is set; it notes
/// when each attempt was made.
struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
    attempts: Mutex<Vec<Instant>>,
}

impl Store for FlakyStore {
    fn schema(&self) -> &Schema {
        self.inner.schema()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error> {
        if self.down.load(Ordering::SeqCst) {
            self.attempts.lock().expect("attempts").push(Instant::now());
            return Err(Error::store(
                "flaky",
                StoreErrorKind::Connection,
                "the server is down",
            ));
        }
        self.inner.begin(access)
    }
}

#[test]
fn a_failing_store_is_retried_with_a_doubling_delay_that_stops_at_the_cap() {
    let flaky = Arc::new(FlakyStore {
        inner: MemoryStore::new(SCHEMA.clone()).expect("store"),
        down: AtomicBool::new(false),
        attempts: Mutex::new(Vec::new()),
    });
    let db = Database::from_shared(flaky.clone());
    fill(&db, 1);
    db.enqueue_delete::<Team>(&[1], &DeleteOptions::default())
        .expect("enqueue");
    flaky.down.store(true, Ordering::SeqCst);

    let handle = Worker::new(db.clone())
        .history(3)
        .poll_interval(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(80))
        .spawn();
    let attempts = 10;
    wait_until(Duration::from_secs(30), "ten attempts", || {
        flaky.attempts.lock().expect("attempts").len() >= attempts
    });
    let times = flaky.attempts.lock().expect("attempts").clone();
    let gaps: Vec<Duration> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let expected = [10, 20, 40, 80, 80, 80, 80, 80, 80];
    for (n, (gap, least)) in gaps.iter().zip(expected).enumerate() {
        assert!(
            *gap >= Duration::from_millis(least),
            "retry {n} came after {gap:?}, before its {least} ms backoff: {gaps:?}"
        );
    }
    // Doubling without a cap would wait 1,280 ms before the ninth retry.
    assert!(
        gaps[8] < Duration::from_millis(1000),
        "the delay stops at the cap: {gaps:?}"
    );

    // The store comes back: the job is drained at the next retry.
    flaky.down.store(false, Ordering::SeqCst);
    wait_until(
        Duration::from_secs(20),
        "the job drained after recovery",
        || handle.report().jobs_finished == 1,
    );
    let report = stop_within(handle);
    assert!(report.store_errors >= attempts as u64, "{report:?}");
    assert_eq!(report.errors.len(), 3, "only the last 3 errors are kept");
    assert!(
        report.errors[0].contains("the server is down"),
        "{report:?}"
    );
    assert!(db.rows("members").expect("rows").is_empty());
}

/// One `tracing` event: its message and its numeric fields.
type Event = (String, Vec<(String, u64)>);

/// The `tracing` events of a worker.
#[derive(Default)]
struct Recorded {
    events: Mutex<Vec<Event>>,
}

struct Recorder(Arc<Recorded>);

#[derive(Default)]
struct Fields {
    message: String,
    numbers: Vec<(String, u64)>,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.numbers.push((field.name().to_owned(), value));
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0
            .events
            .lock()
            .expect("events")
            .push((fields.message, fields.numbers));
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn a_worker_reports_each_job_and_its_totals_through_tracing() {
    let db = Database::new(sqlite_file("tracing"));
    fill(&db, 2);
    for team in [1, 2] {
        db.enqueue_delete::<Team>(&[team], &DeleteOptions::default())
            .expect("enqueue");
    }
    let recorded = Arc::new(Recorded::default());
    let worker = Worker::new(db.clone());
    let report = tracing::subscriber::with_default(Recorder(recorded.clone()), || {
        worker.run_until_idle().expect("run")
    });
    assert_eq!(report.jobs_finished, 2);
    let events = recorded.events.lock().expect("events").clone();
    let finished: Vec<_> = events
        .iter()
        .filter(|(message, _)| message == "worker: job finished")
        .collect();
    assert_eq!(finished.len(), 2, "{events:?}");
    for (_, numbers) in &finished {
        let deleted = numbers.iter().find(|(name, _)| name == "rows_deleted");
        assert_eq!(
            deleted.map(|(_, n)| *n),
            Some(1 + MEMBERS_PER_TEAM as u64),
            "{numbers:?}"
        );
    }
    let totals = events
        .iter()
        .rfind(|(message, _)| message == "worker: totals")
        .expect("a totals event");
    assert!(
        totals.1.contains(&("jobs_finished".to_owned(), 2)),
        "{totals:?}"
    );
    assert!(
        totals
            .1
            .contains(&("rows_deleted".to_owned(), 2 * (1 + MEMBERS_PER_TEAM as u64)))
    );
}
