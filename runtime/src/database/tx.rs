//! `Tx`: one transaction of a [`Database`], with the typed and untyped
//! operations, each atomic.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Database, Page, SoftDeleted, Target};
use crate::engine::context::Ctx;
use crate::engine::execute::roots::Start;
use crate::engine::execute::{delete_sync, update_sync};
use crate::engine::execute::{soft, soft_cascade};
use crate::engine::guard::Guard;
use crate::engine::options::{DeleteMode, DeleteOptions, UpdateOptions};
use crate::engine::outcome::Outcome;
use crate::engine::policy::{Policies, PolicyContext};
use crate::model::error::{Error, Operation};
use crate::model::graph::{TableId, has_null};
use crate::model::index_range::IndexRange;
use crate::model::planner::Filter;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::serde_value::{from_row, to_key, to_row};
use crate::model::table::Table;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

/// A transaction of a [`Database`]: typed and untyped operations, each
/// atomic (run in a savepoint and undone alone on error).
pub struct Tx<'a> {
    pub(super) ctx: Ctx<'a>,
    pub(super) tx: Box<dyn Transaction + 'a>,
    /// Whether each operation runs in a savepoint (false when the
    /// transaction holds one operation).
    pub(super) savepoints: bool,
    /// Refuses children of rows being deleted.
    pub(super) guard: &'a Guard,
    /// Whether reads return soft-deleted rows.
    pub(super) soft_deleted: SoftDeleted,
    /// The database's row policies.
    pub(super) policies: &'a Policies,
    /// The database's context value for them.
    pub(super) context: Option<&'a PolicyContext>,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("access", &self.tx.access())
            .finish_non_exhaustive()
    }
}

