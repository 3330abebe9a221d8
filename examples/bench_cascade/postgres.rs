//! `--backend postgres`: the `fanout` shape on a PostgreSQL server (the URL
//! in `CASCADIA_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
//! three ways in one process, each in a schema of its own filled with the
//! same rows by the server (`INSERT … SELECT … generate_series`), then
//! `ANALYZE`d and `CHECKPOINT`ed:
//!
//! 1. **native**: PostgreSQL's own `ON DELETE CASCADE`, one statement in one
//!    transaction (`DELETE FROM teams WHERE id = 1`), on tables declared by
//!    hand with the same columns and indexes.
//! 2. **ceiling**: a server-side batched loop, a plpgsql procedure on the
//!    tables cascadia's `PostgresStore` created (the same DDL as cascadia's
//!    side): each transaction takes `batch ÷ 6` members of the team (`ORDER
//!    BY id LIMIT k`), deletes their posts and them (`= ANY(ids)`), upserts a
//!    small job record and `COMMIT`s (each waits for the WAL flush, as
//!    cascadia's batches do by default); the team goes last.
//! 3. **cascadia**: `Database::delete_with` in batched mode over
//!    `PostgresStore`, `--batch` rows per transaction.
//!
//! The end states must match (rows left per table, no orphan), else the run
//! fails. Then the worker scaling: 4 teams of a quarter of the members each,
//! queued as 4 jobs, drained by 1, 2 and 4 worker threads (each job claimed
//! with `FOR UPDATE SKIP LOCKED`), on a fresh fill each time.

use std::sync::{Arc, Mutex};
use std::thread;

use cascadia::{
    Database, DeleteOptions, PoolOptions, PostgresOptions, PostgresStore, Progress, Worker,
};
use postgres::{Client, NoTls};

use super::Failure;
use super::cli::Config;
use super::data::scaled;
use super::measure::{Measured, measure};
use super::shapes::fanout::{SCHEMA, Team};

/// Posts per member.
const POSTS: i64 = 5;

/// The server the benchmark runs on.
fn url() -> String {
    std::env::var("CASCADIA_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A connection whose statements run in `schema`.
fn connect(schema: &str) -> Result<Client, Failure> {
    let mut client = Client::connect(&url(), NoTls)?;
    client.batch_execute(&format!("SET search_path TO {schema}"))?;
    Ok(client)
}

/// Drops and creates `schema`, empty.
fn fresh_schema(schema: &str) -> Result<(), Failure> {
    let mut client = Client::connect(&url(), NoTls)?;
    client.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))?;
    Ok(())
}

