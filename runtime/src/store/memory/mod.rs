//! `MemoryStore`: rows in ordered maps, one per index, with transactions
//! that keep an undo log and roll back when dropped. The simplest embedded
//! store, and the reference the conformance and differential tests hold the
//! other backends to.

use std::collections::{BTreeMap, BTreeSet};

mod jobs;

use jobs::{JobUndo, Jobs};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Access, Capabilities, Claim, JobFilter, JobRow, OpenMark, Store, Transaction};
use crate::model::error::{Error, Operation};
use crate::model::graph::{Graph, TableId};
use crate::model::index_range::IndexRange;
use crate::model::job::JobId;
use crate::model::metadata::{IndexRef, Name};
use crate::model::position::ScanPosition;
use crate::model::schema::Schema;
use crate::model::value::{Key, Row, Value};

/// An in-memory store: per table, the rows in a `BTreeMap` by primary key
/// and one ordered set per secondary index; unique keys enforced (NULLs never
/// collide); transactions with an undo log that roll back when dropped.
///
/// Cloning is cheap and the clones share the data, so a worker thread can use
/// one. One transaction runs at a time: `begin` waits for the current one to
/// end (or fails with [`Error::NestedTransaction`] on the thread holding it).
#[derive(Clone)]
pub struct MemoryStore {
    schema: Schema,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

struct State {
    tables: Vec<TableData>,
    jobs: Jobs,
}

struct TableData {
    name: Name,
    columns: usize,
    /// Column positions and names of the primary key.
    pk: Vec<usize>,
    pk_names: Vec<Name>,
    rows: BTreeMap<Key, Row>,
    /// Secondary indexes, in the order of the table's metadata.
    indexes: Vec<IndexData>,
}

struct IndexData {
    name: Name,
    columns: Vec<usize>,
    column_names: Vec<Name>,
    unique: bool,
    /// (index values, primary key): ordered as a scan returns rows.
    entries: BTreeSet<(Key, Key)>,
}

impl TableData {
    fn pk_of(&self, row: &[Value]) -> Key {
        self.pk.iter().map(|&c| row[c].clone()).collect()
    }
}

fn project(row: &[Value], columns: &[usize]) -> Key {
    columns.iter().map(|&c| row[c].clone()).collect()
}

impl MemoryStore {
    /// An empty store for the tables of `schema`.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] if the schema breaks a rule.
    pub fn new(schema: Schema) -> Result<Self, Error> {
        let graph = schema.graph()?;
        let tables = schema
            .tables()
            .enumerate()
            .map(|(id, meta)| TableData {
                name: meta.name.clone(),
                columns: meta.columns.len(),
                pk: graph.tables[id].pk.clone(),
                pk_names: meta.primary_key.to_vec(),
                rows: BTreeMap::new(),
                indexes: meta
                    .indexes
                    .iter()
                    .map(|index| IndexData {
                        name: index.name.clone(),
                        columns: index
                            .columns
                            .iter()
                            .filter_map(|c| meta.column_position(c))
                            .collect(),
                        column_names: index.columns.to_vec(),
                        unique: index.unique,
                        entries: BTreeSet::new(),
                    })
                    .collect(),
            })
            .collect();
        Ok(MemoryStore {
            schema,
            state: Arc::new(Mutex::new(State {
                tables,
                jobs: Jobs::default(),
            })),
        })
    }
}

impl Store for MemoryStore {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            backend: "memory",
            durable: false,
            native_foreign_keys: false,
            concurrent_readers: false,
            savepoints: true,
            serialized_writes: true,
            parents_per_statement: 64,
        }
    }

    fn begin(&self, access: Access) -> Result<Box<dyn Transaction + '_>, Error> {
        let mark = OpenMark::new(Arc::as_ptr(&self.state) as usize)?;
        // A panic inside a transaction rolls it back in `Drop` before the
        // lock is released, so a poisoned lock still guards consistent data.
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(Box::new(MemoryTransaction {
            schema: &self.schema,
            graph: self.schema.graph()?,
            state,
            undo: Vec::new(),
            savepoints: Vec::new(),
            access,
            committed: false,
            _mark: mark,
        }))
    }
}

