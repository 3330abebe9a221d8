//! The SQLite store's transactions: SQL generated once per shape (table,
//! index, prefix length, range bounds, resume position) and prepared with
//! `prepare_cached`; identifiers quoted, values bound.

use std::rc::Rc;
use std::sync::{Arc, MutexGuard};

use rusqlite::types::ValueRef;
use rusqlite::{ErrorCode, params_from_iter};

use super::ddl::{is_rowid_table, quote};
use super::sql::{self, IN_CHUNK, ScanShape, SqlKey, Table, index_position};
use super::{Connected, sql_value};
use crate::model::error::{Error, Operation};
use crate::model::graph::{Graph, TableId};
use crate::model::index_range::IndexRange;
use crate::model::job::JobId;
use crate::model::metadata::TableMeta;
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};
use crate::store::scan::{
    children_one_by_one, delete_children_one_by_one, update_children_one_by_one,
};
use crate::store::{
    Access, ChildScan, ChildWrite, Claim, JobFilter, JobRow, OpenMark, Transaction, Written,
    range_columns,
};

/// A transaction: holds the connection until it ends.
pub(super) struct SqliteTransaction<'s> {
    pub(super) schema: &'s Schema,
    /// Per table, per index: the database's index that serves it.
    pub(super) index_names: &'s [Vec<Option<String>>],
    /// `PRAGMA foreign_keys` is on: SQLite runs the declared actions.
    pub(super) native_actions: bool,
    pub(super) graph: &'s Graph,
    pub(super) connected: MutexGuard<'s, Connected>,
    pub(super) access: Access,
    pub(super) savepoints: usize,
    pub(super) done: bool,
    pub(super) _mark: OpenMark,
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = super::run_cached(&self.connected.conn, "ROLLBACK");
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

impl<'s> SqliteTransaction<'s> {
    fn table_id(&self, name: &str) -> Result<TableId, Error> {
        self.graph.resolve_table(name)
    }

    fn writable(&self) -> Result<(), Error> {
        self.access.check_writable()
    }

