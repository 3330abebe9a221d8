//! The SQLite store's job rows: one row per job in `_cascadia_delete_jobs`
//! (the id from `AUTOINCREMENT`, so ids never repeat), the roots' chunks in
//! `_cascadia_delete_job_roots`. A claim is one `UPDATE ... RETURNING`:
//! SQLite has one writer at a time, so two claims never take the same job.
//!
//! The tables are created by the first write of a job, in its transaction
//! (or by [`SqliteStore::create_job_tables`](super::SqliteStore::create_job_tables)),
//! never by an open: a database without them has no job, and reading jobs
//! there finds none.

use rusqlite::{OptionalExtension, Row as SqlRow, params};

use super::ddl::quote;
use super::transaction::SqliteTransaction;
use crate::model::error::Error;
use crate::model::job::JobId;
use crate::store::{Claim, JobFilter, JobRow, Lease};

/// The table of job rows.
pub const JOBS_TABLE: &str = "_cascadia_delete_jobs";

/// The table of the jobs' roots, in chunks.
pub const ROOTS_TABLE: &str = "_cascadia_delete_job_roots";

/// The statements that create the job tables, if missing.
pub(super) fn create_statements() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {jobs} (\
           id INTEGER PRIMARY KEY AUTOINCREMENT, \
           root_table TEXT NOT NULL, \
           active INTEGER NOT NULL, \
           due_ms INTEGER, \
           generation INTEGER NOT NULL, \
           lease_owner TEXT, \
           lease_until_ms INTEGER, \
           state BLOB NOT NULL); \
         CREATE INDEX IF NOT EXISTS {active} ON {jobs} (active, id); \
         CREATE TABLE IF NOT EXISTS {roots} (\
           job_id INTEGER NOT NULL, \
           chunk INTEGER NOT NULL, \
           keys BLOB NOT NULL, \
           PRIMARY KEY (job_id, chunk)) WITHOUT ROWID;",
        jobs = quote(JOBS_TABLE),
        active = quote(&format!("{JOBS_TABLE}__active")),
        roots = quote(ROOTS_TABLE),
    )
}

/// The columns of a job row, in [`job_row`]'s order.
const COLUMNS: &str = "id, root_table, active, due_ms, generation, lease_owner, lease_until_ms";

/// A job row read with [`COLUMNS`] (and the state, when selected last).
fn job_row(row: &SqlRow<'_>, with_state: bool) -> rusqlite::Result<JobRow> {
    let owner: Option<String> = row.get(5)?;
    let until: Option<i64> = row.get(6)?;
    let mut job = JobRow::new(row.get::<_, String>(1)?, row.get(3)?, Vec::new());
    job.id = JobId(row.get::<_, i64>(0)? as u64);
    job.active = row.get(2)?;
    job.generation = row.get::<_, i64>(4)? as u64;
    job.lease = owner
        .zip(until)
        .map(|(owner, until_ms)| Lease { owner, until_ms });
    if with_state {
        job.state = row.get(7)?;
    }
    Ok(job)
}

