//! The roots of a delete: kept inline, or stored in chunks beside the job
//! and read a chunk at a time; pushed as frames, a frame's worth at a time.

use std::collections::HashSet;

use super::{DeleteStack, ROOT_CHUNK, Roots, Run};
use crate::engine::execute::roots::{RootQuery, RootSet};
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::index_range::IndexRange;
use crate::model::job::JobId;
use crate::model::metadata::IndexRef;
use crate::model::value::{Key, Row, Value};
use crate::store::{ChildScan, Transaction};

/// Chunk `chunk` of job `job`'s roots (empty when it was never written).
pub(crate) fn read_chunk(
    tx: &mut dyn Transaction,
    job: JobId,
    chunk: u64,
) -> Result<Vec<Key>, Error> {
    match tx.job_roots(job, chunk)? {
        Some(bytes) => crate::model::compact::decode_keys(&bytes).map_err(Error::JobState),
        None => Ok(Vec::new()),
    }
}

impl DeleteStack {
    /// How many roots the delete has.
    pub(crate) fn roots_count(&self) -> u64 {
        match &self.roots {
            Roots::Inline(keys) => keys.len() as u64,
            Roots::Stored { count, .. } => *count,
            Roots::Query(query) => query.found(),
        }
    }

    /// The condition the roots are found by, if any.
    pub(crate) fn root_query(&self) -> Option<RootQuery> {
        match &self.roots {
            Roots::Query(query) => Some((**query).clone()),
            _ => None,
        }
    }

    /// Reads the roots of a condition from the start again (a retried job).
    pub(crate) fn restart_roots(&mut self) {
        if let Roots::Query(query) = &mut self.roots {
            query.restart();
        }
    }

    /// Whether every root has been pushed.
    pub(super) fn roots_read(&self) -> bool {
        match &self.roots {
            Roots::Query(query) => query.is_done(),
            _ => self.next_root >= self.roots_end(),
        }
    }

    /// Whether the roots are found by a condition (they cannot be listed,
    /// nor coalesced with another delete's).
    pub(crate) fn roots_by_condition(&self) -> bool {
        matches!(self.roots, Roots::Query(_))
    }

    /// Replaces inline roots by the same roots stored beside a job (same
    /// positions).
    pub(crate) fn store_roots(&mut self, roots: Roots) {
        self.roots = roots;
        self.chunk = None;
    }

    /// One past the position of the last root.
    pub(crate) fn roots_end(&self) -> u64 {
        match &self.roots {
            Roots::Inline(keys) => keys.len() as u64,
            Roots::Stored { end, .. } => *end,
            Roots::Query(_) => 0,
        }
    }

    /// Appends roots (coalescing another delete of the same table into this
    /// one): the stored chunks stay, `more` go in new chunk records that the
    /// caller writes. Returns the new (chunk index, keys) records.
    pub(crate) fn append_roots(&mut self, more: Vec<Key>) -> Vec<(u64, Vec<Key>)> {
        self.root_set = None;
        match &mut self.roots {
            Roots::Inline(keys) => {
                keys.extend(more);
                Vec::new()
            }
            Roots::Query(_) => Vec::new(),
            Roots::Stored { end, count, .. } => {
                // Chunks are written once: the new keys start at the next
                // chunk boundary.
                let first = end.div_ceil(ROOT_CHUNK as u64);
                *count += more.len() as u64;
                let mut records = Vec::new();
                for (chunk, keys) in (first..).zip(more.chunks(ROOT_CHUNK)) {
                    records.push((chunk, keys.to_vec()));
                    *end = chunk * ROOT_CHUNK as u64 + keys.len() as u64;
                }
                records
            }
        }
    }

    /// The root at position `index` (reading its stored chunk if needed).
    fn root(&mut self, tx: &mut dyn Transaction, index: u64) -> Result<Option<Key>, Error> {
        match &self.roots {
            Roots::Query(_) => Ok(None),
            Roots::Inline(keys) => Ok(keys.get(index as usize).cloned()),
            Roots::Stored { job, end, .. } => {
                if index >= *end {
                    return Ok(None);
                }
                let chunk = index / ROOT_CHUNK as u64;
                if self.chunk.as_ref().is_none_or(|(c, _)| *c != chunk) {
                    let keys = read_chunk(tx, *job, chunk)?;
                    self.chunk = Some((chunk, keys));
                }
                let offset = (index % ROOT_CHUNK as u64) as usize;
                Ok(self
                    .chunk
                    .as_ref()
                    .and_then(|(_, keys)| keys.get(offset).cloned()))
            }
        }
    }

    /// Loads every root for the upward search.
    pub(super) fn load_root_set(&mut self, tx: &mut dyn Transaction) -> Result<(), Error> {
        if self.root_set.is_some() {
            return Ok(());
        }
        let set = match &self.roots {
            Roots::Inline(keys) => RootSet::Keys(keys.iter().cloned().collect()),
            Roots::Stored { job, end, .. } => {
                let mut set = HashSet::new();
                for chunk in 0..end.div_ceil(ROOT_CHUNK as u64) {
                    set.extend(read_chunk(tx, *job, chunk)?);
                }
                RootSet::Keys(set)
            }
            Roots::Query(query) => RootSet::Query(query.clone()),
        };
        self.root_set = Some(set);
        Ok(())
    }

    /// Pushes the next roots as a frame: up to a frame's worth
    /// ([`frame_size`](Self::frame_size)), read with
    /// one scan of the primary key, skipping roots already gone or already
    /// on the stack. For a scheduled delete, returns the first root that no
    /// longer carries the job's deletion time (the job is then cancelled).
    pub(super) fn push_roots(
        &mut self,
        run: &mut Run<'_, '_>,
        root: TableId,
    ) -> Result<Option<Key>, Error> {
        let size = self.frame_size(run, root);
        if let Roots::Query(query) = &mut self.roots {
            let limit = size.min(self.window);
            let rows = query.next_rows(run.ctx, run.tx, root, limit, &mut run.usage.rows_read)?;
            let rows: Vec<(Row, u64)> = rows
                .into_iter()
                .filter(|row| {
                    !self
                        .on_stack
                        .contains_key(&(root, run.ctx.pk_of(root, row)))
                })
                .map(|row| {
                    let size = crate::store::scan::row_size(&row);
                    (row, size)
                })
                .collect();
            if !rows.is_empty() {
                let name = self.root_table.clone();
                self.push(run, root, name, rows);
            }
            return Ok(None);
        }
        let end = (self.next_root + size as u64).min(self.roots_end());
        let mut keys: Vec<Key> = Vec::new();
        for index in self.next_root..end {
            if let Some(key) = self.root(run.tx, index)? {
                if !self.on_stack.contains_key(&(root, key.clone())) {
                    keys.push(key);
                }
            }
        }
        run.usage.rows_read += keys.len() as u64;
        self.next_root = end;
        let range = IndexRange::new(self.root_table.clone(), IndexRef::PrimaryKey);
        let rows = run
            .tx
            .scan_children(&ChildScan::new(&range, &keys, keys.len()))?;
        if let Some(soft) = self.soft {
            let restored = rows
                .iter()
                .find(|(row, _)| row.get(soft.column) != Some(&Value::Integer(soft.at)));
            if let Some((row, _)) = restored {
                return Ok(Some(run.ctx.pk_of(root, row)));
            }
        }
        if !rows.is_empty() {
            let name = self.root_table.clone();
            self.push(run, root, name, rows);
        }
        Ok(None)
    }
}
