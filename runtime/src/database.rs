//! `Database`: typed and untyped reads and writes over a [`Store`], with
//! foreign keys checked and referential actions run.
//!
//! Typed rows go through serde ([`to_row`], [`from_row`], [`to_key`]): a
//! `#[derive(Table)]` struct is a row, its `T::PrimaryKey` a key. The
//! untyped API (table name, [`Row`], [`Key`]) is what the typed one calls and
//! what tools working from metadata use.
//!
//! Every operation is atomic: inside [`Database::write`] each one runs in a
//! savepoint and is undone alone when it fails, as one SQL statement; the
//! shorthand methods on `Database` run one operation in its own transaction.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Operation};
use crate::execute::{DeleteOptions, Outcome, UpdateOptions, delete_sync, update_sync};
use crate::graph::{TableId, has_null};
use crate::index_range::IndexRange;
use crate::lookup::Ctx;
use crate::schema::Schema;
use crate::serde_value::{from_row, to_key, to_row};
use crate::store::{Access, ScanPosition, Store, Transaction};
use crate::table::Table;
use crate::value::{Key, Row, Value};

/// A database: a [`Store`] and its schema, with typed CRUD and referential
/// actions.
///
/// Cloning is cheap (the store is shared). Reads and writes are synchronous;
/// the store is `Send + Sync`, so a clone can be used on another thread.
#[derive(Clone)]
pub struct Database {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.store.capabilities().backend)
            .field("schema", self.store.schema())
            .finish()
    }
}

/// One page of an index scan.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The rows, in index order (index columns, then primary key).
    pub rows: Vec<T>,
    /// Where the next page starts, when this page is full (there may be more
    /// rows); `None` when the scan is done.
    pub next: Option<ScanPosition>,
}

impl Database {
    /// A database over `store`.
    pub fn new(store: impl Store + 'static) -> Self {
        Database {
            store: Arc::new(store),
        }
    }

    /// A database over a shared store.
    pub fn from_shared(store: Arc<dyn Store>) -> Self {
        Database { store }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        self.store.schema()
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Runs `f` in one write transaction: committed when `f` returns `Ok`,
    /// rolled back when it returns an error. Each operation inside is atomic
    /// on its own.
    ///
    /// # Errors
    /// What `f` returns; store errors from opening or committing.
    pub fn write<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        self.write_with(true, f)
    }

    /// One operation in its own transaction: no savepoint is needed (a
    /// failure drops the whole transaction), which spares SQLite its
    /// sub-journal.
    fn write_one<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        self.write_with(false, f)
    }

    fn write_with<R>(
        &self,
        savepoints: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let mut tx = Tx {
            ctx,
            tx: self.store.begin(Access::Write)?,
            savepoints,
        };
        let result = f(&mut tx)?;
        tx.tx.commit()?;
        Ok(result)
    }

    /// Runs `f` in one read transaction (writes fail with [`Error::ReadOnly`]).
    ///
    /// # Errors
    /// What `f` returns; store errors.
    pub fn read<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, Error>) -> Result<R, Error> {
        let ctx = Ctx::new(self.store.schema())?;
        let mut tx = Tx {
            ctx,
            tx: self.store.begin(Access::Read)?,
            savepoints: true,
        };
        f(&mut tx)
    }

    /// Inserts a row: see [`Tx::insert`].
    ///
    /// # Errors
    /// As [`Tx::insert`].
    pub fn insert<T: Table + Serialize>(&self, row: &T) -> Result<(), Error> {
        self.write_one(|tx| tx.insert(row))
    }

    /// The row with primary key `key`: see [`Tx::get`].
    ///
    /// # Errors
    /// As [`Tx::get`].
    pub fn get<T>(&self, key: &T::PrimaryKey) -> Result<Option<T>, Error>
    where
        T: Table + DeserializeOwned,
        T::PrimaryKey: Serialize,
    {
        self.read(|tx| tx.get::<T>(key))
    }

    /// Updates a row by its primary key: see [`Tx::update`].
    ///
    /// # Errors
    /// As [`Tx::update`].
    pub fn update<T: Table + Serialize>(&self, row: &T) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.update(row))
    }

    /// Replaces the row with primary key `key`, changing its key: see
    /// [`Tx::update_key`].
    ///
    /// # Errors
    /// As [`Tx::update_key`].
    pub fn update_key<T>(&self, key: &T::PrimaryKey, row: &T) -> Result<Outcome, Error>
    where
        T: Table + Serialize,
        T::PrimaryKey: Serialize,
    {
        self.write_one(|tx| tx.update_key(key, row))
    }

    /// Deletes the row with primary key `key` and runs every action: see
    /// [`Tx::delete`].
    ///
    /// # Errors
    /// As [`Tx::delete`].
    pub fn delete<T>(&self, key: &T::PrimaryKey) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.write_one(|tx| tx.delete::<T>(key))
    }

    /// Deletes rows with options: see [`Tx::delete_with`].
    ///
    /// # Errors
    /// As [`Tx::delete_with`].
    pub fn delete_with<T>(
        &self,
        keys: &[T::PrimaryKey],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error>
    where
        T: Table,
        T::PrimaryKey: Serialize,
    {
        self.write_one(|tx| tx.delete_with::<T>(keys, options))
    }

    /// One page of an index scan: see [`Tx::scan`].
    ///
    /// # Errors
    /// As [`Tx::scan`].
    pub fn scan<T: Table + DeserializeOwned>(
        &self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        self.read(|tx| tx.scan(range, after, limit))
    }

    /// Inserts an untyped row: see [`Tx::insert_row`].
    ///
    /// # Errors
    /// As [`Tx::insert_row`].
    pub fn insert_row(&self, table: &str, row: Row) -> Result<(), Error> {
        self.write_one(|tx| tx.insert_row(table, row))
    }

    /// An untyped row by primary key: see [`Tx::get_row`].
    ///
    /// # Errors
    /// As [`Tx::get_row`].
    pub fn get_row(&self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        self.read(|tx| tx.get_row(table, key))
    }

    /// Replaces an untyped row: see [`Tx::update_row`].
    ///
    /// # Errors
    /// As [`Tx::update_row`].
    pub fn update_row(&self, table: &str, key: &[Value], row: Row) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.update_row(table, key, row, &UpdateOptions::default()))
    }

    /// Deletes untyped rows: see [`Tx::delete_rows`].
    ///
    /// # Errors
    /// As [`Tx::delete_rows`].
    pub fn delete_rows(
        &self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        self.write_one(|tx| tx.delete_rows(table, keys, options))
    }

    /// Every row of `table`, by primary key (reads the whole table).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, Error> {
        self.read(|tx| tx.rows(table))
    }
}

