//! The SQLite store's transactions: SQL generated once per shape (table,
//! index, prefix length, range bounds, resume position) and prepared with
//! `prepare_cached`; identifiers quoted, values bound.

use std::sync::{Arc, MutexGuard};

use rusqlite::types::ValueRef;
use rusqlite::{ErrorCode, params_from_iter};

use super::ddl::{index_name, quote};
use super::{Connected, DELETE_CHUNK, IN_CHUNK, JOBS_TABLE, SqlKey};
use crate::model::error::{Error, Operation};
use crate::model::graph::{Graph, TableId};
use crate::model::index_range::IndexRange;
use crate::model::metadata::{IndexRef, TableMeta};
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};
use crate::store::{
    Access, ChildScan, JobRecord, OpenMark, Transaction, children_one_by_one, range_columns,
};

/// A transaction: holds the connection until it ends.
pub(super) struct SqliteTransaction<'s> {
    pub(super) schema: &'s Schema,
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
            let _ = self.connected.conn.execute_batch("ROLLBACK");
        }
    }
}

fn column_list(table: &TableMeta) -> String {
    table
        .columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn equalities(table: &TableMeta, columns: &[usize], first_param: usize) -> Vec<String> {
    columns
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{} = ?{}", quote(&table.columns[c].name), first_param + i))
        .collect()
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
    fn sql(
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

    /// A scan of `range`, or, with `in_list`, of the rows whose first index
    /// column is one of those values (padded to [`IN_CHUNK`]; `range` has
    /// no prefix then). `keep` projects: columns it marks false come back
    /// NULL, measured but not copied.
    fn scan_inner(
        &mut self,
        range: &IndexRange,
        in_list: Option<&[&Value]>,
        after: Option<&ScanPosition>,
        limit: usize,
        keep: Option<&[bool]>,
    ) -> Result<Vec<(Row, u64)>, Error> {
        let id = self.table_id(&range.table)?;
        let index_columns = range_columns(self.schema, range)?;
        if limit == 0 || range.prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let index = match &range.index {
            IndexRef::Index(name) => meta.indexes.iter().position(|i| i.name == *name),
            _ => None,
        };
        let prefix = range.prefix.len();
        // The order columns after the prefix: the index's remaining columns,
        // then the primary key's columns the index does not hold.
        let mut rest: Vec<usize> = index_columns[prefix..].to_vec();
        rest.extend(pk.iter().filter(|c| !index_columns.contains(c)));
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
        if let Some(position) = &position {
            if position.len() != rest.len() {
                return Err(Error::InvalidRange {
                    table: meta.name.clone(),
                    reason: "the resume position does not fit the index".to_owned(),
                });
            }
        }
        let null_mask = position.as_ref().map(|values| {
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_null())
                .fold(0u64, |mask, (i, _)| mask | (1 << (i % 64)))
        });
        let (lower, upper) = match &range.range {
            Some(bounds) => (bound_code(&bounds.lower), bound_code(&bounds.upper)),
            None => (0, 0),
        };
        let key = SqlKey::Scan {
            table: id,
            index,
            prefix,
            lower,
            upper,
            after: null_mask,
            in_list: in_list.is_some(),
        };
        let full_scan_expected = prefix == 0 && range.range.is_none() && in_list.is_none();
        let sql = self.sql(key, full_scan_expected, || {
            let mut conditions = equalities(meta, &index_columns[..prefix], 1);
            let mut next = prefix + 1;
            if in_list.is_some() {
                let column = quote(&meta.columns[index_columns[0]].name);
                let params: Vec<String> = (1..=IN_CHUNK).map(|i| format!("?{i}")).collect();
                conditions.push(format!("{column} IN ({})", params.join(", ")));
                next = IN_CHUNK + 1;
            }
            if range.range.is_some() {
                let column = quote(&meta.columns[index_columns[prefix]].name);
                for (code, op_incl, op_excl) in [(lower, ">=", ">"), (upper, "<=", "<")] {
                    let op = match code {
                        1 => op_incl,
                        2 => op_excl,
                        _ => continue,
                    };
                    conditions.push(format!("{column} {op} ?{next}"));
                    next += 1;
                }
            }
            if let Some(mask) = null_mask {
                let names: Vec<String> =
                    rest.iter().map(|&c| quote(&meta.columns[c].name)).collect();
                let params: Vec<String> =
                    (0..rest.len()).map(|i| format!("?{}", next + i)).collect();
                if mask == 0 {
                    conditions.push(format!("({}) > ({})", names.join(", "), params.join(", ")));
                } else {
                    // NULL positions: the lexicographic "after", spelled out
                    // with NULL sorting first, as SQLite orders it.
                    let null = |i: usize| mask & (1 << (i % 64)) != 0;
                    let alternatives: Vec<String> = (0..rest.len())
                        .map(|i| {
                            let mut terms: Vec<String> = (0..i)
                                .map(|j| {
                                    if null(j) {
                                        format!("{} IS NULL", names[j])
                                    } else {
                                        format!("{} = {}", names[j], params[j])
                                    }
                                })
                                .collect();
                            terms.push(if null(i) {
                                format!("{} IS NOT NULL", names[i])
                            } else {
                                format!("{} > {}", names[i], params[i])
                            });
                            format!("({})", terms.join(" AND "))
                        })
                        .collect();
                    conditions.push(format!("({})", alternatives.join(" OR ")));
                }
            }
            let order: Vec<String> = index_columns
                .iter()
                .chain(pk.iter().filter(|c| !index_columns.contains(c)))
                .map(|&c| quote(&meta.columns[c].name))
                .collect();
            let indexed_by = match (&range.index, index) {
                (IndexRef::Index(name), Some(_)) => {
                    format!(" INDEXED BY {}", quote(&index_name(&meta.name, name)))
                }
                _ => String::new(),
            };
            format!(
                "SELECT {} FROM {}{}{} ORDER BY {}",
                column_list(meta),
                quote(&meta.name),
                indexed_by,
                if conditions.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", conditions.join(" AND "))
                },
                order.join(", ")
            )
        });
        let mut params: Vec<&Value> = range.prefix.iter().collect();
        if let Some(values) = in_list {
            params.extend(values.iter().copied());
            while params.len() < IN_CHUNK {
                params.push(params[params.len() - 1]);
            }
        }
        if let Some(bounds) = &range.range {
            for bound in [&bounds.lower, &bounds.upper] {
                if let std::ops::Bound::Included(v) | std::ops::Bound::Excluded(v) = bound {
                    params.push(v);
                }
            }
        }
        if let Some(position) = &position {
            params.extend(position.iter().copied());
        }
        self.query_rows_sized(&sql, &params, meta.columns.len(), limit, keep)
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
        let pk = self.graph.pk_of(table, row);
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

    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let id = self.table_id(table)?;
        self.check_key(id, key)?;
        let meta = self.meta(id);
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Get(id), false, || {
            format!(
                "SELECT {} FROM {} WHERE {}",
                column_list(meta),
                quote(&meta.name),
                equalities(meta, &pk, 1).join(" AND ")
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
            .scan_inner(range, None, after, limit, None)?
            .into_iter()
            .map(|(row, _)| row)
            .collect())
    }

    /// One statement per [`IN_CHUNK`] parents when the foreign key has one
    /// column (`c IN (...)` searches the index, in order); the default
    /// (one scan per parent) otherwise. Columns outside `columns` come back
    /// NULL without being copied.
    fn scan_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        let id = self.table_id(&scan.range.table)?;
        let index_columns = range_columns(self.schema, scan.range)?;
        let single = !scan.range.prefix.is_empty() || scan.range.range.is_some();
        if single || scan.prefixes.iter().any(|p| p.len() != 1) || index_columns.is_empty() {
            return children_one_by_one(self, scan);
        }
        let keep: Option<Vec<bool>> = scan.columns.map(|columns| {
            let mut keep = vec![false; self.meta(id).columns.len()];
            for &c in columns {
                if let Some(slot) = keep.get_mut(c) {
                    *slot = true;
                }
            }
            keep
        });
        let mut values: Vec<&Value> = scan
            .prefixes
            .iter()
            .map(|p| &p[0])
            .filter(|v| !v.is_null())
            .collect();
        values.sort();
        values.dedup();
        if let Some(after) = scan.after {
            if let Some(first) = after.index.first() {
                values.retain(|v| *v >= first);
            }
        }
        let mut out = Vec::new();
        for chunk in values.chunks(IN_CHUNK) {
            if out.len() >= scan.limit {
                break;
            }
            let after = scan
                .after
                .filter(|after| after.index.first().is_some_and(|v| chunk.contains(&v)));
            out.extend(self.scan_inner(
                scan.range,
                Some(chunk),
                after,
                scan.limit - out.len(),
                keep.as_deref(),
            )?);
        }
        Ok(out)
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
            let mut conditions = equalities(meta, columns, 1);
            let next = columns.len() + 1;
            if after.is_some() {
                let names: Vec<String> = pk.iter().map(|&c| quote(&meta.columns[c].name)).collect();
                let params: Vec<String> = (0..pk.len()).map(|i| format!("?{}", next + i)).collect();
                conditions.push(format!("({}) > ({})", names.join(", "), params.join(", ")));
            }
            format!(
                "SELECT {} FROM {} WHERE {} ORDER BY {}",
                column_list(meta),
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
        let sql = self.sql(SqlKey::Insert(id), false, || {
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quote(&meta.name),
                column_list(meta),
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
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Update(id), false, || {
            let all: Vec<usize> = (0..meta.columns.len()).collect();
            format!(
                "UPDATE {} SET {} WHERE {}",
                quote(&meta.name),
                equalities(meta, &all, 1).join(", "),
                equalities(meta, &pk, meta.columns.len() + 1).join(" AND ")
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
        let pk = self.graph.tables[id].pk.clone();
        let sql = self.sql(SqlKey::Delete(id), false, || {
            format!(
                "DELETE FROM {} WHERE {}",
                quote(&meta.name),
                equalities(meta, &pk, 1).join(" AND ")
            )
        });
        let params: Vec<&Value> = key.iter().collect();
        Ok(self.execute(&sql, &params)? > 0)
    }

    /// One statement per [`DELETE_CHUNK`] keys when the primary key has one
    /// column (`IN` searches the key, a short chunk repeats its last key);
    /// row by row otherwise (a row-value `IN` would scan the table).
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
                "DELETE FROM {} WHERE {} IN ({})",
                quote(&meta.name),
                quote(&meta.columns[pk[0]].name),
                (1..=DELETE_CHUNK)
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut deleted = 0u64;
        for chunk in keys.chunks(DELETE_CHUNK) {
            let mut params: Vec<&Value> = chunk.iter().map(|key| &key[0]).collect();
            while params.len() < DELETE_CHUNK {
                params.push(params[params.len() - 1]);
            }
            deleted += self.execute(&sql, &params)? as u64;
        }
        Ok(deleted)
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

    fn put_job(&mut self, id: &str, state: &[u8]) -> Result<(), Error> {
        self.writable()?;
        let sql = format!(
            "INSERT INTO {} (id, state) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            quote(JOBS_TABLE)
        );
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        statement.execute(rusqlite::params![id, state])?;
        Ok(())
    }

    fn get_job(&mut self, id: &str) -> Result<Option<Vec<u8>>, Error> {
        let sql = format!("SELECT state FROM {} WHERE id = ?1", quote(JOBS_TABLE));
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let mut rows = statement.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(row.get(0)?)),
            None => Ok(None),
        }
    }

    fn delete_job(&mut self, id: &str) -> Result<bool, Error> {
        self.writable()?;
        let sql = format!("DELETE FROM {} WHERE id = ?1", quote(JOBS_TABLE));
        self.record(&sql, false);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        Ok(statement.execute([id])? > 0)
    }

    fn list_jobs(&mut self) -> Result<Vec<JobRecord>, Error> {
        let sql = format!("SELECT id, state FROM {} ORDER BY id", quote(JOBS_TABLE));
        self.record(&sql, true);
        let mut statement = self.connected.conn.prepare_cached(&sql)?;
        let rows = statement.query_map([], |row| {
            Ok(JobRecord {
                id: row.get(0)?,
                state: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit(mut self: Box<Self>) -> Result<(), Error> {
        self.done = true;
        if let Err(error) = self.connected.conn.execute_batch("COMMIT") {
            // A failed COMMIT (e.g. SQLite's own deferred foreign-key check)
            // leaves the transaction open: end it.
            let _ = self.connected.conn.execute_batch("ROLLBACK");
            return Err(error.into());
        }
        Ok(())
    }
}

impl SqliteTransaction<'_> {
    fn record(&mut self, sql: &str, full_scan_expected: bool) {
        if !self.connected.prepared.contains_key(sql) {
            self.connected
                .prepared
                .insert(sql.to_owned(), full_scan_expected);
        }
    }
}
