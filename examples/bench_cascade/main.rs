//! The benchmark: cascadia's referential actions against SQLite's own, on
//! the shapes users have, in one process, as ratios.
//!
//! ```sh
//! cargo run --release --example bench_cascade                        # fanout: 1 team → 100k members → 500k posts
//! cargo run --release --example bench_cascade -- --shape all         # every shape, one line each
//! cargo run --release --example bench_cascade -- --shape chain --scale 0.1 --batch 1000
//! ```
//!
//! # Shapes
//!
//! Every shape is a file-backed SQLite database (WAL, `synchronous=NORMAL`,
//! an index on every foreign key, rows of about 100 bytes with text
//! payloads) holding rows to change and rows that must survive:
//!
//! | `--shape` | data (at `--scale 1`) | action |
//! |---|---|---|
//! | `fanout` (default) | 1 team → 100k members → 500k posts; a second team with 1k members, 5k posts | delete the first team, `ON DELETE CASCADE` |
//! | `chain` | 6 levels of fan-out 10: 1 → 10 → … → 1M (1,111,111 rows); a sibling root with fan-out 2 (127 rows) | delete the root, `ON DELETE CASCADE` at every level |
//! | `set-null` | 1 parent → 500k children (nullable, indexed FK); a second parent with 5k children | delete the parent, `ON DELETE SET NULL` |
//! | `many-roots` | 10,000 roots × 10 children; 1,000 more roots × 10 children | delete the 10,000 roots in ONE multi-key delete, `ON DELETE CASCADE` |
//! | `key-update` | 1 parent → 100k children; a second parent with 1k children | change the first parent's key, `ON UPDATE CASCADE`, in one transaction |
//!
//! `--scale` multiplies every count (at least one row each); `chain` keeps
//! its 6 levels and scales its fan-out (10 × scale^(1/6), rounded).
//!
//! # The three runs
//!
//! Each shape fills two databases with the same rows, each created by
//! cascadia's `SqliteStore` (so the DDL is the same): one declares its
//! foreign keys with their actions, the other without (SQLite still enforces
//! them). The second is checkpointed and copied for the third run. Then, in
//! this order, each on its own file, with the file just read through the
//! page cache:
//!
//! 1. **native**: SQLite's own action (`PRAGMA foreign_keys=ON`), one
//!    statement in one transaction: `DELETE FROM teams WHERE id = 1`,
//!    `DELETE FROM roots WHERE id BETWEEN 1 AND 10000`,
//!    `UPDATE parents SET id = 3 WHERE id = 1`, …
//! 2. **ceiling**: a hand-written loop of set-based SQL statements on the
//!    copy, with the transaction size cascadia gets (`--batch` rows written
//!    per transaction), each transaction opened like cascadia's (`BEGIN
//!    IMMEDIATE`, the keys declared deferred) and writing a small job
//!    record (`INSERT OR REPLACE INTO bench_job (id, state) VALUES (1, ?)`)
//!    before its `COMMIT`. It is what set-based batching can reach on
//!    SQLite (see [`ceiling`]):
//!    - cascades (`fanout`, `chain`, `many-roots`): bottom-up, depth first,
//!      with a stack of at most depth × batch keys (as cascadia's). Each
//!      transaction reads the keys of k parents of leaves (`SELECT id,
//!      team_id FROM members WHERE team_id IN (…) ORDER BY team_id, id LIMIT
//!      k`), deletes their leaves (`DELETE FROM posts WHERE member_id IN (k
//!      keys)`) and them (`DELETE FROM members WHERE id IN (k keys)`), k =
//!      batch ÷ (1 + fan-out); a level whose children are all gone is
//!      deleted `batch` keys per transaction, the roots last;
//!    - `set-null`: `UPDATE children SET parent_id = NULL WHERE rowid IN
//!      (SELECT rowid FROM children WHERE parent_id = ? LIMIT batch)` per
//!      transaction; the transaction that finds fewer deletes the parent;
//!    - `key-update`: one transaction (a key update is atomic, as cascadia's
//!      sync `update_key`, which writes no job record either): `UPDATE
//!      children SET parent_id = new WHERE parent_id = old`, then the
//!      parent's key.
//! 3. **cascadia**: `Database::delete_with` in batched mode with
//!    `DeleteOptions::default().batch_rows(batch).budget(budget)`, where
//!    `budget` is `Budget::DEFAULT.rows_written(batch)` with `--bytes` bytes
//!    written per transaction (default the library's 4 MiB; `--bytes none`
//!    leaves only the row limit, the one limit the ceiling loop has), and
//!    an observer recording the largest batch; `Database::update_key`
//!    (sync, one transaction) for `key-update`.
//!
//! Then the three end states are compared (every row of every table, in
//! key order, digested), `PRAGMA foreign_key_check` must be empty on each,
//! and the rows each side changed must equal the shape's exact count
//! (cascadia's per table); any difference fails the run.
//!
//! # Output
//!
//! One line per shape on standard output:
//!
//! `shape=<name> native_rows_per_s=<n> cascadia_rows_per_s=<n> ratio=<cascadia/native> ceiling_ratio=<cascadia/ceiling> max_tx_rows=<n> peak_rss_mib=<n>`
//!
//! rows = rows changed (deleted plus updated), the same count on every side;
//! the rates are rows ÷ wall seconds of each side's run. `max_tx_rows` is
//! the most rows cascadia wrote in one committed transaction (for
//! `key-update`, its one transaction). `peak_rss_mib` is the process's
//! peak resident memory during cascadia's run (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs` just before it, after glibc's `malloc_trim` has
//! returned what earlier work freed; 0 where unavailable): what the process
//! holds plus what the run adds, SQLite's page cache (2 MiB by default)
//! included.
//!
//! On standard error, one line per shape: the wall and CPU seconds of each
//! side, the ceiling's rate, transactions and largest transaction,
//! cascadia's batches and most rows held, the resident memory when
//! cascadia's run started, and the peaks of the two other runs (what SQLite
//! alone needs at that size).
//!
//! `--backend postgres` runs `fanout` on a PostgreSQL server instead, with
//! a server-side batched loop as the ceiling and the worker scaling (see
//! [`postgres`]).
//!
//! Options: `--shape <name>|all` (default `fanout`), `--scale <f>` (default
//! 1), `--batch <rows>` (default 1000; at least one parent of leaves with
//! its leaves: 6 rows for `fanout`, 11 for `many-roots` and for `chain` at
//! scale 1), `--bytes <n>|none` (cascadia's byte budget per transaction,
//! default 4,194,304), `--dir <path>` (default: a fresh directory under the system's
//! temp dir, removed afterwards; with `--dir`, the databases stay there).

mod ceiling;
mod cli;
mod data;
mod files;
mod measure;
mod postgres;
mod run;
mod shapes;
mod summary;
mod verify;

pub use cli::{Backend, Config, parse as parse_args};
pub use postgres::run as run_postgres;
pub use run::{measure_shape, run_shape};
pub use shapes::ShapeName;

/// Any failure of the benchmark, with its message.
pub type Failure = Box<dyn std::error::Error>;

#[allow(dead_code)]
fn main() -> Result<(), Failure> {
    let config = parse_args(std::env::args().skip(1))?;
    if config.backend == Backend::Postgres {
        return postgres::run(&config);
    }
    for &shape in &config.shapes {
        let summary = run_shape(shape, &config)?;
        eprintln!("{}", summary.details());
        println!("{}", summary.line());
    }
    Ok(())
}