    fn meta(&self, table: TableId) -> &'s TableMeta {
        self.schema.meta(table)
    }

    /// The SQL of `key`, built by `build` the first time.
    pub(super) fn sql(
        &mut self,
        key: SqlKey,
        full_scan_expected: bool,
        build: impl FnOnce() -> String,
    ) -> Arc<str> {
        if let Some(sql) = self.connected.sql.get(&key) {
            return sql.clone();
        }
        let sql: Arc<str> = build().into();
        self.connected
            .prepared
            .insert(sql.to_string(), full_scan_expected);
        self.connected.sql.insert(key, sql.clone());
        sql
    }

    /// Runs a query and reads at most `limit` rows. Scans carry no SQL
    /// `LIMIT`: SQLite's planner uses a bound LIMIT's value and recompiles
    /// the statement whenever it changes; stepping `limit` times over an
    /// index-ordered scan (never sorted: the index-backed test checks it)
    /// does the same work.
    fn query_rows(
        &self,
        sql: &str,
        params: &[&Value],
        columns: usize,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let mut statement = self.connected.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params_from_iter(params.iter()), |row| {
            (0..columns)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Row, _>>()
        })?;
        Ok(rows.take(limit).collect::<Result<_, _>>()?)
    }

    /// As [`query_rows`](Self::query_rows), with each row's serialised size
    /// ([`Value::size_bytes`] summed); columns `keep` marks false are
    /// measured in place and come back NULL.
    fn query_rows_sized(
        &self,
        sql: &str,
        params: &[&Value],
        columns: usize,
        limit: usize,
        keep: Option<&[bool]>,
    ) -> Result<Vec<(Row, u64)>, Error> {
        let mut statement = self.connected.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(row) = rows.next()? else {
                break;
            };
            let mut values = Vec::with_capacity(columns);
            let mut size = 0u64;
            for i in 0..columns {
                if keep.is_none_or(|keep| keep.get(i).copied().unwrap_or(true)) {
                    let value: Value = row.get(i)?;
                    size += value.size_bytes() as u64;
                    values.push(value);
                } else {
                    size += match row.get_ref(i)? {
                        ValueRef::Null => 1,
                        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
                        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.len() as u64,
                    };
                    values.push(Value::Null);
                }
            }
            out.push((values, size));
        }
        Ok(out)
    }

    fn execute(&self, sql: &str, params: &[&Value]) -> Result<usize, rusqlite::Error> {
        let mut statement = self.connected.conn.prepare_cached(sql)?;
        statement.execute(params_from_iter(params.iter()))
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

    /// What statements of `table` need from the schema.
    pub(super) fn table(&self, table: TableId) -> Table<'s> {
        let meta = self.meta(table);
        Table {
            meta,
            index_names: &self.index_names[table],
            pk: &self.graph.tables[table].pk,
            rowid: is_rowid_table(meta),
        }
    }

    /// The shape, index columns and parameters of a scan of `range` — or,
    /// with `in_list`, of the rows whose first index column after the
    /// prefix is one of those values (padded to [`IN_CHUNK`]) — resuming
    /// after `after`.
    pub(super) fn scan_plan<'v>(
        &self,
        range: &'v IndexRange,
        in_list: Option<&[&'v Value]>,
        after: Option<&'v ScanPosition>,
    ) -> Result<(ScanShape, Vec<usize>, Vec<&'v Value>), Error> {
        let id = self.table_id(&range.table)?;
        let index_columns = range_columns(self.schema, range)?;
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
        let (lower, upper) = match &range.range {
            Some(bounds) => (bound_code(&bounds.lower), bound_code(&bounds.upper)),
            None => (0, 0),
        };
        let shape = ScanShape {
            table: id,
            index: index_position(meta, &range.index),
            prefix,
            lower,
            upper,
            after: position.as_ref().map(|values| {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_null())
                    .fold(0u64, |mask, (i, _)| mask | (1 << (i % 64)))
            }),
            in_list: in_list.is_some(),
        };
        let mut params: Vec<&Value> = range.prefix.iter().collect();
        if let Some(values) = in_list {
            params.extend(values.iter().copied());
            let last = params[params.len() - 1];
            params.resize(prefix + IN_CHUNK, last);
        }
        if let Some(bounds) = &range.range {
            for bound in [&bounds.lower, &bounds.upper] {
                if let std::ops::Bound::Included(v) | std::ops::Bound::Excluded(v) = bound {
                    params.push(v);
                }
            }
        }
        params.extend(position.into_iter().flatten());
        Ok((shape, index_columns, params))
    }

    /// A scan of `range` (see [`scan_plan`](Self::scan_plan)). `keep`
    /// projects: columns it marks false come back NULL, measured but not
    /// copied.
    fn scan_inner(
        &mut self,
        range: &IndexRange,
        in_list: Option<&[&Value]>,
        after: Option<&ScanPosition>,
        limit: usize,
        keep: Option<&[bool]>,
        sizes: bool,
    ) -> Result<Vec<(Row, u64)>, Error> {
        let (shape, index_columns, params) = self.scan_plan(range, in_list, after)?;
        if limit == 0 || range.prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        let full_scan_expected =
            shape.prefix == 0 && shape.lower == 0 && shape.upper == 0 && !shape.in_list;
        let table = self.table(shape.table);
        let width = table.meta.columns.len();
        // Neither the other columns nor the sizes: the statement names only
        // the kept columns, so SQLite may answer from the index.
        let named = keep.filter(|_| !sizes);
        let key = SqlKey::Scan(shape.clone(), named.map(<[bool]>::to_vec));
        let sql = self.sql(key, full_scan_expected, || {
            sql::select(
                table,
                &sql::scan_parts(table, &index_columns, &shape),
                named,
            )
        });
        if named.is_some() {
            let rows = self.query_rows(&sql, &params, width, limit)?;
            return Ok(rows.into_iter().map(|row| (row, 0)).collect());
        }
        self.query_rows_sized(&sql, &params, width, limit, keep)
    }

    /// Whether the set-based statements can answer `scan` at once: the
    /// range has no prefix or bound of its own and every parent is one
    /// value (one statement per [`IN_CHUNK`] parents); otherwise the
    /// row-at-a-time defaults answer it.
    fn in_listable(&self, scan: &ChildScan<'_>) -> Result<bool, Error> {
        let index_columns = range_columns(self.schema, scan.range)?;
        Ok(scan.range.prefix.is_empty()
            && scan.range.range.is_none()
            && !index_columns.is_empty()
            && scan.prefixes.iter().all(|p| p.len() == 1))
    }

    /// The distinct non-NULL parent values of `scan`, sorted, from the
    /// resume position's on.
    pub(super) fn parent_values<'v>(scan: &ChildScan<'v>) -> Vec<&'v Value> {
        let mut values: Vec<&Value> = scan
            .prefixes
            .iter()
            .map(|p| &p[0])
            .filter(|v| !v.is_null())
            .collect();
        values.sort();
        values.dedup();
        if let Some(first) = scan.after.and_then(|after| after.index.first()) {
            values.retain(|v| *v >= first);
        }
        values
    }

    /// The resume position for the chunk `chunk` of parent values: the
    /// scan's, when its parent is in the chunk.
    pub(super) fn chunk_after<'v>(
        scan: &ChildScan<'v>,
        chunk: &[&Value],
    ) -> Option<&'v ScanPosition> {
        scan.after
            .filter(|after| after.index.first().is_some_and(|v| chunk.contains(&v)))
    }

    /// After SQLite refused a write with a UNIQUE / PRIMARY KEY error: the
    /// key that collides, found by looking each unique key up.
    fn duplicate(
        &mut self,
        table: TableId,
        row: &[Value],
        replacing: Option<&[Value]>,
        operation: Operation,
        error: rusqlite::Error,
    ) -> Error {
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
            let Ok(found) = self.scan(&range, None, 2) else {
                continue;
            };
            let collides = found.iter().any(|other| {
                let other_pk = self.graph.pk_of(table, other);
                Some(other_pk.as_slice()) != replacing
            });
            if collides {
                let meta = self.meta(table);
                return Error::Duplicate {
                    operation,
                    table: name,
                    key: pk,
                    columns: columns
                        .iter()
                        .map(|&c| meta.columns[c].name.clone())
                        .collect(),
                    values,
                };
            }
        }
        error.into()
    }
}

