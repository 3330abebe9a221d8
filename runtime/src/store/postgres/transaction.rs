//! The PostgreSQL store's transactions: a pooled connection held from
//! `BEGIN` to `COMMIT` or `ROLLBACK`; SQL generated once per shape and
//! prepared once per connection; identifiers quoted, values bound.
//!
//! PostgreSQL aborts a transaction at its first failed statement, where
//! SQLite undoes only the statement. So that a refused write leaves the
//! transaction usable, writes that may collide on a key do not fail:
//! `INSERT ... ON CONFLICT DO NOTHING`, and an `UPDATE` guarded by `NOT
//! EXISTS` on each unique key; when either writes nothing, lookups name
//! the key that collides ([`Error::Duplicate`]). A statement that still
//! fails marks the transaction aborted: a later `commit` rolls back and
//! says so, unless a savepoint taken before the failure was rolled back to.

use std::sync::Arc;

use postgres::Row as PgRow;
use postgres::types::ToSql;
use r2d2::PooledConnection;

use super::Inner;
use super::connection::Manager;
use super::error::BACKEND;
use super::sql::{self, Params, ScanShape, SqlKey, Table, index_position};
use crate::model::error::{Error, Operation, StoreErrorKind};
use crate::model::graph::{Graph, TableId};
use crate::model::index_range::IndexRange;
use crate::model::job::JobId;
use crate::model::metadata::TableMeta;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};
use crate::store::scan::children_one_by_one;
use crate::store::{
    Access, ChildScan, ChildWrite, Claim, JobFilter, JobRow, OpenMark, Transaction, Written,
    range_columns,
};

/// A bound parameter.
pub(super) type Bound<'v> = Box<dyn ToSql + Sync + 'v>;

/// A transaction: holds a pooled connection until it ends.
pub(crate) struct PostgresTransaction<'s> {
    pub(super) store: &'s Inner,
    pub(super) graph: &'s Graph,
    pub(super) conn: PooledConnection<Manager>,
    pub(super) access: Access,
    pub(super) savepoints: usize,
    /// The savepoint depth at which a statement failed (PostgreSQL then
    /// refuses everything until a rollback to a savepoint taken before).
    pub(super) aborted: Option<usize>,
    pub(super) done: bool,
    pub(super) _mark: OpenMark,
}

impl Drop for PostgresTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.client.batch_execute("ROLLBACK");
        }
    }
}

fn bound_code(bound: &std::ops::Bound<Value>) -> u8 {
    match bound {
        std::ops::Bound::Unbounded => 0,
        std::ops::Bound::Included(_) => 1,
        std::ops::Bound::Excluded(_) => 2,
    }
}

/// The distinct parent tuples of `prefixes` without a NULL, as one array
/// per column.
fn parent_arrays(prefixes: &[Key], width: usize) -> Vec<Vec<&Value>> {
    let mut tuples: Vec<&Key> = prefixes
        .iter()
        .filter(|p| !p.iter().any(Value::is_null))
        .collect();
    tuples.sort();
    tuples.dedup();
    (0..width)
        .map(|c| tuples.iter().map(|t| &t[c]).collect())
        .collect()
}

impl<'s> PostgresTransaction<'s> {
    pub(super) fn table_id(&self, name: &str) -> Result<TableId, Error> {
        self.graph.resolve_table(name)
    }