/// One undoable change.
enum Undo {
    Inserted { table: TableId, key: Key },
    Deleted { table: TableId, row: Row },
    Updated { table: TableId, key: Key, old: Row },
    Job(JobUndo),
}

struct MemoryTransaction<'s> {
    schema: &'s Schema,
    graph: &'s Graph,
    state: MutexGuard<'s, State>,
    undo: Vec<Undo>,
    /// Undo-log lengths at each open savepoint.
    savepoints: Vec<usize>,
    access: Access,
    committed: bool,
    _mark: OpenMark,
}

impl MemoryTransaction<'_> {
    fn table_id(&self, name: &str) -> Result<TableId, Error> {
        self.graph.resolve_table(name)
    }

    fn writable(&self) -> Result<(), Error> {
        self.access.check_writable()
    }

    fn check_shape(table: &TableData, row: &[Value]) -> Result<(), Error> {
        if row.len() == table.columns {
            Ok(())
        } else {
            Err(Error::RowShape {
                table: table.name.clone(),
                expected: table.columns,
                found: row.len(),
            })
        }
    }

    fn check_key(table: &TableData, key: &[Value]) -> Result<(), Error> {
        if key.len() == table.pk.len() {
            Ok(())
        } else {
            Err(Error::KeyShape {
                table: table.name.clone(),
                expected: table.pk.len(),
                found: key.len(),
            })
        }
    }

    /// Fails if `row` would collide with a row other than the one whose
    /// primary key is `replacing`.
    fn check_unique(
        table: &TableData,
        row: &[Value],
        replacing: Option<&Key>,
        operation: Operation,
    ) -> Result<(), Error> {
        let pk = table.pk_of(row);
        // The row named is the one written: by its old key when its key
        // changes, not by the key that collides.
        let named = replacing.cloned().unwrap_or_else(|| pk.clone());
        let duplicate = |columns: &[Name], values: Key| Error::Duplicate {
            operation,
            table: table.name.clone(),
            key: named.clone(),
            columns: columns.to_vec(),
            values,
        };
        if replacing != Some(&pk) && table.rows.contains_key(&pk) {
            return Err(duplicate(&table.pk_names, pk.clone()));
        }
        for index in table.indexes.iter().filter(|i| i.unique) {
            let values = project(row, &index.columns);
            if values.iter().any(Value::is_null) {
                continue;
            }
            let start = (values.clone(), Vec::new());
            let taken = index
                .entries
                .range(start..)
                .take_while(|(v, _)| *v == values)
                .any(|(_, other)| Some(other) != replacing);
            if taken {
                return Err(duplicate(&index.column_names, values));
            }
        }
        Ok(())
    }

    fn add(table: &mut TableData, row: Row) {
        let pk = table.pk_of(&row);
        for index in &mut table.indexes {
            index
                .entries
                .insert((project(&row, &index.columns), pk.clone()));
        }
        table.rows.insert(pk, row);
    }

    fn remove(table: &mut TableData, key: &[Value]) -> Option<Row> {
        let row = table.rows.remove(key)?;
        for index in &mut table.indexes {
            index
                .entries
                .remove(&(project(&row, &index.columns), key.to_vec()));
        }
        Some(row)
    }

    fn apply_undo(&mut self, undo: Undo) {
        match undo {
            Undo::Inserted { table, key } => {
                Self::remove(&mut self.state.tables[table], &key);
            }
            Undo::Deleted { table, row } => Self::add(&mut self.state.tables[table], row),
            Undo::Updated { table, key, old } => {
                let data = &mut self.state.tables[table];
                Self::remove(data, &key);
                Self::add(data, old);
            }
            Undo::Job(undo) => self.state.jobs.undo(undo),
        }
    }

    fn undo_to(&mut self, length: usize) {
        while self.undo.len() > length {
            if let Some(undo) = self.undo.pop() {
                self.apply_undo(undo);
            }
        }
    }
}

impl Drop for MemoryTransaction<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.undo_to(0);
        }
    }
}

