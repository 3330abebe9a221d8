//! Many workers in many processes drain one job queue on PostgreSQL.
//!
//! 1,000 delete jobs are queued, one per team; each team's delete cascades
//! three tables deep (members, their posts, the posts' likes) and takes
//! several batches (a budget of 4 rows written). Then 4 worker processes —
//! this test binary, re-executed (`harness = false`), as `crash.rs` does —
//! each run 2 worker threads that claim jobs (`FOR UPDATE SKIP LOCKED`,
//! short leases) until no active job is left; every batch sleeps a little
//! inside its transaction, so that kills land mid-batch. While they run:
//! - one worker process is killed with SIGKILL once a fifth of the jobs
//!   are done: its jobs stay leased until the leases expire, then other
//!   workers take them over;
//! - one backend connection of another worker is killed with
//!   `pg_terminate_backend` while it is inside a batch's transaction
//!   (`idle in transaction` with a transaction id: it has written); the
//!   batch rolls back, the worker gets a connection error and goes on with
//!   a new connection;
//! - a reader polls, each time in one `REPEATABLE READ` snapshot, for rows
//!   whose parent is gone (an orphan of any of the three foreign keys).
//!
//! Each worker prints every batch and every finished job with its counts.
//! At the end: no job is left, every queued team's rows are gone and every
//! other team's are intact, no job was reported finished twice, every
//! reported job deleted exactly its own rows (counts not doubled by a
//! replayed batch), jobs were taken over, and the reader saw no orphan.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Access, Action, Budget, Database, DeleteOptions, IndexRef, JobFilter, PoolOptions,
    PostgresOptions, PostgresStore, Progress, ProgressEvent, Schema, Store, TableMeta, Value,
    ValueType, Worker,
};

mod common;
use common::postgres as pg;

const CHILD_SCHEMA: &str = "CASCADIA_WORKERS_CHILD_SCHEMA";
const CHILD_INDEX: &str = "CASCADIA_WORKERS_CHILD_INDEX";

const JOBS: i64 = 1_000;
/// Teams that are not deleted, to check nothing else is.
const KEPT: i64 = 50;
const PROCESSES: usize = 4;
const THREADS: usize = 2;
/// A worker's lease on a job: a dead worker's job is taken over this long
/// after its last batch.
const LEASE: Duration = Duration::from_millis(800);
/// Rows per team: 1 team, 2 members, 4 posts, 8 likes.
const PER_TEAM: [u64; 4] = [1, 2, 4, 8];
const TABLES: [&str; 4] = ["teams", "members", "posts", "likes"];

fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    let child = |name: &str, parent: &str, column: &str| {
        TableMeta::new(name.to_owned())
            .with_column(id())
            .with_column(ColumnMeta::new(column.to_owned(), ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new(format!("by_{column}"), [column.to_owned()]))
            .with_foreign_key(
                ForeignKeyMeta::new([column.to_owned()], parent.to_owned(), ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index(format!("by_{column}").into())),
            )
    };
    Schema::new(vec![
        TableMeta::new("teams")
            .with_column(id())
            .with_primary_key(["id"]),
        child("members", "teams", "team_id"),
        child("posts", "members", "member_id"),
        child("likes", "posts", "post_id"),
    ])
    .expect("schema")
}

/// The URL with this worker's `application_name`, so that the parent finds
/// its backends.
fn worker_url(index: usize) -> String {
    let url = pg::url();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name=cascadia_worker_{index}")
}

fn open(url: &str, namespace: &str, connections: u32) -> PostgresStore {
    PostgresStore::open(
        url,
        schema(),
        PostgresOptions::default()
            .schema(namespace)
            .pool(PoolOptions::default().max_connections(connections)),
    )
    .expect("store")
}

fn active_jobs(store: &PostgresStore) -> usize {
    store
        .begin(Access::Read)
        .and_then(|mut tx| tx.list_jobs(JobFilter::ACTIVE))
        .map_or(usize::MAX, |jobs| jobs.len())
}

fn batch_sleep() {
    std::thread::sleep(Duration::from_millis(3));
}