fn is_unique_error(error: &rusqlite::Error) -> bool {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => {
            failure.code == ErrorCode::ConstraintViolation
                && matches!(
                    failure.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
        }
        _ => false,
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn access(&self) -> Access {
        self.access
    }

    fn schema(&self) -> &Schema {
        self.schema
    }

    fn runs_native_actions(&self) -> bool {
        self.native_actions
    }

    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let table = self.table(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Get(id), false, || {
            format!(
                "SELECT {} FROM {} WHERE {}",
                table.column_list(),
                quote(&meta.name),
                table.equalities(&pk, 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = key.iter().collect();
        let mut rows = self.query_rows(&sql, &params, meta.columns.len(), 1)?;
        Ok(rows.pop())
    }

    fn scan(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        Ok(self
            .scan_inner(range, None, after, limit, None, true)?
            .into_iter()
            .map(|(row, _)| row)
            .collect())
    }

    /// One statement per [`IN_CHUNK`] parents when the foreign key has one
    /// column (`c IN (...)` searches the index, in order); the default
    /// (one scan per parent) otherwise. Columns outside `columns` come back
    /// NULL without being copied.
    fn scan_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        if !self.in_listable(scan)? {
            return children_one_by_one(self, scan);
        }
        let id = self.table_id(&scan.range.table)?;
        let keep: Option<Vec<bool>> = scan.columns.map(|columns| {
            let mut keep = vec![false; self.meta(id).columns.len()];
            for &c in columns {
                if let Some(slot) = keep.get_mut(c) {
                    *slot = true;
                }
            }
            keep
        });
        let values = Self::parent_values(scan);
        let mut out = Vec::new();
        for chunk in values.chunks(IN_CHUNK) {
            if out.len() >= scan.limit {
                break;
            }
            out.extend(self.scan_inner(
                scan.range,
                Some(chunk),
                Self::chunk_after(scan, chunk),
                scan.limit - out.len(),
                keep.as_deref(),
                scan.sizes,
            )?);
        }
        Ok(out)
    }

    /// `SELECT count(*)`, one statement per [`IN_CHUNK`] parents.
    fn count_children(&mut self, scan: &ChildScan<'_>) -> Result<u64, Error> {
        if !self.in_listable(scan)? {
            return crate::store::scan::count_children_by_pages(self, scan);
        }
        let values = Self::parent_values(scan);
        let mut count = 0u64;
        for chunk in values.chunks(IN_CHUNK) {
            let after = Self::chunk_after(scan, chunk);
            let (shape, index_columns, params) = self.scan_plan(scan.range, Some(chunk), after)?;
            let table = self.table(shape.table);
            let parts = || sql::scan_parts(table, &index_columns, &shape);
            let sql = self.sql(SqlKey::Count(shape.clone()), false, || sql::count(&parts()));
            let mut statement = self.connected.conn.prepare_cached(&sql)?;
            let found: i64 =
                statement.query_row(params_from_iter(params.iter()), |row| row.get(0))?;
            count += found as u64;
        }
        Ok(count)
    }

    /// `DELETE ... WHERE key IN (SELECT ... LIMIT n) RETURNING ...`, one
    /// statement per [`IN_CHUNK`] parents; the default (rows read, then
    /// deleted by key) for parents of several columns.
    fn delete_children(&mut self, write: &ChildWrite<'_>) -> Result<Written, Error> {
        self.writable()?;
        if !self.in_listable(&write.scan)? {
            return delete_children_one_by_one(self, write);
        }
        self.write_children(write, &[])
    }

    /// `UPDATE ... SET ... WHERE key IN (SELECT ... LIMIT n) RETURNING ...`,
    /// one statement per [`IN_CHUNK`] parents; the default (rows read, then
    /// replaced one by one) for parents of several columns.
    fn update_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: &[(usize, Value)],
    ) -> Result<Written, Error> {
        self.writable()?;
        if !self.in_listable(&write.scan)? {
            return update_children_one_by_one(self, write, set);
        }
        self.write_children(write, set)
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
        let meta = self.meta(id);
        let table = self.table(id);
        if limit == 0
            || values.iter().any(Value::is_null)
            || columns.len() != values.len()
            || columns.iter().any(|&c| c >= meta.columns.len())
        {
            return Ok(Vec::new());
        }
        if let Some(after) = after {
            self.check_key(id, after)?;
        }
        let pk = self.graph.tables[id].pk.clone();
        let key = SqlKey::ScanWhere {
            table: id,
            columns: columns.to_vec(),
            after: after.is_some(),
        };
        let sql = self.sql(key, true, || {
            let mut conditions = table.equalities(columns, 1);
            let next = columns.len() + 1;
            if after.is_some() {
                let names: Vec<String> = pk.iter().map(|&c| quote(&meta.columns[c].name)).collect();
                let params: Vec<String> = (0..pk.len()).map(|i| format!("?{}", next + i)).collect();
                conditions.push(format!("({}) > ({})", names.join(", "), params.join(", ")));
            }
            format!(
                "SELECT {} FROM {} WHERE {} ORDER BY {}",
                table.column_list(),
                quote(&meta.name),
                conditions.join(" AND "),
                pk.iter()
                    .map(|&c| quote(&meta.columns[c].name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut params: Vec<&Value> = values.iter().collect();
        if let Some(after) = after {
            params.extend(after.iter());
        }
        self.query_rows(&sql, &params, meta.columns.len(), limit)
    }

    fn insert(&mut self, table: &str, row: &[Value]) -> Result<(), Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        let meta = self.meta(id);
        let table = self.table(id);
        let sql = self.sql(SqlKey::Insert(id), false, || {
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(&meta.name),
                table.column_list(),
                (1..=meta.columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let params: Vec<&Value> = row.iter().collect();
        match self.execute(&sql, &params) {
            Ok(_) => Ok(()),
            Err(error) if is_unique_error(&error) => {
                Err(self.duplicate(id, row, None, Operation::Insert, error))
            }
            Err(error) => Err(error.into()),
        }
    }

    fn update(&mut self, table: &str, key: &[Value], row: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_shape(id, row)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let table = self.table(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Update(id), false, || {
            let all: Vec<usize> = (0..meta.columns.len()).collect();
            format!(
                "UPDATE {} SET {} WHERE {}",
                quote(&meta.name),
                table.equalities(&all, 1).join(", "),
                table.equalities(&pk, meta.columns.len() + 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = row.iter().chain(key).collect();
        match self.execute(&sql, &params) {
            Ok(changed) => Ok(changed > 0),
            Err(error) if is_unique_error(&error) => {
                Err(self.duplicate(id, row, Some(key), Operation::Update, error))
            }
            Err(error) => Err(error.into()),
        }
    }

    fn delete(&mut self, table: &str, key: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let table = self.table(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Delete(id), false, || {
            format!(
                "DELETE FROM {} WHERE {}",
                quote(&meta.name),
                table.equalities(&pk, 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = key.iter().collect();
        Ok(self.execute(&sql, &params)? > 0)
    }

    /// One statement when the primary key has one column (`key IN
    /// rarray(?1)`, each key searched); row by row otherwise (a row-value
    /// `IN` would scan the table).
    fn delete_many(&mut self, table: &str, keys: &[Key]) -> Result<u64, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        let pk = self.graph.tables[id].pk.clone();
        if pk.len() != 1 || keys.len() < 2 {
            let mut deleted = 0;
            for key in keys {
                deleted += u64::from(self.delete(table, key)?);
            }
            return Ok(deleted);
        }
        for key in keys {
            self.check_key(id, key)?;
        }
        let meta = self.meta(id);
        let sql = self.sql(SqlKey::DeleteMany(id), false, || {
            format!(
                "DELETE FROM {} WHERE {} IN rarray(?1)",
                quote(&meta.name),
                quote(&meta.columns[pk[0]].name),
            )
        });
        let keys: Rc<Vec<_>> = Rc::new(keys.iter().map(|key| sql_value(&key[0])).collect());
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement.execute([&keys as &dyn rusqlite::ToSql])? as u64)
    }

    fn savepoint(&mut self) -> Result<(), Error> {
        self.connected.conn.execute_batch("SAVEPOINT cascadia")?;
        self.savepoints += 1;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        self.connected.conn.execute_batch("RELEASE cascadia")?;
        self.savepoints -= 1;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), Error> {
        if self.savepoints == 0 {
            return Err(Error::NoSavepoint);
        }
        self.connected
            .conn
            .execute_batch("ROLLBACK TO cascadia; RELEASE cascadia")?;
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

    fn commit(mut self: Box<Self>) -> Result<(), Error> {
        self.done = true;
        if let Err(error) = super::run_cached(&self.connected.conn, "COMMIT") {
            // A failed COMMIT (e.g. SQLite's own deferred foreign-key check)
            // leaves the transaction open: end it.
            let _ = self.connected.conn.execute_batch("ROLLBACK");
            return Err(error);
        }
        Ok(())
    }
}

impl SqliteTransaction<'_> {
    /// Notes a statement the store prepared (for the index-backed test).
    pub(super) fn record(&mut self, sql: &str, full_scan_expected: bool) {
        if !self.connected.prepared.contains_key(sql) {
            self.connected
                .prepared
                .insert(sql.to_owned(), full_scan_expected);
        }
    }
}