/// Whether `values` (a row's index values) starts with `prefix`.
fn starts_with(values: &[Value], prefix: &[Value]) -> bool {
    values.len() >= prefix.len() && values[..prefix.len()] == *prefix
}

/// Scan state shared by the primary-key and secondary-index paths: decides
/// for each entry, in index order, whether to take it, skip it or stop.
enum Step {
    Take,
    Skip,
    Stop,
}

fn step(range: &IndexRange, index_values: &[Value]) -> Step {
    if !starts_with(index_values, &range.prefix) {
        return Step::Stop;
    }
    if range.prefix.iter().any(Value::is_null) {
        return Step::Stop;
    }
    match &range.range {
        None => Step::Take,
        Some(bounds) => {
            let Some(value) = index_values.get(range.prefix.len()) else {
                return Step::Skip;
            };
            let below_upper = match &bounds.upper {
                Bound::Included(upper) => value <= upper,
                Bound::Excluded(upper) => value < upper,
                Bound::Unbounded => true,
            };
            if !value.is_null() && !below_upper {
                Step::Stop
            } else if bounds.contains(value) {
                Step::Take
            } else {
                Step::Skip
            }
        }
    }
}

/// Where a scan starts: the prefix, extended by an inclusive lower bound.
fn scan_start(range: &IndexRange) -> Key {
    let mut start = range.prefix.clone();
    if let Some(bounds) = &range.range {
        match &bounds.lower {
            Bound::Included(lower) | Bound::Excluded(lower) => start.push(lower.clone()),
            Bound::Unbounded => {}
        }
    }
    start
}