impl SqliteTransaction<'_> {
    /// Prepares (cached) and notes a job statement.
    fn job_sql(&mut self, sql: String) -> String {
        self.record(&sql, false);
        sql
    }

    /// Whether the job tables exist (asked each time: a transaction that
    /// created them may have rolled back).
    fn job_tables(&mut self) -> Result<bool, Error> {
        let mut statement = self.connected.conn.prepare_cached(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        )?;
        let count: i64 = statement.query_row([JOBS_TABLE], |row| row.get(0))?;
        Ok(count > 0)
    }

    /// Creates the job tables if missing, in this (write) transaction.
    fn ensure_job_tables(&mut self) -> Result<(), Error> {
        if !self.job_tables()? {
            self.connected.conn.execute_batch(&create_statements())?;
        }
        Ok(())
    }

    pub(super) fn insert_job_row(&mut self, job: &JobRow) -> Result<JobId, Error> {
        self.ensure_job_tables()?;
        let sql = self.job_sql(format!(
            "INSERT INTO {} (root_table, active, due_ms, generation, lease_owner, lease_until_ms, state) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            quote(JOBS_TABLE)
        ));
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let id: i64 = statement.query_row(
            params![
                job.table,
                job.active,
                job.due_ms,
                job.generation as i64,
                job.lease.as_ref().map(|l| &l.owner),
                job.lease.as_ref().map(|l| l.until_ms),
                job.state
            ],
            |row| row.get(0),
        )?;
        Ok(JobId(id as u64))
    }

    pub(super) fn job_row(&mut self, id: JobId) -> Result<Option<JobRow>, Error> {
        if !self.job_tables()? {
            return Ok(None);
        }
        let sql = self.job_sql(format!(
            "SELECT {COLUMNS}, state FROM {} WHERE id = ?1",
            quote(JOBS_TABLE)
        ));
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row([id.0 as i64], |row| job_row(row, true))
            .optional()?)
    }

    pub(super) fn update_job_row(&mut self, job: &JobRow) -> Result<bool, Error> {
        if !self.job_tables()? {
            return Ok(false);
        }
        let sql = self.job_sql(format!(
            "UPDATE {} SET root_table = ?2, active = ?3, due_ms = ?4, generation = ?5, \
             lease_owner = ?6, lease_until_ms = ?7, state = ?8 WHERE id = ?1",
            quote(JOBS_TABLE)
        ));
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let changed = statement.execute(params![
            job.id.0 as i64,
            job.table,
            job.active,
            job.due_ms,
            job.generation as i64,
            job.lease.as_ref().map(|l| &l.owner),
            job.lease.as_ref().map(|l| l.until_ms),
            job.state
        ])?;
        Ok(changed > 0)
    }

    pub(super) fn delete_job_row(&mut self, id: JobId) -> Result<bool, Error> {
        if !self.job_tables()? {
            return Ok(false);
        }
        let roots = self.job_sql(format!(
            "DELETE FROM {} WHERE job_id = ?1",
            quote(ROOTS_TABLE)
        ));
        self.connected
            .conn
            .prepare_cached(&roots)?
            .execute([id.0 as i64])?;
        let sql = self.job_sql(format!("DELETE FROM {} WHERE id = ?1", quote(JOBS_TABLE)));
        let changed = self
            .connected
            .conn
            .prepare_cached(&sql)?
            .execute([id.0 as i64])?;
        Ok(changed > 0)
    }

    pub(super) fn list_job_rows(&mut self, filter: JobFilter) -> Result<Vec<JobRow>, Error> {
        if !self.job_tables()? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS}{} FROM {}{} ORDER BY id",
            if filter.with_state { ", state" } else { "" },
            quote(JOBS_TABLE),
            if filter.active_only {
                " WHERE active = 1"
            } else {
                ""
            },
        );
        // Listing every job reads the whole (small) job table by design.
        self.record(&sql, !filter.active_only);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let rows = statement.query_map([], |row| job_row(row, filter.with_state))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(super) fn claim_job_row(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error> {
        if !self.job_tables()? {
            return Ok(None);
        }
        let sql = self.job_sql(format!(
            "UPDATE {jobs} SET lease_owner = ?1, lease_until_ms = ?3 WHERE id = (\
               SELECT id FROM {jobs} WHERE active = 1 \
               AND (due_ms IS NULL OR due_ms <= ?2) \
               AND (lease_owner IS NULL OR lease_owner = ?1 OR lease_until_ms <= ?2) \
               ORDER BY id LIMIT 1) \
             RETURNING {COLUMNS}, state",
            jobs = quote(JOBS_TABLE)
        ));
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row(params![claim.owner, claim.now_ms, claim.until_ms], |row| {
                job_row(row, true)
            })
            .optional()?)
    }

    pub(super) fn put_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error> {
        self.ensure_job_tables()?;
        let sql = self.job_sql(format!(
            "INSERT INTO {} (job_id, chunk, keys) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job_id, chunk) DO UPDATE SET keys = excluded.keys",
            quote(ROOTS_TABLE)
        ));
        self.connected.conn.prepare_cached(&sql)?.execute(params![
            id.0 as i64,
            chunk as i64,
            keys
        ])?;
        Ok(())
    }

    pub(super) fn roots(&mut self, id: JobId, chunk: u64) -> Result<Option<Vec<u8>>, Error> {
        if !self.job_tables()? {
            return Ok(None);
        }
        let sql = self.job_sql(format!(
            "SELECT keys FROM {} WHERE job_id = ?1 AND chunk = ?2",
            quote(ROOTS_TABLE)
        ));
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row(params![id.0 as i64, chunk as i64], |row| row.get(0))
            .optional()?)
    }
}
