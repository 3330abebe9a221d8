//! Deletes, queued deletes, restores and explanations of a [`Database`],
//! from primary keys or from a condition (`*_where`).

use serde::Serialize;

use super::{Database, typed_keys};
use crate::engine::context::Ctx;
use crate::engine::execute::batched::{check_pass, delete_batched};
use crate::engine::execute::roots::{RootQuery, Start};
use crate::engine::execute::soft_cascade;
use crate::engine::explain::{Explain, ExplainOptions};
use crate::engine::integrity::{IntegrityOptions, IntegrityReport};
use crate::engine::jobs::{self, NewJob};
use crate::engine::options::{DeleteMode, DeleteOptions};
use crate::engine::outcome::Outcome;
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::job::JobId;
use crate::model::planner::{Filter, FullScan};
use crate::model::table::Table;
use crate::model::value::Key;
use crate::store::Access;

/// Which rows of a table an operation starts from.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The rows with these primary keys.
    Keys(&'a [Key]),
    /// The rows that match every filter.
    Where(&'a [Filter]),
}

impl Database {
    /// The roots of an operation on `table` from `target`: the keys
    /// (checked), or a condition planned through an index.
    pub(crate) fn start(
        ctx: Ctx<'_>,
        table: TableId,
        target: Target<'_>,
        scan: FullScan,
    ) -> Result<Start, Error> {
        match target {
            Target::Keys(keys) => {
                for key in keys {
                    ctx.check_key(table, key)?;
                }
                Ok(Start::Keys(keys.to_vec()))
            }
            Target::Where(filters) => {
                let query = RootQuery::new(ctx.meta(table), filters.to_vec(), scan)?;
                Ok(Start::Query(Box::new(query)))
            }
        }
    }

    /// Deletes the row with primary key `key` and runs every action, in
    /// the default mode ([`DeleteMode::Batched`]): see
    /// [`Database::delete_rows`]. Deleting a missing row does nothing.
    ///
    /// # Errors
    /// As [`Database::delete_rows`].
    pub fn delete<T>(&self, key: &T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.delete_with::<T>(std::slice::from_ref(key), &DeleteOptions::default())
    }

    /// Deletes the rows of `T` with primary keys `keys`, as one operation,
    /// in the mode of `options`: see [`Database::delete_rows`].
    ///
    /// # Errors
    /// As [`Database::delete_rows`]; [`Error::Conversion`] for a key that
    /// does not convert.
    pub fn delete_with<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.delete_rows(&name, &keys, options)
    }

    /// Deletes the rows of `table` with primary keys `keys` as one
    /// operation (one SQL `DELETE` statement's semantics), running every
    /// referential action, in the mode of `options`:
    ///
    /// - [`DeleteMode::Batched`] (the default): the check pass refuses the
    ///   delete before anything is written; then one transaction per
    ///   budget, on this thread, until every row is gone. The returned
    ///   [`Outcome`] counts every row the delete removed (with
    ///   [`Outcome::job`] set when it took more than one batch). Memory stays
    ///   bounded by depth × `batch_rows`.
    /// - [`DeleteMode::Sync`]: one transaction.
    /// - [`DeleteMode::Soft`], [`DeleteMode::Scheduled`]: the roots'
    ///   `#[soft_delete]` column is set (and a job scheduled), in one
    ///   transaction; the outcome counts them as updated.
    ///
    /// Missing rows are ignored.
    ///
    /// # Errors
    /// [`Error::Restricted`] (RESTRICT), [`Error::StillReferenced`] (NO
    /// ACTION), [`Error::MissingDefault`] (SET DEFAULT), [`Error::Duplicate`]
    /// (a SET DEFAULT or induced CASCADE colliding on a unique key),
    /// [`Error::TooManyRows`] (past `max_rows`, before anything is written),
    /// [`Error::TooManyJobs`], [`Error::NoSoftDelete`], [`Error::KeyShape`]
    /// or [`Error::TypeMismatch`] (a key of the wrong arity or type), store
    /// errors. Nothing is changed when the delete is refused before
    /// its first batch. In batched mode a refusal met by a later batch (a
    /// row inserted since the check pass) stops the job as failed: the
    /// batches before it stay committed, without any orphan.
    pub fn delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        self.delete_target(table, Target::Keys(keys), options)
    }

    /// Deletes the rows of `T` that match every filter of `filters`, as
    /// one operation: see [`Database::delete_rows_where`].
    ///
    /// # Errors
    /// As [`Database::delete_rows_where`].
    pub fn delete_where<T: Table>(
        &self,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        self.delete_rows_where(&T::META.name, filters, options)
    }

    /// Deletes the rows of `table` that match every filter of `filters`
    /// (`DELETE ... WHERE a = ? AND b >= ?`), as one operation, running
    /// every referential action, in the mode of `options` (see
    /// [`Database::delete_rows`]). The matching rows are found through an
    /// index that serves the filters, as [`Database::query_rows`] finds
    /// them, and — in batched mode — a page at a time: the check pass and
    /// each batch read the next matching rows, so memory holds a page of
    /// roots, not all of them, and they all belong to one job. A filter no
    /// index serves is refused unless [`DeleteOptions::full_scan`] allows a
    /// scan. `max_rows` counts every row written, as for keys. Rows that
    /// come to match while a batched delete runs are deleted if the read
    /// has not passed them yet. Sync, soft and scheduled deletes read the
    /// matching keys first, in their one transaction.
    ///
    /// # Errors
    /// [`Error::NoIndexServes`] (nothing read or written); the refusals of
    /// [`Database::delete_rows`].
    pub fn delete_rows_where(
        &self,
        table: &str,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        self.delete_target(table, Target::Where(filters), options)
    }

    fn delete_target(
        &self,
        table: &str,
        target: Target<'_>,
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let ctx = self.ctx(options.context.as_ref())?;
        let id = self.store.schema().resolve(table)?.1;
        match options.mode_for(ctx.meta(id)) {
            DeleteMode::Batched => {
                let start = Self::start(ctx, id, target, options.full_scan)?;
                let owner = jobs::new_owner();
                let engine = self.engine(ctx, options.observer.as_ref(), &owner);
                delete_batched(engine, id, start, options)
            }
            DeleteMode::SoftCascade => {
                let start = Self::start(ctx, id, target, options.full_scan)?;
                soft_cascade::mark_batched(&*self.store, ctx, id, start, options)
            }
            _ => self.write_one(|tx| tx.delete_target(id, target, options)),
        }
    }

    /// Queues a batched delete of the rows of `T` with primary keys `keys`
    /// for a [`Worker`](crate::Worker): see [`Database::enqueue_delete_rows`].
    ///
    /// # Errors
    /// As [`Database::enqueue_delete_rows`].
    pub fn enqueue_delete<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<JobId, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.enqueue_delete_rows(&name, &keys, options)
    }

    /// Queues a batched delete of the rows of `table` with primary keys
    /// `keys`: the check pass runs now (refusing the delete before anything
    /// is written), then a job is written for a [`Worker`](crate::Worker) to
    /// run. Past the pending-job cap the roots join an active job of the
    /// same table, whose id is returned.
    ///
    /// # Errors
    /// The refusals of the check pass (see [`Database::delete_rows`]),
    /// [`Error::TooManyJobs`], store errors.
    pub fn enqueue_delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<JobId, Error> {
        self.enqueue_target(table, Target::Keys(keys), options)
    }

    /// Queues a batched delete of the rows of `T` that match every filter
    /// of `filters`: see [`Database::enqueue_delete_rows_where`].
    ///
    /// # Errors
    /// As [`Database::enqueue_delete_rows_where`].
    pub fn enqueue_delete_where<T: Table>(
        &self,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<JobId, Error> {
        self.enqueue_delete_rows_where(&T::META.name, filters, options)
    }

    /// Queues a batched delete of the rows of `table` that match every
    /// filter of `filters`, for a [`Worker`](crate::Worker): the check pass
    /// runs now; the job finds the matching rows a page at a time when it
    /// runs (see [`Database::delete_rows_where`]). Never coalesced with
    /// another job.
    ///
    /// # Errors
    /// [`Error::NoIndexServes`], the refusals of the check pass,
    /// [`Error::TooManyJobs`], store errors.
    pub fn enqueue_delete_rows_where(
        &self,
        table: &str,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<JobId, Error> {
        self.enqueue_target(table, Target::Where(filters), options)
    }

    fn enqueue_target(
        &self,
        table: &str,
        target: Target<'_>,
        options: &DeleteOptions,
    ) -> Result<JobId, Error> {
        let ctx = self.ctx(options.context.as_ref())?;
        let id = self.store.schema().resolve(table)?.1;
        let start = Self::start(ctx, id, target, options.full_scan)?;
        let name = ctx.meta(id).name.clone();
        let budget = options.effective_budget(ctx.schema);
        let reachable = ctx.graph.cascade_reachable(id);
        let single = ctx.graph.delete_changes_keys(&reachable);
        if !single {
            check_pass(
                &*self.store,
                ctx,
                id,
                start.clone(),
                options.batch_rows,
                options.max_rows,
                &budget,
            )?;
        }
        let mut tx = self.store.begin(Access::Write)?;
        let (job, _) = jobs::create(
            &mut *tx,
            NewJob {
                table: name,
                roots: start,
                due_ms: None,
                checked: !single,
                budget,
                max_rows: options.max_rows,
                stack: None,
                batch_rows: options.batch_rows,
                soft: None,
                batches: 0,
                deleted: Default::default(),
                updated: Default::default(),
                lease: None,
            },
            self.max_pending_jobs,
            true,
        )?;
        tx.commit()?;
        self.wakeup.raise();
        Ok(job)
    }

    /// Clears the `#[soft_delete]` column of the rows of `T` with primary
    /// keys `keys`: see [`Database::restore_rows`].
    ///
    /// # Errors
    /// As [`Database::restore_rows`].
    pub fn restore<T>(&self, keys: &[T::PrimaryKey]) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.restore_rows(&name, &keys)
    }

    /// Clears the `#[soft_delete]` column of the rows of `table` with
    /// primary keys `keys` (rows not soft-deleted are left alone), and of
    /// the rows their soft cascade marked ([`DeleteMode::SoftCascade`]):
    /// when every table a CASCADE reaches from `table` has a
    /// `#[soft_delete]` column, the restore walks the rows a CASCADE would
    /// delete and clears those that carry their root's deletion time —
    /// rows soft-deleted at another time, for another reason, stay
    /// soft-deleted. That walk runs one write transaction per the schema's
    /// [`Budget`](crate::Budget), the root last, so that running the
    /// restore again after a failure finishes it.
    ///
    /// A scheduled delete of one of the roots cancels itself at its next
    /// check (when due, or before its next batch): rows it already deleted
    /// stay deleted. The outcome counts the restored rows as updated.
    ///
    /// # Errors
    /// [`Error::NoSoftDelete`], [`Error::KeyShape`] or [`Error::TypeMismatch`]
    /// (a key of the wrong arity or type), store errors.
    pub fn restore_rows(&self, table: &str, keys: &[Key]) -> Result<Outcome, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let id = self.store.schema().resolve(table)?.1;
        let budget = ctx.schema.budget();
        soft_cascade::restore_batched(&*self.store, ctx, id, keys, &budget)
    }

    /// What deleting the rows of `T` with primary keys `keys` would do:
    /// see [`Database::explain_delete_rows`].
    ///
    /// # Errors
    /// As [`Database::explain_delete_rows`].
    pub fn explain_delete<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &ExplainOptions,
    ) -> Result<Explain, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let (name, keys) = typed_keys::<T>(self.schema(), keys)?;
        self.explain_delete_rows(&name, &keys, options)
    }

    /// What deleting the rows of `table` with primary keys `keys` would do,
    /// without doing it: per table, the rows it would delete and update,
    /// and each foreign key that would refuse it (with the first row that
    /// refuses). Read-only and bounded: one read transaction per read
    /// budget, at most [`ExplainOptions::max_rows`] rows counted (past it
    /// the report says it is truncated).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`] or [`Error::TypeMismatch`]
    /// (a key of the wrong arity or type), store errors.
    pub fn explain_delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &ExplainOptions,
    ) -> Result<Explain, Error> {
        self.explain_target(table, Target::Keys(keys), options)
    }

    /// What deleting the rows of `T` that match every filter of `filters`
    /// would do: see [`Database::explain_delete_rows_where`].
    ///
    /// # Errors
    /// As [`Database::explain_delete_rows_where`].
    pub fn explain_delete_where<T: Table>(
        &self,
        filters: &[Filter],
        options: &ExplainOptions,
    ) -> Result<Explain, Error> {
        self.explain_delete_rows_where(&T::META.name, filters, options)
    }

    /// What deleting the rows of `table` that match every filter of
    /// `filters` would do, without doing it (see
    /// [`Database::explain_delete_rows`]); the matching rows are read a page
    /// at a time through an index that serves the filters.
    ///
    /// # Errors
    /// [`Error::NoIndexServes`] unless [`ExplainOptions::full_scan`] allows
    /// a scan; [`Error::UnknownTable`], store errors.
    pub fn explain_delete_rows_where(
        &self,
        table: &str,
        filters: &[Filter],
        options: &ExplainOptions,
    ) -> Result<Explain, Error> {
        self.explain_target(table, Target::Where(filters), options)
    }

    fn explain_target(
        &self,
        table: &str,
        target: Target<'_>,
        options: &ExplainOptions,
    ) -> Result<Explain, Error> {
        let ctx = self.ctx(options.context.as_ref())?;
        let id = self.store.schema().resolve(table)?.1;
        let start = Self::start(ctx, id, target, options.full_scan)?;
        crate::engine::explain::explain(&*self.store, ctx, id, start, options)
    }

    /// Looks for orphans: for every foreign key, the rows whose key
    /// references no row (MATCH SIMPLE). Read-only; reads every row of
    /// every table with a foreign key, a page at a time, one read
    /// transaction per read budget.
    ///
    /// # Errors
    /// Store errors.
    pub fn check_integrity(&self, options: &IntegrityOptions) -> Result<IntegrityReport, Error> {
        crate::engine::integrity::check_integrity(&*self.store, options)
    }
}