    /// The table named `table`, and `keys` (each checked against its
    /// primary key) as one array per key column, distinct: the parameters
    /// of a statement on many rows by key (`k = ANY($1)`).
    fn key_arrays<'k>(
        &self,
        table: &str,
        keys: &'k [Key],
    ) -> Result<(TableId, Vec<Vec<&'k Value>>), Error> {
        let id = self.table_id(table)?;
        for key in keys {
            self.check_key(id, key)?;
        }
        Ok((id, parent_arrays(keys, self.table(id).pk.len())))
    }

    pub(super) fn writable(&self) -> Result<(), Error> {
        self.access.check_writable()
    }

    fn meta(&self, table: TableId) -> &'s TableMeta {
        self.store.schema.meta(table)
    }

    /// What statements of `table` need from the schema and the database.
    pub(super) fn table(&self, table: TableId) -> Table<'s> {
        Table {
            meta: self.store.schema.meta(table),
            pk: &self.graph.tables[table].pk,
            types: &self.store.types[table],
        }
    }

    /// The SQL of `key`, built by `build` the first time (for every
    /// connection of the store).
    pub(super) fn sql(
        &self,
        key: SqlKey,
        full_scan_expected: bool,
        build: impl FnOnce() -> String,
    ) -> Arc<str> {
        let mut texts = self.store.lock_sql();
        if let Some(sql) = texts.get(&key) {
            return sql.clone();
        }
        let sql: Arc<str> = build().into();
        texts.insert(key, sql.clone());
        drop(texts);
        self.record(&sql, full_scan_expected);
        sql
    }

    /// Notes a statement the store prepared (for the index-backed test).
    pub(super) fn record(&self, sql: &str, full_scan_expected: bool) {
        let mut prepared = self.store.lock_prepared();
        if !prepared.contains_key(sql) {
            prepared.insert(sql.to_owned(), full_scan_expected);
        }
    }

    /// Notes whether a statement failed: PostgreSQL then refuses every
    /// statement of the transaction until a savepoint before it is rolled
    /// back to.
    /// (A value that does not fit its parameter is refused before anything
    /// is sent: the transaction goes on.)
    fn checked<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T, Error> {
        if let Err(error) = &result {
            let sent = error.as_db_error().is_some() || error.is_closed();
            if sent && self.aborted.is_none() {
                self.aborted = Some(self.savepoints);
            }
        }
        result.map_err(Error::from)
    }

    /// Runs a query (prepared once per connection) and returns its rows.
    pub(super) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<PgRow>, Error> {
        let conn = &mut *self.conn;
        let result = conn
            .prepare(sql)
            .and_then(|statement| conn.client.query(&statement, params));
        self.checked(result)
    }

    /// Runs a statement (prepared once per connection) and returns how many
    /// rows it changed.
    pub(super) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let conn = &mut *self.conn;
        let result = conn
            .prepare(sql)
            .and_then(|statement| conn.client.execute(&statement, params));
        self.checked(result)
    }

    /// [`query`](Self::query) with boxed parameters.
    pub(super) fn query_bound(
        &mut self,
        sql: &str,
        params: &[Bound<'_>],
    ) -> Result<Vec<PgRow>, Error> {
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        self.query(sql, &refs)
    }

    /// A statement of the job tables: recorded, then run.
    pub(super) fn run_job_query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<PgRow>, Error> {
        self.record(sql, false);
        self.query(sql, params)
    }

    /// As [`run_job_query`](Self::run_job_query), returning the rows changed.
    pub(super) fn run_job_execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        self.record(sql, false);
        self.execute(sql, params)
    }

    /// A listing statement: recorded with `full_scan_expected`, then run.
    pub(super) fn run_query(
        &mut self,
        sql: &Arc<str>,
        full_scan_expected: bool,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<PgRow>, Error> {
        self.record(sql, full_scan_expected);
        self.query(sql, params)
    }

    /// The first `width` columns of a result row as values.
    pub(super) fn values(row: &PgRow, width: usize) -> Result<Row, Error> {
        Ok((0..width)
            .map(|i| row.try_get::<_, Value>(i))
            .collect::<Result<Row, _>>()?)
    }

    fn check_shape(&self, table: TableId, row: &[Value]) -> Result<(), Error> {
        let meta = self.meta(table);
        if row.len() == meta.columns.len() {
            Ok(())
        } else {
            Err(Error::RowShape {
                table: meta.name.clone(),
                expected: meta.columns.len(),
                found: row.len(),
            })
        }
    }

    fn check_key(&self, table: TableId, key: &[Value]) -> Result<(), Error> {
        let expected = self.graph.tables[table].pk.len();
        if key.len() == expected {
            Ok(())
        } else {
            Err(Error::KeyShape {
                table: self.meta(table).name.clone(),
                expected,
                found: key.len(),
            })
        }
    }

    /// The shape, index columns and parameters of a scan of `range` — or,
    /// with `parents`, of the rows whose first index columns after the
    /// prefix equal one of those tuples — resuming after `after`.
    pub(super) fn scan_plan<'v>(
        &self,
        range: &'v IndexRange,
        parents: Option<&'v [Key]>,
        after: Option<&'v ScanPosition>,
    ) -> Result<(ScanShape, Vec<usize>, Vec<Bound<'v>>), Error> {
        let id = self.table_id(&range.table)?;
        let index_columns = range_columns(&self.store.schema, range)?;
        let meta = self.meta(id);
        let pk = &self.graph.tables[id].pk;
        let prefix = range.prefix.len();
        let position: Option<Vec<&Value>> = after.map(|after| {
            let mut values: Vec<&Value> = after.index.iter().skip(prefix).collect();
            values.extend(
                pk.iter()
                    .zip(&after.key)
                    .filter(|(c, _)| !index_columns.contains(c))
                    .map(|(_, v)| v),
            );
            values
        });
        let rest =
            index_columns.len() - prefix + pk.iter().filter(|c| !index_columns.contains(c)).count();
        if position.as_ref().is_some_and(|p| p.len() != rest) {
            return Err(Error::InvalidRange {
                table: meta.name.clone(),
                reason: "the resume position does not fit the index".to_owned(),
            });
        }
        let width = parents.map_or(0, |p| p.first().map_or(1, Vec::len));
        let (lower, upper) = match &range.range {
            Some(bounds) => (bound_code(&bounds.lower), bound_code(&bounds.upper)),
            None => (0, 0),
        };
        let shape = ScanShape {
            table: id,
            index: index_position(meta, &range.index),
            prefix,
            parents: width,
            lower,
            upper,
            after: position.as_ref().map(|values| {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_null())
                    .fold(0u64, |mask, (i, _)| mask | (1 << (i % 64)))
            }),
        };
        let mut params: Vec<Bound<'v>> = range
            .prefix
            .iter()
            .map(|v| Box::new(v) as Bound<'v>)
            .collect();
        if let Some(parents) = parents {
            for column in parent_arrays(parents, width) {
                params.push(Box::new(column));
            }
        }
        if let Some(bounds) = &range.range {
            for bound in [&bounds.lower, &bounds.upper] {
                if let std::ops::Bound::Included(v) | std::ops::Bound::Excluded(v) = bound {
                    params.push(Box::new(v));
                }
            }
        }
        for value in position.into_iter().flatten().filter(|v| !v.is_null()) {
            params.push(Box::new(value));
        }
        Ok((shape, index_columns, params))
    }

    /// A scan of `range` (see [`scan_plan`](Self::scan_plan)).
    fn scan_inner(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let (shape, index_columns, mut params) = self.scan_plan(range, None, after)?;
        if limit == 0 || range.prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        let table = self.table(shape.table);
        let full = shape.is_full();
        let sql = self.sql(SqlKey::Scan(shape.clone()), full, || {
            let mut numbers = Params::default();
            let parts = sql::scan_parts(table, &index_columns, &shape, &mut numbers);
            sql::select(table, &parts, &mut numbers)
        });
        params.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let rows = self.query_bound(&sql, &params)?;
        let width = table.meta.columns.len();
        rows.iter().map(|row| Self::values(row, width)).collect()
    }

    /// Whether the set-based statements can answer `scan` at once: the
    /// range has no prefix or bound of its own and every parent is a tuple
    /// of the same width, at most the index's; otherwise the row-at-a-time
    /// defaults answer it.
    pub(super) fn set_based(&self, scan: &ChildScan<'_>) -> Result<bool, Error> {
        let index_columns = range_columns(&self.store.schema, scan.range)?;
        let width = scan.prefixes.first().map_or(0, Vec::len);
        Ok(scan.range.prefix.is_empty()
            && scan.range.range.is_none()
            && width >= 1
            && width <= index_columns.len()
            && scan.prefixes.iter().all(|p| p.len() == width))
    }

    /// Whether no parent of `scan` is without a NULL (nothing to find).
    pub(super) fn no_parent(scan: &ChildScan<'_>) -> bool {
        scan.prefixes.iter().all(|p| p.iter().any(Value::is_null))
    }

    /// After a write that wrote nothing because a key collides: the key,
    /// found by looking each unique key up (the primary key first).
    fn duplicate(
        &mut self,
        table: TableId,
        row: &[Value],
        replacing: Option<&[Value]>,
        operation: Operation,
    ) -> Result<Error, Error> {
        // The row named is the one written: by its old key when its key
        // changes, not by the key that collides.
        let pk = replacing.map_or_else(|| self.graph.pk_of(table, row), <[Value]>::to_vec);
        let keys = self.graph.tables[table].unique_keys.clone();
        let name = self.meta(table).name.clone();
        for (index, columns) in keys {
            let values: Key = columns.iter().map(|&c| row[c].clone()).collect();
            if values.iter().any(Value::is_null) {
                continue;
            }
            let range = IndexRange {
                table: name.clone(),
                index,
                prefix: values.clone(),
                range: None,
            };
            let found = self.scan_inner(&range, None, 2)?;
            let collides = found
                .iter()
                .any(|other| Some(self.graph.pk_of(table, other).as_slice()) != replacing);
            if collides {
                let meta = self.meta(table);
                return Ok(Error::Duplicate {
                    operation,
                    table: name,
                    key: pk,
                    columns: columns
                        .iter()
                        .map(|&c| meta.columns[c].name.clone())
                        .collect(),
                    values,
                });
            }
        }
        Ok(Error::store(
            BACKEND,
            StoreErrorKind::Busy,
            format!(
                "the {operation} of {name} {} wrote nothing, and no row holds its keys now: a concurrent write",
                crate::model::value::display_key(&pk)
            ),
        ))
    }

    fn savepoint_command(&mut self, command: &str) -> Result<(), Error> {
        let result = self.conn.client.batch_execute(command);
        self.checked(result)
    }
}

