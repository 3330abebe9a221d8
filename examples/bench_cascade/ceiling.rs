//! The ceiling: hand-written loops of set-based SQL statements, with the
//! transaction size cascadia gets, that show what set-based batching can
//! reach on SQLite.
//!
//! Every transaction is opened as cascadia's SQLite store opens its own
//! (`BEGIN IMMEDIATE`; the copy's foreign keys are declared `DEFERRABLE
//! INITIALLY DEFERRED`, so neither runs `PRAGMA defer_foreign_keys`, which
//! would expire every prepared statement), writes at most `batch` rows, and
//! (except the one transaction of a key update) records a small job state
//! in `bench_job` before `COMMIT`, as cascadia records its job's position.
//!
//! - [`cascade`]: a tree of tables deleted bottom-up, depth first: each
//!   transaction reads the keys of k parents of leaves (`SELECT id, team_id
//!   FROM members WHERE team_id IN (…) ORDER BY team_id, id LIMIT k`),
//!   deletes their leaves (`DELETE FROM posts WHERE member_id IN (k keys)`)
//!   and them (`DELETE FROM members WHERE id IN (k keys)`), k = batch ÷ (1 +
//!   fan-out); a level whose children are gone is deleted `batch` keys per
//!   transaction. Memory holds depth × batch keys, as cascadia's. See
//!   [`tree`].
//! - [`set_null`]: `UPDATE <child> SET <fk> = NULL WHERE rowid IN (SELECT
//!   rowid FROM <child> WHERE <fk> = ? LIMIT batch)` per transaction; the
//!   transaction that updates fewer than `batch` rows also deletes the
//!   parent.
//! - [`update_key`]: one transaction: `UPDATE <child> SET <fk> = new WHERE
//!   <fk> = old`, then `UPDATE <parent> SET id = new WHERE id = old`.

use rusqlite::{Connection, Transaction, TransactionBehavior, params_from_iter};

mod tree;

pub use tree::cascade;

/// Keys bound per `IN (…)` list (SQLite allows 32,766 parameters).
const IN_CHUNK: usize = 500;

/// The job table each batch writes, created on the ceiling's copy.
pub const JOB_TABLE: &str = "CREATE TABLE bench_job (id INTEGER PRIMARY KEY, state TEXT NOT NULL)";

/// One level of a tree: a table, and its column referencing the level
/// above (`None` for the roots).
#[derive(Debug, Clone, Copy)]
pub struct Level {
    /// The table.
    pub table: &'static str,
    /// The foreign-key column to the level above.
    pub parent: Option<&'static str>,
}

/// What a loop did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Rows written (deleted plus updated), counted by SQLite.
    pub rows: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Most rows written by one transaction.
    pub max_tx_rows: u64,
}

impl LoopStats {
    /// Runs `work` in one write transaction, records `job` (if any) in the
    /// same transaction, commits, and counts what `work` wrote.
    fn batch(
        &mut self,
        conn: &mut Connection,
        job: Option<&str>,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<u64>,
    ) -> rusqlite::Result<u64> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = work(&tx)?;
        if let Some(state) = job {
            tx.prepare_cached("INSERT OR REPLACE INTO bench_job (id, state) VALUES (1, ?1)")?
                .execute([state])?;
        }
        tx.commit()?;
        self.rows += rows;
        self.transactions += 1;
        self.max_tx_rows = self.max_tx_rows.max(rows);
        Ok(rows)
    }
}

/// `?, ?, …` for `n` parameters.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Deletes the rows of `table` whose `column` is one of `keys`; returns
/// how many.
fn delete_where_in(
    tx: &Connection,
    table: &str,
    column: &str,
    keys: &[i64],
) -> rusqlite::Result<u64> {
    let mut deleted = 0;
    for chunk in keys.chunks(IN_CHUNK) {
        let sql = format!(
            "DELETE FROM {table} WHERE {column} IN ({})",
            placeholders(chunk.len())
        );
        deleted += tx.prepare_cached(&sql)?.execute(params_from_iter(chunk))? as u64;
    }
    Ok(deleted)
}

/// Sets `column` of `child` to NULL where it is `parent` (a key of
/// `parent_table`), `batch` rows per transaction, then deletes the parent.
pub fn set_null(
    conn: &mut Connection,
    (child, column): (&str, &str),
    parent_table: &str,
    parent: i64,
    batch: u64,
) -> rusqlite::Result<LoopStats> {
    let update = format!(
        "UPDATE {child} SET {column} = NULL WHERE rowid IN \
         (SELECT rowid FROM {child} WHERE {column} = ?1 LIMIT ?2)"
    );
    let delete = format!("DELETE FROM {parent_table} WHERE id = ?1");
    let mut stats = LoopStats::default();
    let mut done = false;
    let mut position = 0u64;
    while !done {
        position += 1;
        let job = format!("{child} batch {position}");
        stats.batch(conn, Some(&job), |tx| {
            let updated = tx
                .prepare_cached(&update)?
                .execute((parent, batch as i64))? as u64;
            done = updated < batch;
            let deleted = if done {
                tx.prepare_cached(&delete)?.execute([parent])? as u64
            } else {
                0
            };
            Ok(updated + deleted)
        })?;
    }
    Ok(stats)
}

/// Changes the key of `parent_table`'s row `old` to `new`, rewriting
/// `column` of `child` first, in one transaction.
pub fn update_key(
    conn: &mut Connection,
    (child, column): (&str, &str),
    parent_table: &str,
    (old, new): (i64, i64),
) -> rusqlite::Result<LoopStats> {
    let mut stats = LoopStats::default();
    stats.batch(conn, None, |tx| {
        let children = tx.execute(
            &format!("UPDATE {child} SET {column} = ?1 WHERE {column} = ?2"),
            (new, old),
        )?;
        let parents = tx.execute(
            &format!("UPDATE {parent_table} SET id = ?1 WHERE id = ?2"),
            (new, old),
        )?;
        Ok((children + parents) as u64)
    })?;
    Ok(stats)
}
