//! The PostgreSQL store's job rows: one row per job in
//! `_cascadia_delete_jobs` (ids `GENERATED ALWAYS AS IDENTITY`, so they
//! never repeat), the roots' chunks in `_cascadia_delete_job_roots`.
//!
//! A claim is one statement, `UPDATE ... WHERE id = (SELECT id ... ORDER BY
//! id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ...`: concurrent claims skip
//! the rows other transactions hold instead of waiting for them, and never
//! return the same job. In a write transaction, [`job`] locks the row
//! (`FOR UPDATE`) until the transaction ends, so two workers on one job take
//! turns batch by batch.
//!
//! [`job`]: crate::Transaction::job

use postgres::Client;
use postgres::Row as PgRow;

use super::ddl::quote;
use super::transaction::PostgresTransaction;
use crate::model::error::Error;
use crate::model::job::JobId;
use crate::store::{Access, Claim, JobFilter, JobRow, Lease};

/// The table of job rows.
pub const JOBS_TABLE: &str = "_cascadia_delete_jobs";

/// The table of the jobs' roots, in chunks.
pub const ROOTS_TABLE: &str = "_cascadia_delete_job_roots";

/// Creates the job tables unless `existing` (the schema's tables) holds
/// them. A concurrent open that created them first is no error.
pub(super) fn create_tables(client: &mut Client, existing: &[String]) -> Result<(), Error> {
    if existing.iter().any(|t| t == JOBS_TABLE) && existing.iter().any(|t| t == ROOTS_TABLE) {
        return Ok(());
    }
    let script = format!(
        "BEGIN; \
         CREATE TABLE IF NOT EXISTS {jobs} (\
           id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
           root_table TEXT NOT NULL, \
           active BOOLEAN NOT NULL, \
           due_ms BIGINT, \
           generation BIGINT NOT NULL, \
           lease_owner TEXT, \
           lease_until_ms BIGINT, \
           state BYTEA NOT NULL); \
         CREATE INDEX IF NOT EXISTS {active} ON {jobs} (active, id); \
         CREATE TABLE IF NOT EXISTS {roots} (\
           job_id BIGINT NOT NULL, \
           chunk BIGINT NOT NULL, \
           keys BYTEA NOT NULL, \
           PRIMARY KEY (job_id, chunk)); \
         COMMIT;",
        jobs = quote(JOBS_TABLE),
        active = quote(&format!("{JOBS_TABLE}__active")),
        roots = quote(ROOTS_TABLE),
    );
    match client.batch_execute(&script) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = client.batch_execute("ROLLBACK");
            // Another process created them between our look and our create.
            let now = super::catalog::table_names(client)?;
            if now.iter().any(|t| t == JOBS_TABLE) && now.iter().any(|t| t == ROOTS_TABLE) {
                Ok(())
            } else {
                Err(error.into())
            }
        }
    }
}

/// The columns of a job row, in [`job_row`]'s order.
const COLUMNS: &str = "id, root_table, active, due_ms, generation, lease_owner, lease_until_ms";

/// A job row read with [`COLUMNS`] (and the state, when selected last).
fn job_row(row: &PgRow, with_state: bool) -> Result<JobRow, Error> {
    let owner: Option<String> = row.try_get(5)?;
    let until: Option<i64> = row.try_get(6)?;
    let mut job = JobRow::new(row.try_get::<_, String>(1)?, row.try_get(3)?, Vec::new());
    job.id = JobId(row.try_get::<_, i64>(0)? as u64);
    job.active = row.try_get(2)?;
    job.generation = row.try_get::<_, i64>(4)? as u64;
    job.lease = owner
        .zip(until)
        .map(|(owner, until_ms)| Lease { owner, until_ms });
    if with_state {
        job.state = row.try_get(7)?;
    }
    Ok(job)
}

fn lease_parts(job: &JobRow) -> (Option<&str>, Option<i64>) {
    (
        job.lease.as_ref().map(|l| l.owner.as_str()),
        job.lease.as_ref().map(|l| l.until_ms),
    )
}