impl Transaction for MemoryTransaction<'_> {
    fn access(&self) -> Access {
        self.access
    }

    fn schema(&self) -> &Schema {
        self.schema
    }

    fn get(&mut self, table: &str, key: &[Value]) -> Result<Option<Row>, Error> {
        let data = &self.state.tables[self.table_id(table)?];
        Self::check_key(data, key)?;
        Ok(data.rows.get(key).cloned())
    }

    fn scan(
        &mut self,
        range: &IndexRange,
        after: Option<&ScanPosition>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let id = self.table_id(&range.table)?;
        let data = &self.state.tables[id];
        let mut rows = Vec::new();
        if limit == 0 {
            return Ok(rows);
        }
        let start = scan_start(range);
        match &range.index {
            IndexRef::PrimaryKey => {
                if range.prefix.len() > data.pk.len()
                    || (range.range.is_some() && range.prefix.len() >= data.pk.len())
                {
                    return Err(Error::InvalidRange {
                        table: data.name.clone(),
                        reason: "too many columns for the primary key".to_owned(),
                    });
                }
                let lower = match after {
                    Some(after) if after.key >= start => Bound::Excluded(after.key.clone()),
                    _ => Bound::Included(start),
                };
                for (key, row) in data.rows.range((lower, Bound::Unbounded)) {
                    match step(range, key) {
                        Step::Take => {
                            rows.push(row.clone());
                            if rows.len() == limit {
                                break;
                            }
                        }
                        Step::Skip => {}
                        Step::Stop => break,
                    }
                }
            }
            IndexRef::Index(name) => {
                let index = data
                    .indexes
                    .iter()
                    .find(|i| i.name == *name)
                    .ok_or_else(|| Error::InvalidRange {
                        table: data.name.clone(),
                        reason: format!("no index `{name}`"),
                    })?;
                if range.prefix.len() > index.columns.len()
                    || (range.range.is_some() && range.prefix.len() >= index.columns.len())
                {
                    return Err(Error::InvalidRange {
                        table: data.name.clone(),
                        reason: format!("too many columns for index `{name}`"),
                    });
                }
                let start = (start, Vec::new());
                let lower = match after {
                    Some(after) => {
                        let position = (after.index.clone(), after.key.clone());
                        if position >= start {
                            Bound::Excluded(position)
                        } else {
                            Bound::Included(start)
                        }
                    }
                    None => Bound::Included(start),
                };
                for (values, key) in index.entries.range((lower, Bound::Unbounded)) {
                    match step(range, values) {
                        Step::Take => {
                            if let Some(row) = data.rows.get(key) {
                                rows.push(row.clone());
                            }
                            if rows.len() == limit {
                                break;
                            }
                        }
                        Step::Skip => {}
                        Step::Stop => break,
                    }
                }
            }
            IndexRef::Unindexed => {
                return Err(Error::InvalidRange {
                    table: data.name.clone(),
                    reason: "an index scan needs an index, not `Unindexed`".to_owned(),
                });
            }
        }
        Ok(rows)
    }

    fn scan_where(
        &mut self,
        table: &str,
        columns: &[usize],
        values: &[Value],
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>, Error> {
        let data = &self.state.tables[self.table_id(table)?];
        if values.iter().any(Value::is_null) || columns.iter().any(|&c| c >= data.columns) {
            return Ok(Vec::new());
        }
        let lower = match after {
            Some(after) => Bound::Excluded(after.to_vec()),
            None => Bound::Unbounded,
        };
        Ok(data
            .rows
            .range((lower, Bound::Unbounded))
            .map(|(_, row)| row)
            .filter(|row| columns.iter().zip(values).all(|(&c, v)| row[c] == *v))
            .take(limit)
            .cloned()
            .collect())
    }

    fn insert(&mut self, table: &str, row: &[Value]) -> Result<(), Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        let data = &mut self.state.tables[id];
        Self::check_shape(data, row)?;
        Self::check_unique(data, row, None, Operation::Insert)?;
        let key = data.pk_of(row);
        Self::add(data, row.to_vec());
        self.undo.push(Undo::Inserted { table: id, key });
        Ok(())
    }

    fn update(&mut self, table: &str, key: &[Value], row: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        let data = &mut self.state.tables[id];
        Self::check_shape(data, row)?;
        Self::check_key(data, key)?;
        if !data.rows.contains_key(key) {
            return Ok(false);
        }
        let key = key.to_vec();
        Self::check_unique(data, row, Some(&key), Operation::Update)?;
        let new_key = data.pk_of(row);
        let Some(old) = Self::remove(data, &key) else {
            return Ok(false);
        };
        Self::add(data, row.to_vec());
        self.undo.push(Undo::Updated {
            table: id,
            key: new_key,
            old,
        });
        Ok(true)
    }

    fn delete(&mut self, table: &str, key: &[Value]) -> Result<bool, Error> {
        self.writable()?;
        let id = self.table_id(table)?;
        let data = &mut self.state.tables[id];
        Self::check_key(data, key)?;
        match Self::remove(data, key) {
            Some(row) => {
                self.undo.push(Undo::Deleted { table: id, row });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn savepoint(&mut self) -> Result<(), Error> {
        self.savepoints.push(self.undo.len());
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), Error> {
        self.savepoints.pop().map(|_| ()).ok_or(Error::NoSavepoint)
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), Error> {
        let length = self.savepoints.pop().ok_or(Error::NoSavepoint)?;
        self.undo_to(length);
        Ok(())
    }

    fn insert_job(&mut self, job: &JobRow) -> Result<JobId, Error> {
        self.insert_job_row(job)
    }

    fn job(&mut self, id: JobId) -> Result<Option<JobRow>, Error> {
        Ok(self.job_row(id))
    }

    fn update_job(&mut self, job: &JobRow) -> Result<bool, Error> {
        self.update_job_row(job)
    }

    fn delete_job(&mut self, id: JobId) -> Result<bool, Error> {
        self.delete_job_row(id)
    }

    fn list_jobs(&mut self, filter: JobFilter) -> Result<Vec<JobRow>, Error> {
        Ok(self.list_job_rows(filter))
    }

    fn claim_job(&mut self, claim: &Claim<'_>) -> Result<Option<JobRow>, Error> {
        self.claim_job_row(claim)
    }

    fn put_job_roots(&mut self, id: JobId, chunk: u64, keys: &[u8]) -> Result<(), Error> {
        self.put_roots(id, chunk, keys)
    }

    fn job_roots(&mut self, id: JobId, chunk: u64) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.roots(id, chunk))
    }

    fn commit(mut self: Box<Self>) -> Result<(), Error> {
        self.committed = true;
        self.undo.clear();
        Ok(())
    }
}
