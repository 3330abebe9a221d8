//! The headline benchmark: cascadia's batched delete against SQLite's own
//! `ON DELETE CASCADE`, in one run, as a ratio.
//!
//! ```sh
//! cargo run --release --example bench_cascade                 # 1 team → 100k members → 500k posts
//! cargo run --release --example bench_cascade -- --scale 0.1  # a tenth of that
//! ```
//!
//! Two file-backed SQLite databases (WAL, `synchronous=NORMAL`, foreign-key
//! indexes) get the same generated data: the team to delete with its
//! 100,000 members and 500,000 posts (rows of about 100 bytes), and a
//! second team whose rows must survive. One database declares its foreign
//! keys `ON DELETE CASCADE` and deletes the team with one `DELETE`
//! statement; the other declares them without actions (SQLite still
//! enforces them) and cascadia deletes the team in batched mode, 1,000 rows
//! per transaction. Both end states are compared, then one line is printed:
//!
//! `native_rows_per_s=<n> cascadia_rows_per_s=<n> ratio=<cascadia/native> max_tx_rows=<largest batch committed> peak_rss_mib=<n>`
//!
//! `peak_rss_mib` is the process's peak resident memory during cascadia's
//! delete (Linux: `VmHWM`, reset before it starts).
//!
//! Options: `--scale <f>` (default 1), `--batch <rows>` (default 1000),
//! `--dir <path>` (default: a fresh directory under the system's temp dir,
//! removed afterwards).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cascadia::{
    Budget, Database, DeleteOptions, Id, Progress, Schema, SqliteOptions, SqliteStore, Table,
    schema,
};
use rusqlite::Connection;

/// A team: the root of the delete.
#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

/// A member of a team; deleted with its team.
#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub name: String,
    pub payload: String,
}

/// A post by a member; deleted with its member.
#[derive(Table)]
#[table(name = "posts")]
#[index(name = "by_member", columns(member_id))]
pub struct Post {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Member, on_delete = cascade)]
    pub member_id: Id<Member>,
    pub title: String,
    pub body: String,
}

/// The benchmark's schema.
pub static SCHEMA: Schema = schema![Team, Member, Post];

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Multiplies the data size (1.0: 100,000 members, 500,000 posts).
    pub scale: f64,
    /// Rows per batch (the budget's rows written, and the frame size).
    pub batch: u64,
    /// Where the databases go (`None`: a fresh temp directory, removed).
    pub dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scale: 1.0,
            batch: 1_000,
            dir: None,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Rows deleted by each side (the team, its members, their posts).
    pub rows: u64,
    pub native_seconds: f64,
    pub cascadia_seconds: f64,
    /// CPU time of each side (user + system), in seconds.
    pub native_cpu_seconds: f64,
    pub cascadia_cpu_seconds: f64,
    /// Most rows written by one committed batch.
    pub max_tx_rows: u64,
    /// Batches committed.
    pub batches: u64,
    /// Most rows the executor held in memory after a batch.
    pub max_held_rows: usize,
    /// Peak resident memory during cascadia's delete, in MiB (0 when the
    /// platform does not say).
    pub peak_rss_mib: f64,
    /// Whether both databases hold the same rows afterwards.
    pub same_contents: bool,
}

impl Summary {
    /// The one summary line.
    pub fn line(&self) -> String {
        let native = self.rows as f64 / self.native_seconds;
        let ours = self.rows as f64 / self.cascadia_seconds;
        format!(
            "native_rows_per_s={:.0} cascadia_rows_per_s={:.0} ratio={:.2} max_tx_rows={} peak_rss_mib={:.0}",
            native,
            ours,
            ours / native,
            self.max_tx_rows,
            self.peak_rss_mib
        )
    }
}

type Failure = Box<dyn std::error::Error>;

/// A deterministic text of `len` bytes.
fn text(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789 ";
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[(state >> 33) as usize % ALPHABET.len()] as char
        })
        .collect()
}

/// Fills a database: team 1 with `members` members of 5 posts each, team 2
/// with a hundredth of that (rows that must survive).
fn fill(conn: &mut Connection, members: i64) -> Result<(), Failure> {
    let tx = conn.transaction()?;
    {
        let mut team = tx.prepare("INSERT INTO teams (id, name, payload) VALUES (?1, ?2, ?3)")?;
        let mut member =
            tx.prepare("INSERT INTO members (id, team_id, name, payload) VALUES (?1, ?2, ?3, ?4)")?;
        let mut post =
            tx.prepare("INSERT INTO posts (id, member_id, title, body) VALUES (?1, ?2, ?3, ?4)")?;
        let mut post_id = 0i64;
        let others = (members / 100).max(1);
        for (team_id, count, first) in [(1i64, members, 0i64), (2, others, members)] {
            team.execute(rusqlite::params![
                team_id,
                format!("team {team_id}"),
                text(team_id as u64, 80)
            ])?;
            for m in first..first + count {
                member.execute(rusqlite::params![
                    m,
                    team_id,
                    format!("member {m}"),
                    text(m as u64, 70)
                ])?;
                for _ in 0..5 {
                    post.execute(rusqlite::params![
                        post_id,
                        m,
                        format!("post {post_id}"),
                        text(post_id as u64 + 1_000_000_000, 70)
                    ])?;
                    post_id += 1;
                }
            }
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    Ok(())
}

/// Every row of every table, in key order, as text (for comparing ends).
fn dump(conn: &Connection) -> Result<Vec<String>, Failure> {
    let mut rows = Vec::new();
    for (table, columns) in [
        ("teams", "id, name, payload"),
        ("members", "id, team_id, name, payload"),
        ("posts", "id, member_id, title, body"),
    ] {
        let mut statement = conn.prepare(&format!("SELECT {columns} FROM {table} ORDER BY id"))?;
        let mut query = statement.query([])?;
        while let Some(row) = query.next()? {
            rows.push(format!(
                "{table}:{}:{:?}:{:?}",
                row.get::<_, i64>(0)?,
                row.get::<_, rusqlite::types::Value>(1)?,
                row.get::<_, rusqlite::types::Value>(2)?
            ));
        }
    }
    Ok(rows)
}

fn count(conn: &Connection) -> Result<u64, Failure> {
    let mut total = 0u64;
    for table in ["teams", "members", "posts"] {
        total += conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })? as u64;
    }
    Ok(total)
}