/// One line on stdout, whole.
fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A worker process: `THREADS` workers until no active job is left.
fn child(namespace: &str, index: usize) {
    let _ = cascadia::__private::BATCH_HOOK.set(batch_sleep);
    let store = open(&worker_url(index), namespace, THREADS as u32 + 1);
    let db = Database::new(store.clone()).with_job_lease(LEASE);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (db, store) = (db.clone(), store.clone());
            scope.spawn(move || {
                let me = format!("{}.{thread}", std::process::id());
                let observer = {
                    let me = me.clone();
                    move |p: &Progress| {
                        let job = p.job.map_or(0, |j| j.0);
                        match p.event {
                            ProgressEvent::Finished => {
                                let counts: Vec<String> = TABLES
                                    .iter()
                                    .map(|t| p.outcome.rows_deleted(t).to_string())
                                    .collect();
                                say(format!("F {me} {job} {} {}", p.batches, counts.join(" ")));
                            }
                            _ => say(format!("B {me} {job} {}", p.batches)),
                        }
                    }
                };
                let worker = Worker::new(db).observer(observer);
                loop {
                    if let Err(error) = worker.run_until_idle() {
                        say(format!("E {me} {error}"));
                    }
                    if active_jobs(&store) == 0 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        }
    });
    say("DONE".to_owned());
}

/// Teams 1..=JOBS+KEPT, each with 2 members, 4 posts, 8 likes.
fn fill(client: &mut postgres::Client) {
    let teams = JOBS + KEPT;
    client
        .batch_execute(&format!(
            "INSERT INTO teams SELECT g FROM generate_series(1, {teams}) g;
             INSERT INTO members SELECT g, (g + 1) / 2 FROM generate_series(1, {teams} * 2) g;
             INSERT INTO posts SELECT g, (g + 1) / 2 FROM generate_series(1, {teams} * 4) g;
             INSERT INTO likes SELECT g, (g + 1) / 2 FROM generate_series(1, {teams} * 8) g;"
        ))
        .expect("fill");
}

const ORPHANS: &str = "SELECT (SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = m.team_id)) \
     + (SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = p.member_id)) \
     + (SELECT count(*) FROM likes l WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = l.post_id))";

/// Polls for orphans until `stop`; returns (polls, orphans seen).
fn poll_orphans(namespace: &pg::PgSchema, stop: &AtomicBool) -> (u64, u64) {
    let mut client = namespace.client();
    let (mut polls, mut seen) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .expect("snapshot");
        let orphans: i64 = tx.query_one(ORPHANS, &[]).expect("orphans").get(0);
        tx.commit().expect("end snapshot");
        polls += 1;
        seen += orphans as u64;
        std::thread::sleep(Duration::from_millis(20));
    }
    (polls, seen)
}

/// Kills one worker backend inside a batch's transaction (after it wrote);
/// returns the worker it belonged to.
fn terminate_a_backend_mid_batch(client: &mut postgres::Client, spare: usize) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let rows = client
            .query(
                "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name LIKE 'cascadia_worker_%' AND application_name <> $1 \
                 AND state = 'idle in transaction' AND backend_xid IS NOT NULL LIMIT 1",
                &[&format!("cascadia_worker_{spare}")],
            )
            .expect("pg_terminate_backend");
        if let Some(row) = rows.first() {
            if row.get::<_, bool>(1) {
                return Some(row.get(0));
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn spawn(exe: &std::path::Path, namespace: &str, index: usize) -> Child {
    Command::new(exe)
        .env(CHILD_SCHEMA, namespace)
        .env(CHILD_INDEX, index.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("worker process")
}

/// Collects a child's lines as they come (so its pipe never fills).
fn collect(child: &mut Child, lines: &Arc<Mutex<Vec<String>>>) -> std::thread::JoinHandle<()> {
    let stdout = child.stdout.take().expect("stdout");
    let lines = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            lines.lock().expect("lines").push(line);
        }
    })
}

fn count(client: &mut postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).expect("count").get(0)
}

fn main() {
    if let (Ok(namespace), Ok(index)) = (std::env::var(CHILD_SCHEMA), std::env::var(CHILD_INDEX)) {
        child(&namespace, index.parse().expect("index"));
        return;
    }
    const NAME: &str = "many_workers_in_many_processes_drain_one_queue";
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|filter| NAME.contains(filter.as_str())) {
        println!("running 0 tests ({NAME} filtered out)");
        return;
    }
    println!("running 1 test");
    many_workers_in_many_processes_drain_one_queue();
    println!("test {NAME} ... ok");
    println!("1 passed, 0 failed");
}