impl Transaction for PostgresTransaction<'_> {
    fn access(&self) -> Access {
        self.access
    }

    fn schema(&self) -> &Schema {
        &self.store.schema
    }

    fn runs_native_actions(&self) -> bool {
        // PostgreSQL always runs the actions it declares.
        true
    }

    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let table = self.table(id);
        let sql = self.sql(SqlKey::Get(id), false, || sql::get(table));
        let params: Vec<&(dyn ToSql + Sync)> = key.iter().map(|v| v as _).collect();
        let rows = self.query(&sql, &params)?;
        rows.first()
            .map(|row| Self::values(row, table.meta.columns.len()))
            .transpose()
    }

    /// One statement: `k = ANY($1)` (`(a, b) IN (SELECT * FROM
    /// unnest(...))` for a key of several columns).
    fn get_many(&mut self, table: &str, keys: &[Key]) -> Result<Vec<Row>, Error> {
        let (id, arrays) = self.key_arrays(table, keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.table(id);
        let sql = self.sql(SqlKey::GetMany(id), false, || sql::get_many(table));
        let params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as _).collect();
        let columns = table.meta.columns.len();
        self.query(&sql, &params)?
            .iter()
            .map(|row| Self::values(row, columns))
            .collect()
    }

    fn scan(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        self.scan_inner(range, after, limit)
    }

    /// One statement (`c = ANY($1)`, or `(a, b) IN (SELECT * FROM unnest(...))`
    /// for parents of several columns), returning only `scan.columns` and
    /// each row's size.
    fn scan_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        if !self.set_based(scan)? {
            return children_one_by_one(self, scan);
        }
        self.read_children(scan)
    }

    /// `SELECT count(*)`, one statement.
    fn count_children(&mut self, scan: &ChildScan<'_>) -> Result<u64, Error> {
        if !self.set_based(scan)? {
            return crate::store::scan::count_children_by_pages(self, scan);
        }
        self.count_children_at_once(scan)
    }

    /// `DELETE ... WHERE key IN (SELECT ... LIMIT n) RETURNING ...`, one
    /// statement.
    fn delete_children(&mut self, write: &ChildWrite<'_>) -> Result<Written, Error> {
        self.writable()?;
        if !self.set_based(&write.scan)? {
            return crate::store::scan::delete_children_one_by_one(self, write);
        }
        self.write_children(write, None)
    }

    /// `UPDATE ... SET ... WHERE key IN (SELECT ... LIMIT n) RETURNING ...`,
    /// one statement.
    fn update_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: &[(usize, Value)],
    ) -> Result<Written, Error> {
        self.writable()?;
        if !self.set_based(&write.scan)? {
            return crate::store::scan::update_children_one_by_one(self, write, set);
        }
        self.write_children(write, Some(set))
    }

    fn scan_where(
        &mut self,
        table: &str,
        columns: &[usize],
        values: &[Value],
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let id = self.table_id(table)?;
        let table = self.table(id);
        let width = table.meta.columns.len();
        if limit == 0
            || values.iter().any(Value::is_null)
            || columns.len() != values.len()
            || columns.iter().any(|&c| c >= width)
        {
            return Ok(Vec::new());
        }
        if let Some(after) = after {
            self.check_key(id, after)?;
        }
        let key = SqlKey::ScanWhere {
            table: id,
            columns: columns.to_vec(),
            after: after.is_some(),
        };
        let sql = self.sql(key, true, || {
            sql::scan_where(table, columns, after.is_some())
        });
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        params.extend(
            after
                .unwrap_or_default()
                .iter()
                .map(|v| v as &(dyn ToSql + Sync)),
        );
        params.push(&limit);
        let rows = self.query(&sql, &params)?;
        rows.iter().map(|row| Self::values(row, width)).collect()
    }

    fn insert(&mut self, table: &str, row: &[Value]) -> Result<(), Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        let table = self.table(id);
        let sql = self.sql(SqlKey::Insert(id), false, || sql::insert(table));
        let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v as _).collect();
        if self.execute(&sql, &params)? == 1 {
            return Ok(());
        }
        Err(self.duplicate(id, row, None, Operation::Insert)?)
    }

    fn update(&mut self, table: &str, key: &[Value], row: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        self.check_key(id, key)?;
        let table = self.table(id);
        let unique: Vec<Vec<usize>> = self.graph.tables[id]
            .unique_keys
            .iter()
            .map(|(_, columns)| columns.clone())
            .collect();
        let sql = self.sql(SqlKey::Update(id), false, || sql::update(table, &unique));
        let params: Vec<&(dyn ToSql + Sync)> = row.iter().chain(key).map(|v| v as _).collect();
        if self.execute(&sql, &params)? > 0 {
            return Ok(true);
        }
        if self.get(&table.meta.name, key)?.is_none() {
            return Ok(false);
        }
        Err(self.duplicate(id, row, Some(key), Operation::Update)?)
    }

    fn delete(&mut self, table: &str, key: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let table = self.table(id);
        let sql = self.sql(SqlKey::Delete(id), false, || sql::delete(table));
        let params: Vec<&(dyn ToSql + Sync)> = key.iter().map(|v| v as _).collect();
        Ok(self.execute(&sql, &params)? > 0)
    }

    /// One statement: `DELETE ... WHERE k = ANY($1)`, or `(a, b) IN
    /// (SELECT * FROM unnest($1, $2))` for a key of several columns.
    fn delete_many(&mut self, table: &str, keys: &[Key]) -> Result<u64, Error> {
        self.writable()?;
        let (id, arrays) = self.key_arrays(table, keys)?;
        if keys.is_empty() {
            return Ok(0);
        }
        let table = self.table(id);
        let sql = self.sql(SqlKey::DeleteMany(id), false, || sql::delete_many(table));
        let params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as _).collect();
        self.execute(&sql, &params)
    }

    fn savepoint(&mut self) -> Result<(), Error> {
        self.savepoint_command("SAVEPOINT cascadia")?;
        self.savepoints += 1;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        self.savepoint_command("RELEASE SAVEPOINT cascadia")?;
        self.savepoints -= 1;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        let result = self
            .conn
            .client
            .batch_execute("ROLLBACK TO SAVEPOINT cascadia; RELEASE SAVEPOINT cascadia");
        // Undone to a savepoint taken before the failure: usable again.
        if result.is_ok() && self.aborted.is_some_and(|depth| depth >= self.savepoints) {
            self.aborted = None;
        }
        self.checked(result)?;
        self.savepoints -= 1;
        Ok(())
    }

    fn insert_job(&mut self, job: &JobRow) -> Result<JobId, Error> {
        self.writable()?;
        self.insert_job_row(job)
    }

    fn job(&mut self, id: JobId) -> Result<Option<JobRow>, Error> {
        self.job_row(id)
    }

    fn update_job(&mut self, job: &JobRow) -> Result<bool, Error> {
        self.writable()?;
        self.update_job_row(job)
    }

    fn delete_job(&mut self, id: JobId) -> Result<bool, Error> {
        self.writable()?;
        self.delete_job_row(id)
    }

    fn list_jobs(&mut self, filter: JobFilter) -> Result<Vec<JobRow>, Error> {
        self.list_job_rows(filter)
    }

    fn claim_job(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error> {
        self.writable()?;
        self.claim_job_row(claim)
    }

    fn put_job_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error> {
        self.writable()?;
        self.put_roots(id, chunk, keys)
    }

    fn job_roots(&mut self, id: JobId, chunk: u64) -> Result<Option<Vec<u8>>, Error> {
        self.roots(id, chunk)
    }

    fn commit(self: Box<Self>) -> Result<(), Error> {
        self.finish("COMMIT")
    }

    fn commit_batch(self: Box<Self>) -> Result<(), Error> {
        if self.store.options.durable_batches {
            self.finish("COMMIT")
        } else {
            self.finish("SET LOCAL synchronous_commit TO OFF; COMMIT")
        }
    }
}

impl PostgresTransaction<'_> {
    /// Ends the transaction with `commit` (one round trip).
    fn finish(mut self: Box<Self>, commit: &str) -> Result<(), Error> {
        self.done = true;
        if self.aborted.is_some() {
            let _ = self.conn.client.batch_execute("ROLLBACK");
            return Err(Error::store(
                BACKEND,
                StoreErrorKind::Other,
                "the transaction was rolled back: a statement in it failed",
            ));
        }
        // A failed COMMIT (a deferred foreign key PostgreSQL finds violated)
        // ends the transaction, rolled back.
        self.conn.client.batch_execute(commit)?;
        Ok(())
    }
}