/// A transaction of a [`Database`]: typed and untyped operations, each
/// atomic (run in a savepoint and undone alone on error).
pub struct Tx<'a> {
    ctx: Ctx<'a>,
    tx: Box<dyn Transaction + 'a>,
    /// Whether each operation runs in a savepoint (false when the
    /// transaction holds one operation).
    savepoints: bool,
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
        if !self.savepoints {
            return f(self.ctx, &mut *self.tx);
        }
        self.tx.savepoint()?;
        match f(self.ctx, &mut *self.tx) {
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
        match self.get_at(table, &key)? {
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
    /// referential action (sync mode: one transaction). Deleting a missing
    /// row does nothing.
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
        self.atomic(|ctx, tx| delete_sync(ctx, tx, table, &keys, options))
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
        self.get_at(table, key)
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
    /// (as one SQL `DELETE` statement), running every referential action.
    /// Missing rows are ignored.
    ///
    /// # Errors
    /// [`Error::Restricted`] (RESTRICT), [`Error::StillReferenced`] (NO
    /// ACTION), [`Error::MissingDefault`] (SET DEFAULT), [`Error::Duplicate`]
    /// (a SET DEFAULT or induced CASCADE colliding on a unique key),
    /// [`Error::TooManyRows`] (past `max_rows`, before anything is written),
    /// [`Error::KeyShape`], store errors. Nothing is changed on error.
    pub fn delete_rows(
        &mut self,
        table: &str,
        keys: &[Key],
        options: &DeleteOptions,
    ) -> Result<Outcome, Error> {
        let table = self.resolve(table)?;
        self.atomic(|ctx, tx| delete_sync(ctx, tx, table, keys, options))
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
        let rows = self.tx.scan(range, after, limit)?;
        let next = match rows.last() {
            Some(last) if rows.len() == limit => {
                Some(ScanPosition::after_row(self.ctx.schema, range, last)?)
            }
            _ => None,
        };
        Ok(Page { rows, next })
    }

    /// Every row of `table`, by primary key (reads the whole table, page by
    /// page).
    ///
    /// # Errors
    /// [`Error::UnknownTable`], store errors.
    pub fn rows(&mut self, table: &str) -> Result<Vec<Row>, Error> {
        let id = self.resolve(table)?;
        let range = IndexRange::new(self.ctx.meta(id).name.clone(), crate::IndexRef::PrimaryKey);
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

    fn get_at(&mut self, table: TableId, key: &[Value]) -> Result<Option<Row>, Error> {
        self.ctx.check_key(table, key)?;
        self.tx.get(&self.ctx.meta(table).name, key)
    }

    fn insert_at(&mut self, table: TableId, row: Row) -> Result<(), Error> {
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
                if ctx.parent(tx, fk, &values)?.is_none() {
                    return Err(Error::MissingParent {
                        operation: Operation::Insert,
                        table: ctx.meta(table).name.clone(),
                        key: ctx.pk_of(table, &row),
                        foreign_key: fk.name.clone(),
                        parent_key: values,
                    });
                }
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
        self.atomic(|ctx, tx| update_sync(ctx, tx, table, rows, options))
    }
}