impl<'a> Tx<'a> {
    /// The schema of the database this transaction belongs to.
    pub fn schema(&self) -> &'a Schema {
        self.ctx.schema
    }

    /// Runs `f` in a savepoint: undone alone if it fails.
    fn atomic<R>(
        &mut self,
        f: impl FnOnce(Ctx<'a>, &mut dyn Transaction) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.atomic_in(self.ctx, f)
    }

    /// The context of an operation whose options carry `context`: the
    /// policies see it, else the database's.
    fn ctx_with<'c>(&self, context: Option<&'c PolicyContext>) -> Ctx<'c>
    where
        'a: 'c,
    {
        self.ctx
            .with_policies(self.policies, context.or(self.context))
    }

    /// [`Tx::atomic`] with the context `ctx`.
    fn atomic_in<'c, R>(
        &mut self,
        ctx: Ctx<'c>,
        f: impl FnOnce(Ctx<'c>, &mut dyn Transaction) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if !self.savepoints {
            return f(ctx, &mut *self.tx);
        }
        self.tx.savepoint()?;
        match f(ctx, &mut *self.tx) {
            Ok(result) => {
                self.tx.release_savepoint()?;
                Ok(result)
            }
            Err(error) => {
                // The operation's own error matters more than a failure to
                // roll back (after which the whole transaction is dropped).
                let _ = self.tx.rollback_to_savepoint();
                Err(error)
            }
        }
    }

    fn table_of<T: Table>(&self) -> Result<TableId, Error> {
        let name = &T::META.name;
        let (_, id) = self.ctx.schema.resolve(name)?;
        if self.ctx.meta(id).columns.len() != T::META.columns.len() {
            return Err(Error::UnknownTable {
                table: format!(
                    "{name} (the schema's `{name}` is not the table of `{}`)",
                    T::META.type_name
                ),
            });
        }
        Ok(id)
    }

    fn resolve(&self, table: &str) -> Result<TableId, Error> {
        Ok(self.ctx.schema.resolve(table)?.1)
    }

    /// Inserts a row. Its foreign keys must reference existing rows (MATCH
    /// SIMPLE: a key with a NULL column is not checked; a row may reference
    /// itself), as SQLite checks them.
    ///
    /// # Errors
    /// [`Error::MissingParent`] naming the foreign key and the missing key;
    /// [`Error::Duplicate`] if its primary key or a unique key exists;
    /// [`Error::Conversion`], [`Error::TypeMismatch`], [`Error::NotNull`]
    /// for a row that does not fit the table; [`Error::UnknownTable`] if the
    /// schema lacks `T`.
    pub fn insert<T: Table + Serialize>(&mut self, row: &T) -> Result<(), Error> {
        let table = self.table_of::<T>()?;
        let row = to_row(self.ctx.meta(table), row)?;
        self.insert_at(table, row)
    }

    /// The row of `T` with primary key `key`, if any.
    ///
    /// # Errors
    /// [`Error::Conversion`] if the key or the stored row does not fit `T`;
    /// [`Error::UnknownTable`]; store errors.
    pub fn get<T>(&mut self, key: &T::PrimaryKey) -> Result<Option<T>, Error>
    where
        T: Table + DeserializeOwned,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let key = to_key(key)?;
        match self.read_at(table, &key)? {
            Some(row) => Ok(Some(from_row(T::META, row)?)),
            None => Ok(None),
        }
    }

    /// Updates the row with `row`'s primary key to `row`. If a primary or
    /// unique key that other rows reference changes, their ON UPDATE actions
    /// run; changed foreign keys must reference existing rows.
    ///
    /// # Errors
    /// [`Error::NotFound`] if no row has that key; the refusals of
    /// [`Tx::update_row`].
    pub fn update<T: Table + Serialize>(&mut self, row: &T) -> Result<Outcome, Error> {
        let table = self.table_of::<T>()?;
        let row = to_row(self.ctx.meta(table), row)?;
        let key = self.ctx.pk_of(table, &row);
        self.update_at(table, vec![(key, row)], &UpdateOptions::default())
    }

    /// Replaces the row with primary key `key` by `row`, whose primary key
    /// may differ: a key change, with its ON UPDATE actions.
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub fn update_key<T>(&mut self, key: &T::PrimaryKey, row: &T) -> Result<Outcome, Error>
    where
        T: Table + Serialize,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let key = to_key(key)?;
        let row = to_row(self.ctx.meta(table), row)?;
        self.update_at(table, vec![(key, row)], &UpdateOptions::default())
    }

    /// Deletes the row of `T` with primary key `key` and runs every
    /// referential action, in this transaction. Deleting a missing row does
    /// nothing.
    ///
    /// # Errors
    /// The refusals of [`Tx::delete_rows`].
    pub fn delete<T>(&mut self, key: &T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.delete_with::<T>(std::slice::from_ref(key), &DeleteOptions::default())
    }

    /// Deletes the rows of `T` with primary keys `keys`, as one operation.
    ///
    /// # Errors
    /// The refusals of [`Tx::delete_rows`]; [`Error::Conversion`] for a key
    /// that does not convert.
    pub fn delete_with<T>(
        &mut self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let keys = keys.iter().map(to_key).collect::<Result<Vec<_>, _>>()?;
        self.delete_at(table, &keys, options)
    }

    fn delete_at(
        &mut self,
        table: TableId,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let ctx = self.ctx_with(options.context.as_ref());
        match options.mode_for(self.ctx.meta(table)) {
            DeleteMode::Soft => {
                self.atomic_in(ctx, |ctx, tx| soft::soft_delete(ctx, tx, table, keys))
            }
            DeleteMode::Scheduled(delay) => self.atomic_in(ctx, |ctx, tx| {
                soft::schedule(ctx, tx, table, keys, delay, options)
            }),
            DeleteMode::SoftCascade => self.atomic_in(ctx, |ctx, tx| {
                let roots = Start::Keys(keys.to_vec());
                soft_cascade::mark_in(ctx, tx, table, roots, options)
            }),
            _ => self.atomic_in(ctx, |ctx, tx| delete_sync(ctx, tx, table, keys, options)),
        }
    }

    /// Clears the `#[soft_delete]` column of the rows of `T` with primary
    /// keys `keys`, and of the rows their soft cascade marked: see
    /// [`Database::restore_rows`].
    ///
    /// # Errors
    /// As [`Database::restore_rows`].
    pub fn restore<T>(&mut self, keys: &[T::PrimaryKey]) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        let table = self.table_of::<T>()?;
        let keys = keys.iter().map(to_key).collect::<Result<Vec<_>, _>>()?;
        self.atomic(|ctx, tx| soft_cascade::restore_in(ctx, tx, table, &keys))
    }

    /// Clears the `#[soft_delete]` column of the rows of `table` with
    /// primary keys `keys`: see [`Database::restore_rows`].
    ///
    /// # Errors
    /// As [`Database::restore_rows`].
    pub fn restore_rows(&mut self, table: &str, keys: &[Key]) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.atomic(|ctx, tx| soft_cascade::restore_in(ctx, tx, table, keys))
    }

    /// Up to `limit` rows of `range` (ordered by the index's columns, then
    /// the primary key), after `after`.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is not on `T`'s table or does not
    /// fit its index; [`Error::Conversion`]; store errors.
    pub fn scan<T: Table + DeserializeOwned>(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        let table = self.table_of::<T>()?;
        if range.table != self.ctx.meta(table).name {
            return Err(Error::InvalidRange {
                table: range.table.clone(),
                reason: format!("the range is not on `{}`", T::META.name),
            });
        }
        let page = self.scan_rows(range, after, limit)?;
        Ok(Page {
            rows: page
                .rows
                .into_iter()
                .map(|row| from_row(T::META, row))
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }

    /// Inserts an untyped row into `table`.
    ///
    /// # Errors
    /// As [`Tx::insert`], plus [`Error::RowShape`].
    pub fn insert_row(&mut self, table: &str, row: Row) -> Result<(), Error> {
        let table = self.resolve(table)?;
        self.insert_at(table, row)
    }

    /// The untyped row of `table` with primary key `key`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::KeyShape`], store errors.
    pub fn get_row(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let table = self.resolve(table)?;
        self.read_at(table, key)
    }

    /// Replaces the row of `table` with primary key `key` by `row` (its key
    /// may change), running the ON UPDATE actions of every referenced key
    /// whose value changes.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Restricted`] (RESTRICT),
    /// [`Error::StillReferenced`] (NO ACTION), [`Error::MissingDefault`]
    /// (SET DEFAULT), [`Error::MissingParent`] (a changed foreign key),
    /// [`Error::Duplicate`] (a primary or unique key collision, also from a
    /// CASCADE), [`Error::TooManyRows`]; row shape and type errors.
    pub fn update_row(
        &mut self,
        table: &str,
        key: &[Value],
        row: Row,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.update_at(table, vec![(key.to_vec(), row)], options)
    }

    /// Replaces several rows of `table` as one operation (as one SQL
    /// `UPDATE` statement: NO ACTION is checked once all are done).
    ///
    /// # Errors
    /// As [`Tx::update_row`].
    pub fn update_rows(
        &mut self,
        table: &str,
        rows: Vec<(Key, Row)>,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.update_at(table, rows, options)
    }

    /// Deletes the rows of `table` with primary keys `keys` as one operation
    /// (as one SQL `DELETE` statement), running every referential action,
    /// in this transaction: [`DeleteMode::Batched`] and [`DeleteMode::Sync`]
    /// both run the whole delete here (a transaction cannot be split into
    /// batches); [`DeleteMode::Soft`] and [`DeleteMode::Scheduled`] write the
    /// soft-delete column (and the job) here. Missing rows are ignored.
    ///
    /// # Errors
    /// [`Error::Restricted`] (RESTRICT), [`Error::StillReferenced`] (NO
    /// ACTION), [`Error::MissingDefault`] (SET DEFAULT), [`Error::Duplicate`]
    /// (a SET DEFAULT or induced CASCADE colliding on a unique key),
    /// [`Error::TooManyRows`] (past `max_rows`, before anything is written),
    /// [`Error::KeyShape`] or [`Error::TypeMismatch`] (a key of the wrong
    /// arity or type), store errors. Nothing is changed on error.
    pub fn delete_rows(
        &mut self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.delete_at(table, keys, options)
    }

    /// Deletes the rows of `T` that match every filter of `filters`, as one
    /// operation, in this transaction: see [`Tx::delete_rows_where`].
    ///
    /// # Errors
    /// As [`Tx::delete_rows_where`].
    pub fn delete_where<T: Table>(
        &mut self,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        self.delete_rows_where(&T::META.name, filters, options)
    }

    /// Deletes the rows of `table` that match every filter of `filters` as
    /// one operation, in this transaction: the matching keys are read
    /// through an index that serves the filters (a full scan only with
    /// [`DeleteOptions::full_scan`]), then deleted as
    /// [`Tx::delete_rows`] deletes keys.
    ///
    /// # Errors
    /// [`Error::NoIndexServes`]; as [`Tx::delete_rows`].
    pub fn delete_rows_where(
        &mut self,
        table: &str,
        filters: &[Filter],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.delete_target(table, Target::Where(filters), options)
    }

    /// Deletes the rows of `table` that `target` names, in this
    /// transaction.
    pub(super) fn delete_target(
        &mut self,
        table: TableId,
        target: Target<'_>,
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let keys = match Database::start(self.ctx, table, target, options.full_scan)? {
            Start::Keys(keys) => keys,
            Start::Query(mut query) => query.all_keys(&mut *self.tx, &self.ctx.meta(table).name)?,
        };
        self.delete_at(table, &keys, options)
    }

    /// Up to `limit` untyped rows of `range`, after `after`.
    ///
    /// # Errors
    /// [`Error::UnknownTable`], [`Error::InvalidRange`], store errors.
    pub fn scan_rows(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<Row>, Error> {
        let table = self.resolve(&range.table)?;
        let mut rows = self.tx.scan(range, after, limit)?;
        let next = match rows.last() {
            Some(last) if rows.len() == limit => {
                Some(ScanPosition::after_row(self.ctx.schema, range, last)?)
            }
            _ => None,
        };
        let (ctx, shown) = (self.ctx, self.soft_deleted);
        rows.retain(|row| shown.shows(ctx, table, row));
        Ok(Page { rows, next })
    }

    /// Every row of `table`, by primary key (reads the whole table, page by
    /// page).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&mut self, table: &str) -> Result<Vec<Row>, Error> {
        let id = self.resolve(table)?;
        let range = IndexRange::new(
            self.ctx.meta(id).name.clone(),
            crate::model::metadata::IndexRef::PrimaryKey,
        );
        let mut rows = Vec::new();
        let mut after = None;
        loop {
            let page = self.scan_rows(&range, after.as_ref(), 1_000)?;
            rows.extend(page.rows);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(rows),
            }
        }
    }

    /// The row of `table` with primary key `key`, if it exists and this
    /// transaction's reads show it.
    fn read_at(&mut self, table: TableId, key: &[Value]) -> Result<Option<Row>, Error> {
        self.ctx.check_key(table, key)?;
        let row = self.tx.get(&self.ctx.meta(table).name, key)?;
        Ok(row.filter(|row| self.soft_deleted.shows(self.ctx, table, row)))
    }

    /// Sets whether this transaction's reads return soft-deleted rows
    /// (default: as its [`Database`]'s, [`SoftDeleted::Hidden`] unless
    /// [`Database::including_soft_deleted`]).
    pub fn set_soft_deleted(&mut self, soft_deleted: SoftDeleted) -> &mut Self {
        self.soft_deleted = soft_deleted;
        self
    }

    /// Whether this transaction's reads return soft-deleted rows.
    pub fn soft_deleted(&self) -> SoftDeleted {
        self.soft_deleted
    }

    fn insert_at(&mut self, table: TableId, row: Row) -> Result<(), Error> {
        let guard = self.guard;
        self.atomic(|ctx, tx| {
            let row = ctx.normalize(table, row)?;
            for &f in &ctx.graph.tables[table].outgoing {
                let fk = ctx.fk(f);
                let values = fk.child_values(&row);
                if has_null(&values) {
                    continue;
                }
                // A row may reference itself.
                if fk.parent == table && fk.parent_values(&row) == values {
                    continue;
                }
                let Some(parent) = ctx.parent(tx, fk, &values)? else {
                    return Err(Error::MissingParent {
                        operation: Operation::Insert,
                        table: ctx.meta(table).name.clone(),
                        key: ctx.pk_of(table, &row),
                        foreign_key: fk.name.clone(),
                        parent_key: values,
                    });
                };
                guard.check(
                    ctx,
                    tx,
                    Operation::Insert,
                    table,
                    &ctx.pk_of(table, &row),
                    f,
                    &parent,
                )?;
            }
            tx.insert(&ctx.meta(table).name, &row)
        })
    }

    fn update_at(
        &mut self,
        table: TableId,
        rows: Vec<(Key, Row)>,
        options: &UpdateOptions,
    ) -> Result<Outcome, Error> {
        let guard = self.guard;
        let ctx = self.ctx_with(options.context.as_ref());
        self.atomic_in(ctx, |ctx, tx| {
            // A changed foreign key may not point at a row being deleted.
            if !ctx.graph.tables[table].outgoing.is_empty() && guard.may_refuse(ctx, tx)? {
                for (key, row) in &rows {
                    let Some(old) = tx.get(&ctx.meta(table).name, key)? else {
                        continue;
                    };
                    for &f in &ctx.graph.tables[table].outgoing {
                        let fk = ctx.fk(f);
                        let values = fk.child_values(row);
                        if has_null(&values) || values == fk.child_values(&old) {
                            continue;
                        }
                        if let Some(parent) = ctx.parent(tx, fk, &values)? {
                            guard.check(ctx, tx, Operation::Update, table, key, f, &parent)?;
                        }
                    }
                }
            }
            update_sync(ctx, tx, table, rows, options)
        })
    }
}
