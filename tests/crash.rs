//! Crash safety: a batched delete killed with SIGKILL at random points loses
//! nothing, commits no orphan, and a new worker finishes it.
//!
//! Each trial builds a file-backed SQLite database (WAL, foreign keys
//! declared without actions and enforced), queues the delete of one team —
//! its members (CASCADE), their posts (CASCADE), the likes on those posts
//! (CASCADE, while the likes' NO ACTION key to members is satisfied because
//! the same delete removes them), and the mentor links of another team's
//! members (SET NULL) — with a small budget (many batches), then runs it in
//! a child process: this test binary, re-executed with the database's path
//! in its environment (the binary has its own `main`, `harness = false`, so
//! the child is not a test of its own). The child is killed with SIGKILL after a random delay, up
//! to twice. Odd trials make the child sleep inside each batch's open
//! transaction (the test hook `BATCH_HOOK`), so that most kills land
//! mid-batch; even trials run at full speed. The child reports on stderr
//! when it enters a batch's commit window and when a batch committed, so
//! each kill is classified (before the first batch, mid-batch, between
//! batches).
//!
//! After each kill: `PRAGMA foreign_key_check` is empty, and the killed
//! worker's lease on the job (`LEASE`, short here) is left to expire before
//! the next worker starts — until it does, no other worker may take the job
//! (checked after the last kill). Then a worker in this process resumes the
//! job; the final database must equal an oracle database where SQLite's own
//! `ON DELETE` actions ran the same delete — including every row of the
//! other teams.
//!
//! Trials: `CASCADIA_CRASH_TRIALS` (default 50); seed:
//! `CASCADIA_CRASH_SEED`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Access, Action, Budget, Database, DeleteOptions, IndexRef, JobFilter, Schema, SqliteOptions,
    SqliteStore, TableMeta, Value, ValueType, Worker,
};
use rusqlite::Connection;

const CHILD_DB: &str = "CASCADIA_CRASH_CHILD_DB";
const CHILD_SLEEP_MS: &str = "CASCADIA_CRASH_CHILD_SLEEP_MS";

/// The workers' lease on the job: a killed worker's job is taken over this
/// long after its last batch.
const LEASE: Duration = Duration::from_millis(150);

fn schema() -> Schema {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    Schema::new(vec![
        TableMeta::new("teams")
            .with_column(id())
            .with_column(ColumnMeta::new("name", ValueType::Text))
            .with_primary_key(["id"]),
        TableMeta::new("members")
            .with_column(id())
            .with_column(ColumnMeta::new("team_id", ValueType::Integer))
            .with_column(ColumnMeta::new("mentor_id", ValueType::Integer).nullable())
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
        TableMeta::new("likes")
            .with_column(id())
            .with_column(ColumnMeta::new("post_id", ValueType::Integer))
            .with_column(ColumnMeta::new("member_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_post", ["post_id"]))
            .with_index(IndexMeta::new("by_member", ["member_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["post_id"], "posts", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_post".into())),
            )
            .with_foreign_key(
                ForeignKeyMeta::new(["member_id"], "members", ["id"])
                    .on_delete(Action::NoAction)
                    .with_index(IndexRef::Index("by_member".into())),
            ),
    ])
    .expect("schema")
}

const TABLES: [&str; 4] = ["teams", "members", "posts", "likes"];

/// Three teams; team 1 (the one deleted) has 100 members with 4 posts each
/// and a like per post by a teammate; teams 2 and 3 have 10 members each,
/// some mentored by team 1's members.
fn fill(conn: &mut Connection) {
    let tx = conn.transaction().expect("begin");
    // Likes reference teammates inserted later: check at commit.
    tx.execute_batch("PRAGMA defer_foreign_keys = ON")
        .expect("defer");
    let mut like = 0;
    for team in 1..=3i64 {
        tx.execute(
            "INSERT INTO teams VALUES (?1, ?2)",
            rusqlite::params![team, format!("team {team}")],
        )
        .expect("team");
        let members = if team == 1 { 100 } else { 10 };
        for m in 0..members {
            let id = team * 1000 + m;
            let mentor = (team != 1 && m % 3 == 0).then_some(1000 + m);
            tx.execute(
                "INSERT INTO members VALUES (?1, ?2, ?3)",
                rusqlite::params![id, team, mentor],
            )
            .expect("member");
            for p in 0..4 {
                let post = id * 10 + p;
                tx.execute(
                    "INSERT INTO posts VALUES (?1, ?2, ?3)",
                    rusqlite::params![post, id, "x".repeat(30)],
                )
                .expect("post");
                let liker = team * 1000 + (m + 1 + p) % members;
                like += 1;
                tx.execute(
                    "INSERT INTO likes VALUES (?1, ?2, ?3)",
                    rusqlite::params![like, post, liker],
                )
                .expect("like");
            }
        }
    }
    tx.commit().expect("commit");
}