fn many_workers_in_many_processes_drain_one_queue() {
    let started = Instant::now();
    let namespace = pg::PgSchema::new("workers");
    let store = open(&pg::url(), &namespace.name, 2);
    let mut client = namespace.client();
    fill(&mut client);
    let db = Database::new(store.clone()).with_max_pending_jobs(2 * JOBS as usize);
    let options = DeleteOptions::default()
        .batch_rows(2)
        .budget(Budget::UNLIMITED.rows_written(4));
    for team in 1..=JOBS {
        db.enqueue_delete_rows("teams", &[vec![Value::Integer(team)]], &options)
            .expect("enqueue");
    }
    assert_eq!(active_jobs(&store), JOBS as usize);

    let stop = AtomicBool::new(false);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let exe = std::env::current_exe().expect("test binary");
    let (killed_backend, (polls, orphans_seen)) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| poll_orphans(&namespace, &stop));
        let mut children: Vec<Child> = (0..PROCESSES)
            .map(|i| spawn(&exe, &namespace.name, i))
            .collect();
        let collectors: Vec<_> = children.iter_mut().map(|c| collect(c, &lines)).collect();
        // SIGKILL worker process 0 once a fifth of the jobs are done.
        while active_jobs(&store) > (JOBS as usize) * 4 / 5 {
            std::thread::sleep(Duration::from_millis(10));
        }
        children[0].kill().expect("SIGKILL");
        // Then one backend of another worker, mid-batch.
        let killed_backend = terminate_a_backend_mid_batch(&mut client, 0);
        let deadline = Instant::now() + Duration::from_secs(300);
        for child in children.iter_mut() {
            loop {
                if child.try_wait().expect("wait").is_some() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the workers did not finish in time"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        for collector in collectors {
            collector.join().expect("collector");
        }
        stop.store(true, Ordering::Relaxed);
        (killed_backend, reader.join().expect("reader"))
    });

    let lines = lines.lock().expect("lines").clone();
    // job -> workers that ran a batch of it; job -> finishes reported.
    let mut ran: std::collections::HashMap<u64, std::collections::BTreeSet<String>> =
        std::collections::HashMap::new();
    let mut finished: std::collections::HashMap<u64, Vec<Vec<u64>>> =
        std::collections::HashMap::new();
    let mut errors = Vec::new();
    for line in &lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["B", worker, job, _] => {
                ran.entry(job.parse().expect("job"))
                    .or_default()
                    .insert((*worker).to_owned());
            }
            ["F", worker, job, _, counts @ ..] => {
                let job: u64 = job.parse().expect("job");
                ran.entry(job).or_default().insert((*worker).to_owned());
                finished
                    .entry(job)
                    .or_default()
                    .push(counts.iter().map(|c| c.parse().expect("count")).collect());
            }
            ["E", ..] => errors.push(line.clone()),
            _ => {}
        }
    }
    let twice: Vec<&u64> = finished
        .iter()
        .filter(|(_, f)| f.len() > 1)
        .map(|(j, _)| j)
        .collect();
    let doubled: Vec<(&u64, &Vec<Vec<u64>>)> = finished
        .iter()
        .filter(|(_, f)| f.iter().any(|counts| counts.as_slice() != PER_TEAM))
        .collect();
    let takeovers = ran.values().filter(|workers| workers.len() > 1).count();
    let unreported = JOBS as usize - finished.len();
    let left = active_jobs(&store)
        + count(&mut client, "SELECT count(*) FROM _cascadia_delete_jobs") as usize;
    let remaining: Vec<i64> = TABLES
        .iter()
        .map(|t| count(&mut client, &format!("SELECT count(*) FROM {t}")))
        .collect();
    let kept: Vec<i64> = PER_TEAM.iter().map(|n| *n as i64 * KEPT).collect();
    println!(
        "workers: {JOBS} jobs, {PROCESSES} processes x {THREADS} threads, kills: 1 SIGKILL + 1 pg_terminate_backend ({}), \
         takeovers: {takeovers}, finished jobs reported: {} (unreported: {unreported}, finished by the killed process \
         between its commit and its report), finished twice: {}, counts doubled: {}, worker errors: {}, \
         orphans seen: {orphans_seen} in {polls} polls, {:.1}s",
        killed_backend.as_deref().unwrap_or("none found"),
        finished.len(),
        twice.len(),
        doubled.len(),
        errors.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(left, 0, "every job finished");
    assert_eq!(
        remaining, kept,
        "every queued team's rows are gone, the others' intact"
    );
    assert!(twice.is_empty(), "jobs finished twice: {twice:?}");
    assert!(doubled.is_empty(), "counts doubled: {doubled:?}");
    assert!(
        unreported <= THREADS,
        "{unreported} finished jobs were never reported"
    );
    assert!(killed_backend.is_some(), "a backend was killed mid-batch");
    assert!(
        errors.iter().any(|e| e.contains("postgres")),
        "the worker whose backend was killed saw a connection error: {errors:?}"
    );
    assert!(takeovers > 0, "jobs of the killed process were taken over");
    assert_eq!(orphans_seen, 0, "a reader saw an orphan");
    assert!(polls > 10, "the reader polled throughout ({polls} polls)");
}