impl PostgresTransaction<'_> {
    pub(super) fn insert_job_row(&mut self, job: &JobRow) -> Result<JobId, Error> {
        let sql = format!(
            "INSERT INTO {} (root_table, active, due_ms, generation, lease_owner, lease_until_ms, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            quote(JOBS_TABLE)
        );
        let (owner, until) = lease_parts(job);
        let rows = self.run_job_query(
            &sql,
            &[
                &job.table,
                &job.active,
                &job.due_ms,
                &(job.generation as i64),
                &owner,
                &until,
                &job.state,
            ],
        )?;
        let id: i64 = rows
            .first()
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or_default();
        Ok(JobId(id as u64))
    }

    pub(super) fn job_row(&mut self, id: JobId) -> Result<Option<JobRow>, Error> {
        let lock = if self.access == Access::Write {
            " FOR UPDATE"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS}, state FROM {} WHERE id = $1{lock}",
            quote(JOBS_TABLE)
        );
        let rows = self.run_job_query(&sql, &[&(id.0 as i64)])?;
        rows.first().map(|row| job_row(row, true)).transpose()
    }

    pub(super) fn update_job_row(&mut self, job: &JobRow) -> Result<bool, Error> {
        let sql = format!(
            "UPDATE {} SET root_table = $2, active = $3, due_ms = $4, generation = $5, \
             lease_owner = $6, lease_until_ms = $7, state = $8 WHERE id = $1",
            quote(JOBS_TABLE)
        );
        let (owner, until) = lease_parts(job);
        let changed = self.run_job_execute(
            &sql,
            &[
                &(job.id.0 as i64),
                &job.table,
                &job.active,
                &job.due_ms,
                &(job.generation as i64),
                &owner,
                &until,
                &job.state,
            ],
        )?;
        Ok(changed > 0)
    }

    pub(super) fn delete_job_row(&mut self, id: JobId) -> Result<bool, Error> {
        let roots = format!("DELETE FROM {} WHERE job_id = $1", quote(ROOTS_TABLE));
        self.run_job_execute(&roots, &[&(id.0 as i64)])?;
        let sql = format!("DELETE FROM {} WHERE id = $1", quote(JOBS_TABLE));
        Ok(self.run_job_execute(&sql, &[&(id.0 as i64)])? > 0)
    }

    pub(super) fn list_job_rows(&mut self, filter: JobFilter) -> Result<Vec<JobRow>, Error> {
        let sql = format!(
            "SELECT {COLUMNS}{} FROM {}{} ORDER BY id",
            if filter.with_state { ", state" } else { "" },
            quote(JOBS_TABLE),
            if filter.active_only {
                " WHERE active"
            } else {
                ""
            },
        );
        // Listing every job reads the whole (small) job table by design.
        let rows = self.run_query(&sql.into(), !filter.active_only, &[])?;
        rows.iter()
            .map(|row| job_row(row, filter.with_state))
            .collect()
    }

    pub(super) fn claim_job_row(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error> {
        let sql = format!(
            "UPDATE {jobs} SET lease_owner = $1, lease_until_ms = $3 WHERE id = (\
               SELECT id FROM {jobs} WHERE active \
               AND (due_ms IS NULL OR due_ms <= $2) \
               AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until_ms <= $2) \
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}, state",
            jobs = quote(JOBS_TABLE)
        );
        let rows = self.run_job_query(&sql, &[&claim.owner, &claim.now_ms, &claim.until_ms])?;
        rows.first().map(|row| job_row(row, true)).transpose()
    }

    pub(super) fn put_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error> {
        let sql = format!(
            "INSERT INTO {} (job_id, chunk, keys) VALUES ($1, $2, $3) \
             ON CONFLICT (job_id, chunk) DO UPDATE SET keys = excluded.keys",
            quote(ROOTS_TABLE)
        );
        self.run_job_execute(&sql, &[&(id.0 as i64), &(chunk as i64), &keys])?;
        Ok(())
    }

    pub(super) fn roots(&mut self, id: JobId, chunk: u64) -> Result<Option<Vec<u8>>, Error> {
        let sql = format!(
            "SELECT keys FROM {} WHERE job_id = $1 AND chunk = $2",
            quote(ROOTS_TABLE)
        );
        let rows = self.run_job_query(&sql, &[&(id.0 as i64), &(chunk as i64)])?;
        Ok(rows.first().map(|row| row.try_get(0)).transpose()?)
    }
}