fn dump(conn: &Connection) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for table in TABLES {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY id"))
            .expect("select");
        let columns = statement.column_count();
        let mut query = statement.query([]).expect("query");
        while let Some(row) = query.next().expect("row") {
            let mut values = vec![Value::Text(table.to_owned())];
            for i in 0..columns {
                values.push(row.get(i).expect("value"));
            }
            rows.push(values);
        }
    }
    rows
}

fn orphans(conn: &Connection) -> usize {
    conn.prepare("PRAGMA foreign_key_check")
        .expect("check")
        .query_map([], |_| Ok(()))
        .expect("rows")
        .count()
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The oracle: SQLite's own actions on the same data.
fn oracle(dir: &Path) -> Vec<Vec<Value>> {
    let path = dir.join("oracle.db");
    remove_db(&path);
    let store = SqliteStore::open(
        &path,
        schema(),
        SqliteOptions::default().native_actions(true),
    )
    .expect("oracle store");
    let rows = store
        .with_connection_mut(|conn| {
            fill(conn);
            conn.execute("DELETE FROM teams WHERE id = 1", [])?;
            Ok(dump(conn))
        })
        .expect("oracle");
    drop(store);
    remove_db(&path);
    rows
}

/// How long the lease of a worker on the job still lasts (zero when no
/// worker holds one).
fn lease_left(db: &Database) -> Duration {
    let mut tx = db.store().begin(Access::Read).expect("read");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    tx.list_jobs(JobFilter::ALL)
        .expect("jobs")
        .iter()
        .filter_map(|job| job.lease.as_ref())
        .map(|lease| Duration::from_millis(lease.until_ms.saturating_sub(now).max(0) as u64))
        .max()
        .unwrap_or_default()
}

/// A deterministic random sequence (xorshift).
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// How a kill landed.
#[derive(Debug, Default)]
struct Landings {
    before_first_batch: u32,
    mid_batch: u32,
    between_batches: u32,
    child_finished_first: u32,
}

fn sleep_hook() {
    let ms: u64 = std::env::var(CHILD_SLEEP_MS)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    eprintln!("H");
    std::thread::sleep(Duration::from_millis(ms));
}

/// The child: runs the queued job on the database at `path`.
fn crash_child(path: &str) {
    let _ = cascadia::__private::BATCH_HOOK.set(sleep_hook);
    let store = SqliteStore::open(path, schema(), SqliteOptions::default()).expect("store");
    let db = Database::new(store).with_job_lease(LEASE);
    let worker = Worker::new(db).observer(|p: &cascadia::Progress| {
        eprintln!("C {}", p.batches);
    });
    worker.run_until_idle().expect("worker");
    eprintln!("DONE");
}

/// A fresh database at `path` with the delete of team 1 queued.
fn prepare(path: &Path) {
    remove_db(path);
    let store = SqliteStore::open(path, schema(), SqliteOptions::default()).expect("store");
    store
        .with_connection_mut(|conn| {
            fill(conn);
            Ok(())
        })
        .expect("fill");
    Database::new(store)
        .enqueue_delete_rows(
            "teams",
            &[vec![Value::Integer(1)]],
            &DeleteOptions::default()
                .batch_rows(8)
                .budget(Budget::DEFAULT.rows_written(6)),
        )
        .expect("enqueue");
}

/// This test binary, running `crash_child` on `path`.
fn child(exe: &Path, path: &Path, sleep_ms: u64) -> std::process::Child {
    Command::new(exe)
        .env(CHILD_DB, path)
        .env(CHILD_SLEEP_MS, sleep_ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child")
}

/// `harness = false`: the parent runs the trials, unless a `cargo test`
/// filter that does not match this test was given; the child (the
/// environment names its database) runs the job.
fn main() {
    if let Ok(path) = std::env::var(CHILD_DB) {
        crash_child(&path);
        return;
    }
    const NAME: &str = "crash_safety_under_sigkill";
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|filter| NAME.contains(filter.as_str())) {
        println!("running 0 tests ({NAME} filtered out)");
        return;
    }
    println!("running 1 test");
    crash_safety_under_sigkill();
    println!("test {NAME} ... ok");
}

fn crash_safety_under_sigkill() {
    let trials: u64 = std::env::var("CASCADIA_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("CASCADIA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_cafe);
    let dir: PathBuf = std::env::temp_dir().join(format!("cascadia-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let expected = oracle(&dir);
    let exe = std::env::current_exe().expect("test binary");
    let mut random = Random(seed | 1);
    let mut landings = Landings::default();
    let mut resumed_midway = 0;
    let mut leases_respected = 0;
    let started = Instant::now();
    // How long an uninterrupted child takes, in each mode: kills are spread
    // over that time.
    let mut duration = [0u64; 2];
    for (mode, sleep_ms) in [(0, 0), (1, 3)] {
        let path = dir.join("calibration.db");
        prepare(&path);
        let started = Instant::now();
        let status = child(&exe, &path, sleep_ms).wait().expect("child");
        assert!(status.success(), "the child runs the job");
        duration[mode] = started.elapsed().as_millis() as u64;
        remove_db(&path);
    }
    for trial in 0..trials {
        let path = dir.join(format!("trial-{trial}.db"));
        prepare(&path);
        let mode = (trial % 2) as usize;
        let sleep_ms = if mode == 1 { 3 } else { 0 };
        let kills = 1 + random.below(2);
        for kill in 0..kills {
            if kill > 0 {
                // The previous worker's lease must expire before the next
                // one can take the job.
                std::thread::sleep(LEASE);
            }
            let mut child = child(&exe, &path, sleep_ms);
            std::thread::sleep(Duration::from_millis(random.below(duration[mode])));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            let mut log = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut log);
            }
            let last = log
                .lines()
                .rev()
                .find(|l| *l == "H" || l.starts_with("C ") || *l == "DONE");
            match last {
                None => landings.before_first_batch += 1,
                Some("H") => landings.mid_batch += 1,
                Some("DONE") => landings.child_finished_first += 1,
                Some(_) => landings.between_batches += 1,
            }
            let conn = Connection::open(&path).expect("open");
            assert_eq!(orphans(&conn), 0, "trial {trial}: an orphan after a kill");
        }
        // A new worker, in this process, resumes whatever is left — once
        // the killed worker's lease has expired.
        let store = SqliteStore::open(&path, schema(), SqliteOptions::default()).expect("store");
        let db = Database::new(store).with_job_lease(LEASE);
        let jobs = db.jobs().expect("jobs");
        if jobs.iter().any(|job| job.batches > 0) {
            resumed_midway += 1;
        }
        if lease_left(&db) > LEASE / 3 {
            let early = Worker::new(db.clone())
                .run_until_idle()
                .expect("early worker");
            assert!(
                early.finished.is_empty() && !db.jobs().expect("jobs").is_empty(),
                "trial {trial}: a job was taken over before its lease expired"
            );
            leases_respected += 1;
        }
        std::thread::sleep(lease_left(&db) + Duration::from_millis(5));
        let report = Worker::new(db.clone()).run_until_idle().expect("resume");
        assert!(
            report.failed.is_empty() && report.errors.is_empty(),
            "trial {trial}: {report:?}"
        );
        assert!(
            db.jobs().expect("jobs").is_empty(),
            "trial {trial}: a job is left"
        );
        drop(db);
        let conn = Connection::open(&path).expect("open");
        assert_eq!(orphans(&conn), 0);
        assert_eq!(
            dump(&conn),
            expected,
            "trial {trial}: the result differs from SQLite's own cascade"
        );
        drop(conn);
        remove_db(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "crash safety: {trials} trials in {:.1}s (an uninterrupted child: {} ms, {} ms when sleeping in each batch); kills {landings:?}; jobs resumed mid-way: {resumed_midway}; takeovers refused before the lease expired: {leases_respected}",
        started.elapsed().as_secs_f64(),
        duration[0],
        duration[1]
    );
    assert!(
        landings.mid_batch >= (trials as u32) / 5,
        "too few kills landed inside a batch: {landings:?}"
    );
    assert!(landings.between_batches > 0, "{landings:?}");
    assert!(leases_respected > 0, "no early takeover was tried");
}
