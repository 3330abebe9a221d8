//! `Outcome`: what an operation did, per table.

use std::collections::BTreeMap;

use crate::engine::context::Ctx;
use crate::model::job::JobId;
use crate::model::metadata::Name;
use crate::model::table::Table;

/// What an operation did: rows deleted and rows updated, per table (SQL
/// name). Tables with no row touched are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// Rows deleted, per table.
    pub deleted: BTreeMap<Name, u64>,
    /// Rows updated (each counted once), per table. A soft or scheduled
    /// delete counts the roots it soft-deleted here.
    pub updated: BTreeMap<Name, u64>,
    /// The job that ran (batched deletes that took more than one batch) or
    /// that will run (scheduled deletes).
    pub job: Option<JobId>,
}

impl Outcome {
    /// Rows deleted from `T`'s table.
    pub fn deleted<T: Table>(&self) -> u64 {
        self.rows_deleted(&T::META.name)
    }

    /// Rows of `T`'s table updated (SET NULL, SET DEFAULT, ON UPDATE
    /// actions, soft deletes).
    pub fn updated<T: Table>(&self) -> u64 {
        self.rows_updated(&T::META.name)
    }

    /// Rows deleted from `table` (SQL name), for dynamic schemas; 0 for a
    /// table the operation did not touch or does not know.
    pub fn rows_deleted(&self, table: &str) -> u64 {
        self.deleted.get(table).copied().unwrap_or(0)
    }

    /// Rows of `table` (SQL name) updated, for dynamic schemas.
    pub fn rows_updated(&self, table: &str) -> u64 {
        self.updated.get(table).copied().unwrap_or(0)
    }

    /// Rows written in all: deleted plus updated.
    pub fn rows_written(&self) -> u64 {
        self.deleted.values().chain(self.updated.values()).sum()
    }

    pub(crate) fn from_counts(ctx: Ctx<'_>, deleted: &[u64], updated: &[u64]) -> Self {
        let map = |counts: &[u64]| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(table, n)| (ctx.meta(table).name.clone(), *n))
                .collect()
        };
        Outcome {
            deleted: map(deleted),
            updated: map(updated),
            job: None,
        }
    }
}
