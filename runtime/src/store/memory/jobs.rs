//! The memory store's job rows: a map by id, the roots' chunks beside it,
//! and the undo entries that roll them back.

use std::collections::BTreeMap;

use super::{MemoryTransaction, Undo};
use crate::model::error::Error;
use crate::model::job::JobId;
use crate::store::{Claim, JobFilter, JobRow};

/// Every job of a memory store.
#[derive(Default)]
pub(super) struct Jobs {
    rows: BTreeMap<JobId, JobRow>,
    roots: BTreeMap<(JobId, u64), Vec<u8>>,
    /// The last id given.
    last_id: u64,
}

/// One undoable change to the jobs.
pub(super) enum JobUndo {
    Row {
        id: JobId,
        old: Option<JobRow>,
    },
    Roots {
        key: (JobId, u64),
        old: Option<Vec<u8>>,
    },
    LastId(u64),
}

impl Jobs {
    pub(super) fn undo(&mut self, undo: JobUndo) {
        match undo {
            JobUndo::Row { id, old } => match old {
                Some(row) => {
                    self.rows.insert(id, row);
                }
                None => {
                    self.rows.remove(&id);
                }
            },
            JobUndo::Roots { key, old } => match old {
                Some(bytes) => {
                    self.roots.insert(key, bytes);
                }
                None => {
                    self.roots.remove(&key);
                }
            },
            JobUndo::LastId(id) => self.last_id = id,
        }
    }
}

impl MemoryTransaction<'_> {
    fn jobs(&mut self) -> &mut Jobs {
        &mut self.state.jobs
    }

    fn put_row(&mut self, row: JobRow) {
        let id = row.id;
        let old = self.jobs().rows.insert(id, row);
        self.undo.push(Undo::Job(JobUndo::Row { id, old }));
    }

    pub(super) fn insert_job_row(&mut self, job: &JobRow) -> Result<JobId, Error> {
        self.writable()?;
        let last = self.jobs().last_id;
        self.undo.push(Undo::Job(JobUndo::LastId(last)));
        self.jobs().last_id = last + 1;
        let id = JobId(last + 1);
        self.put_row(JobRow { id, ..job.clone() });
        Ok(id)
    }

    pub(super) fn job_row(&mut self, id: JobId) -> Option<JobRow> {
        self.jobs().rows.get(&id).cloned()
    }

    pub(super) fn update_job_row(&mut self, job: &JobRow) -> Result<bool, Error> {
        self.writable()?;
        if !self.jobs().rows.contains_key(&job.id) {
            return Ok(false);
        }
        self.put_row(job.clone());
        Ok(true)
    }

    pub(super) fn delete_job_row(&mut self, id: JobId) -> Result<bool, Error> {
        self.writable()?;
        let Some(old) = self.jobs().rows.remove(&id) else {
            return Ok(false);
        };
        self.undo
            .push(Undo::Job(JobUndo::Row { id, old: Some(old) }));
        let chunks: Vec<(JobId, u64)> = self
            .jobs()
            .roots
            .range((id, 0)..=(id, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        for key in chunks {
            let old = self.jobs().roots.remove(&key);
            self.undo.push(Undo::Job(JobUndo::Roots { key, old }));
        }
        Ok(true)
    }

    pub(super) fn list_job_rows(&mut self, filter: JobFilter) -> Vec<JobRow> {
        self.jobs()
            .rows
            .values()
            .filter(|row| row.active || !filter.active_only)
            .map(|row| JobRow {
                state: if filter.with_state {
                    row.state.clone()
                } else {
                    Vec::new()
                },
                ..row.clone()
            })
            .collect()
    }

    pub(super) fn claim_job_row(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error> {
        self.writable()?;
        let found = self
            .jobs()
            .rows
            .values()
            .find(|row| row.claimable(claim.owner, claim.now_ms))
            .cloned();
        let Some(mut row) = found else {
            return Ok(None);
        };
        row.lease = Some(crate::store::Lease {
            owner: claim.owner.to_owned(),
            until_ms: claim.until_ms,
        });
        self.put_row(row.clone());
        Ok(Some(row))
    }

    pub(super) fn put_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error> {
        self.writable()?;
        let key = (id, chunk);
        let old = self.jobs().roots.insert(key, keys.to_vec());
        self.undo.push(Undo::Job(JobUndo::Roots { key, old }));
        Ok(())
    }

    pub(super) fn roots(&mut self, id: JobId, chunk: u64) -> Option<Vec<u8>> {
        self.jobs().roots.get(&(id, chunk)).cloned()
    }
}