/// The native side's tables: cascadia's columns, FKs with their actions.
const NATIVE_DDL: &str = "
    CREATE TABLE teams (id BIGINT PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL);
    CREATE TABLE members (id BIGINT PRIMARY KEY,
        team_id BIGINT NOT NULL REFERENCES teams ON DELETE CASCADE,
        name TEXT NOT NULL, payload TEXT NOT NULL);
    CREATE INDEX members_by_team ON members (team_id);
    CREATE TABLE posts (id BIGINT PRIMARY KEY,
        member_id BIGINT NOT NULL REFERENCES members ON DELETE CASCADE,
        title TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX posts_by_member ON posts (member_id);";

/// Fills `teams` teams with `members` members each (team t's first), and
/// one more team with `survivors` members, whose rows must stay; `POSTS`
/// posts per member.
fn fill(client: &mut Client, teams: i64, members: i64, survivors: i64) -> Result<(), Failure> {
    let total = teams * members + survivors;
    client.batch_execute(&format!(
        "INSERT INTO teams SELECT t, 'team ' || t, repeat(md5(t::text), 2)
             FROM generate_series(1, {last_team}) t;
         INSERT INTO members SELECT m, LEAST((m - 1) / {members} + 1, {last_team}),
             'member ' || m, repeat(md5(m::text), 2)
             FROM generate_series(1, {total}) m;
         INSERT INTO posts SELECT p, (p - 1) / {POSTS} + 1, 'post ' || p,
             repeat(md5(p::text), 3)
             FROM generate_series(1, {posts}) p;
         ANALYZE teams; ANALYZE members; ANALYZE posts; CHECKPOINT;",
        last_team = teams + 1,
        posts = total * POSTS,
    ))?;
    Ok(())
}

/// The ceiling loop, created in the current schema.
const CEILING_PROCEDURE: &str = "
    CREATE TABLE bench_job (id BIGINT PRIMARY KEY, state TEXT NOT NULL);
    CREATE PROCEDURE bench_delete(team BIGINT, batch INT) LANGUAGE plpgsql AS $$
    DECLARE
        k INT := GREATEST(batch / 6, 1);
        ids BIGINT[];
        done BIGINT := 0;
    BEGIN
        LOOP
            SELECT array_agg(id) INTO ids
                FROM (SELECT id FROM members WHERE team_id = team ORDER BY id LIMIT k) s;
            EXIT WHEN ids IS NULL;
            DELETE FROM posts WHERE member_id = ANY(ids);
            DELETE FROM members WHERE id = ANY(ids);
            done := done + cardinality(ids);
            INSERT INTO bench_job VALUES (1, 'members done: ' || done)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state;
            COMMIT;
        END LOOP;
        DELETE FROM teams WHERE id = team;
        DELETE FROM bench_job WHERE id = 1;
        COMMIT;
    END $$;";

/// Rows left per table, and orphans (members without a team, posts without
/// a member).
fn end_state(client: &mut Client) -> Result<[i64; 4], Failure> {
    let row = client.query_one(
        "SELECT (SELECT count(*) FROM teams), (SELECT count(*) FROM members),
                (SELECT count(*) FROM posts),
                (SELECT count(*) FROM members m WHERE NOT EXISTS
                    (SELECT 1 FROM teams t WHERE t.id = m.team_id))
              + (SELECT count(*) FROM posts p WHERE NOT EXISTS
                    (SELECT 1 FROM members m WHERE m.id = p.member_id))",
        &[],
    )?;
    Ok([row.get(0), row.get(1), row.get(2), row.get(3)])
}

/// A database over `schema`, its tables created by cascadia.
fn cascadia_database(schema: &str, workers: u32) -> Result<Database, Failure> {
    let options = PostgresOptions::default()
        .schema(schema)
        .create_tables(true)
        .pool(PoolOptions::default().max_connections(workers + 2));
    Ok(Database::new(PostgresStore::open(
        &url(),
        SCHEMA.clone(),
        options,
    )?))
}

/// Batched delete options with `config`'s budget and batch rows, recording the
/// largest transaction in `largest`.
fn batched(config: &Config, largest: Arc<Mutex<u64>>) -> DeleteOptions {
    DeleteOptions::default()
        .batch_rows(config.batch as usize)
        .budget(config.budget())
        .observer(move |progress: &Progress| {
            let mut largest = largest.lock().expect("observer");
            *largest = (*largest).max(progress.batch_rows_written);
        })
}

/// Runs the PostgreSQL benchmark: prints the `fanout` line, then the worker
/// scaling lines.
pub fn run(config: &Config) -> Result<(), Failure> {
    let members = scaled(100_000, config.scale) as i64;
    let survivors = scaled(1_000, config.scale) as i64;
    let rows = (1 + members + members * POSTS) as u64;

    fresh_schema("bench_native")?;
    let mut native = connect("bench_native")?;
    native.batch_execute(NATIVE_DDL)?;
    fill(&mut native, 1, members, survivors)?;
    let (result, native_run) = measure(|| native.batch_execute("DELETE FROM teams WHERE id = 1"));
    result?;

    fresh_schema("bench_ceiling")?;
    drop(cascadia_database("bench_ceiling", 1)?);
    let mut ceiling = connect("bench_ceiling")?;
    ceiling.batch_execute(CEILING_PROCEDURE)?;
    fill(&mut ceiling, 1, members, survivors)?;
    let call = format!("CALL bench_delete(1, {})", config.batch);
    let (result, ceiling_run) = measure(|| ceiling.batch_execute(&call));
    result?;

    fresh_schema("bench_cascadia")?;
    let db = cascadia_database("bench_cascadia", 1)?;
    let mut side = connect("bench_cascadia")?;
    fill(&mut side, 1, members, survivors)?;
    let largest = Arc::new(Mutex::new(0));
    let options = batched(config, largest.clone());
    let (outcome, cascadia_run) = measure(|| db.delete_with::<Team>(&[1], &options));
    let outcome = outcome?;

    let states = [
        end_state(&mut native)?,
        end_state(&mut ceiling)?,
        end_state(&mut side)?,
    ];
    let expected = [1, survivors, survivors * POSTS, 0];
    if states.iter().any(|state| *state != expected) || outcome.rows_written() != rows {
        return Err(format!(
            "end states differ: native {:?}, ceiling {:?}, cascadia {:?} (expected {expected:?}); \
             cascadia wrote {} rows, expected {rows}",
            states[0],
            states[1],
            states[2],
            outcome.rows_written()
        )
        .into());
    }
    let max_tx_rows = *largest.lock().expect("observer");
    println!(
        "backend=postgres shape=fanout native_rows_per_s={:.0} cascadia_rows_per_s={:.0} ratio={:.2} \
         ceiling_ratio={:.2} max_tx_rows={max_tx_rows} peak_rss_mib={:.1}",
        native_run.rate(rows),
        cascadia_run.rate(rows),
        native_run.seconds / cascadia_run.seconds,
        ceiling_run.seconds / cascadia_run.seconds,
        cascadia_run.peak_rss_mib,
    );
    eprintln!(
        "backend=postgres shape=fanout rows={rows} wall_s native={:.2} ceiling={:.2} cascadia={:.2} \
         cpu_s cascadia={:.2}",
        native_run.seconds, ceiling_run.seconds, cascadia_run.seconds, cascadia_run.cpu_seconds
    );
    scaling(config, members / 4, survivors)
}

/// Four teams drained by 1, 2 and 4 workers: one line each.
fn scaling(config: &Config, members: i64, survivors: i64) -> Result<(), Failure> {
    let rows = 4 * (1 + members + members * POSTS) as u64;
    let mut single = None;
    for workers in [1u32, 2, 4] {
        let run = drain(config, workers, members, survivors)?;
        let rate = run.rate(rows);
        let base = *single.get_or_insert(rate);
        println!(
            "backend=postgres workers={workers} teams=4 rows={rows} rows_per_s={rate:.0} speedup={:.2}",
            rate / base
        );
    }
    Ok(())
}

/// Queues the delete of teams 1–4 as four jobs and drains them with
/// `workers` threads; fails unless exactly the survivors remain.
fn drain(config: &Config, workers: u32, members: i64, survivors: i64) -> Result<Measured, Failure> {
    fresh_schema("bench_workers")?;
    let db = cascadia_database("bench_workers", workers)?;
    let mut client = connect("bench_workers")?;
    fill(&mut client, 4, members, survivors)?;
    let options = batched(config, Arc::new(Mutex::new(0)));
    for team in 1..=4 {
        db.enqueue_delete::<Team>(&[team], &options)?;
    }
    let (results, measured) = measure(|| {
        thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| scope.spawn(|| Worker::new(db.clone()).run_until_idle()))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("worker thread"))
                .collect::<Vec<_>>()
        })
    });
    let finished: usize = results
        .into_iter()
        .map(|report| report.map(|report| report.finished.len()))
        .sum::<Result<usize, _>>()?;
    let state = end_state(&mut client)?;
    let expected = [1, survivors, survivors * POSTS, 0];
    if finished != 4 || state != expected {
        return Err(format!(
            "{workers} workers finished {finished} of 4 jobs, leaving {state:?} (expected {expected:?})"
        )
        .into());
    }
    Ok(measured)
}