/// Peak resident memory of this process, in KiB (Linux), and a way to
/// reset it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) of this process so far, in seconds (Linux;
/// 0 elsewhere), to tell CPU from I/O waits.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn open(path: &Path, native: bool) -> Result<SqliteStore, Failure> {
    Ok(SqliteStore::open(
        path,
        SCHEMA.clone(),
        SqliteOptions::default().native_actions(native),
    )?)
}

/// Runs the benchmark.
pub fn run(config: &Config) -> Result<Summary, Failure> {
    let (dir, temporary) = match &config.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("cascadia-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)?;
    let native_path = dir.join("native.db");
    let ours_path = dir.join("cascadia.db");
    for path in [&native_path, &ours_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    let members = ((100_000.0 * config.scale).round() as i64).max(1);

    // The same data in both, each store creating its own tables.
    for (path, native) in [(&native_path, true), (&ours_path, false)] {
        let store = open(path, native)?;
        store.with_connection_mut(|conn| {
            fill(conn, members).map_err(|e| cascadia::Error::InvalidRange {
                table: "fill".into(),
                reason: e.to_string(),
            })
        })?;
    }

    // SQLite's own cascade: one statement, one transaction.
    let native = Connection::open(&native_path)?;
    native.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
    )?;
    let before = count(&native)?;
    let cpu = cpu_seconds();
    let started = Instant::now();
    native.execute("DELETE FROM teams WHERE id = 1", [])?;
    let native_seconds = started.elapsed().as_secs_f64();
    let native_cpu_seconds = cpu_seconds() - cpu;
    let rows = before - count(&native)?;

    // cascadia, batched.
    reset_peak_rss();
    let store = open(&ours_path, false)?;
    let db = Database::new(store);
    let max_tx_rows = Arc::new(AtomicU64::new(0));
    let batches = Arc::new(AtomicU64::new(0));
    let max_held = Arc::new(AtomicU64::new(0));
    let (max, n, held) = (max_tx_rows.clone(), batches.clone(), max_held.clone());
    let options = DeleteOptions::default()
        .batch_rows(config.batch as usize)
        .budget(Budget::DEFAULT.rows_written(config.batch))
        .observer(move |progress: &Progress| {
            max.fetch_max(progress.batch_rows_written, Ordering::Relaxed);
            held.fetch_max(progress.held_rows as u64, Ordering::Relaxed);
            n.fetch_add(1, Ordering::Relaxed);
        });
    let cpu = cpu_seconds();
    let started = Instant::now();
    let outcome = db.delete_with::<Team>(&[1], &options)?;
    let cascadia_seconds = started.elapsed().as_secs_f64();
    let cascadia_cpu_seconds = cpu_seconds() - cpu;
    let peak_rss_mib = peak_rss_kib().map_or(0.0, |kib| kib as f64 / 1024.0);
    drop(db);

    let ours = Connection::open(&ours_path)?;
    let same_contents = outcome.rows_deleted("posts") + outcome.rows_deleted("members") + 1 == rows
        && dump(&ours)? == dump(&native)?;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Summary {
        rows,
        native_seconds,
        cascadia_seconds,
        native_cpu_seconds,
        cascadia_cpu_seconds,
        max_tx_rows: max_tx_rows.load(Ordering::Relaxed),
        batches: batches.load(Ordering::Relaxed),
        max_held_rows: max_held.load(Ordering::Relaxed) as usize,
        peak_rss_mib,
        same_contents,
    })
}

fn parse() -> Result<Config, Failure> {
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--scale" => config.scale = value()?.parse()?,
            "--batch" => config.batch = value()?.parse()?,
            "--dir" => config.dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other} (--scale, --batch, --dir)").into()),
        }
    }
    Ok(config)
}

#[allow(dead_code)]
fn main() -> Result<(), Failure> {
    let config = parse()?;
    let summary = run(&config)?;
    if !summary.same_contents {
        return Err("the two databases differ after the delete".into());
    }
    eprintln!(
        "rows={} native_s={:.3} (cpu {:.2}) cascadia_s={:.3} (cpu {:.2}) batches={} max_held_rows={}",
        summary.rows,
        summary.native_seconds,
        summary.native_cpu_seconds,
        summary.cascadia_seconds,
        summary.cascadia_cpu_seconds,
        summary.batches,
        summary.max_held_rows
    );
    println!("{}", summary.line());
    Ok(())
}
