//! The roots of a delete found by a condition (`delete_where`): a filter on
//! one table, read a page at a time through the index the planner picks,
//! so that no more than a page of roots is ever in memory; and which rows are
//! roots, for the upward search — the given keys, or the rows that match the
//! filter.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::engine::context::Ctx;
use crate::model::error::Error;
use crate::model::graph::TableId;
use crate::model::index_range::IndexRange;
use crate::model::metadata::{IndexRef, TableMeta};
use crate::model::planner::{self, Filter, FullScan, QueryPlan, ReadPath};
use crate::model::position::ScanPosition;
use crate::model::value::{Key, Row, Value};
use crate::store::Transaction;

/// The roots of a delete by condition: the rows of the roots' table that
/// match every filter, read in the order of the planned index, resumable
/// (serialisable with the job).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RootQuery {
    /// The condition, as given.
    filters: Vec<Filter>,
    /// The read that finds the matching rows, and the filters left to check.
    plan: QueryPlan,
    /// Where the read stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<ScanPosition>,
    /// Every matching row has been read.
    #[serde(default)]
    done: bool,
    /// Matching rows read so far.
    #[serde(default)]
    found: u64,
}

impl RootQuery {
    /// The query of the rows of `table` matching `filters`, read through an
    /// index that serves them (a full scan only with [`FullScan::Allow`]).
    ///
    /// # Errors
    /// [`Error::NoIndexServes`] when no index serves the filters and a full
    /// scan is refused.
    pub(crate) fn new(
        table: &TableMeta,
        filters: Vec<Filter>,
        scan: FullScan,
    ) -> Result<Self, Error> {
        let plan = planner::plan(table, &filters, scan)?;
        Ok(RootQuery {
            filters,
            plan,
            after: None,
            done: false,
            found: 0,
        })
    }

    /// The index range the plan reads (a whole primary-key scan when the
    /// caller allowed one).
    fn range(&self, table: &TableMeta) -> IndexRange {
        match &self.plan.access {
            ReadPath::Index(range) => range.clone(),
            ReadPath::Scan => IndexRange::new(table.name.clone(), IndexRef::PrimaryKey),
        }
    }

    /// Up to `limit` more matching rows of `table` (fewer only when the read
    /// is done); `read` counts the rows read, residual misses included.
    pub(crate) fn next_rows(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        limit: usize,
        read: &mut u64,
    ) -> Result<Vec<Row>, Error> {
        let meta = ctx.meta(table);
        let range = self.range(meta);
        let mut rows = Vec::new();
        while !self.done && rows.len() < limit {
            let page = tx.scan(&range, self.after.as_ref(), limit - rows.len())?;
            *read += page.len() as u64;
            self.done = page.len() < limit - rows.len();
            if let Some(last) = page.last() {
                self.after = Some(ScanPosition::after_row(ctx.schema, &range, last)?);
            }
            rows.extend(
                page.into_iter()
                    .filter(|row| self.plan.residual_matches(meta, row)),
            );
        }
        self.found += rows.len() as u64;
        Ok(rows)
    }

    /// Whether every matching row has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// How many matching rows have been read so far.
    pub(crate) fn found(&self) -> u64 {
        self.found
    }

    /// Restarts the read from the start (a retried job).
    pub(crate) fn restart(&mut self) {
        self.after = None;
        self.done = false;
    }

    /// Whether `row` of the roots' table matches the condition.
    pub(crate) fn matches(&self, table: &TableMeta, row: &[Value]) -> bool {
        self.filters.iter().all(|filter| {
            table
                .column_position(&filter.column)
                .and_then(|c| row.get(c))
                .is_some_and(|value| filter.matches(value))
        })
    }

    /// The keys of every matching row (of the table named `table`), read a
    /// page at a time — for the deletes that cannot run in batches.
    pub(crate) fn all_keys(
        &mut self,
        tx: &mut dyn Transaction,
        table: &str,
    ) -> Result<Vec<Key>, Error> {
        let schema = tx.schema().clone();
        let ctx = Ctx::new(&schema)?;
        let id = ctx.graph.resolve_table(table)?;
        let mut keys = Vec::new();
        let mut read = 0;
        while !self.done {
            let rows = self.next_rows(ctx, tx, id, 1_000, &mut read)?;
            keys.extend(rows.iter().map(|row| ctx.pk_of(id, row)));
        }
        Ok(keys)
    }
}

/// Which rows of the roots' table are roots, for the upward search.
#[derive(Debug, Clone)]
pub(crate) enum RootSet {
    /// The rows with these primary keys.
    Keys(HashSet<Key>),
    /// The rows that match a condition.
    Query(Box<RootQuery>),
}

impl RootSet {
    /// Whether `row` (primary key `key`) of the roots' table is a root.
    pub(crate) fn contains(&self, table: &TableMeta, key: &Key, row: &[Value]) -> bool {
        match self {
            RootSet::Keys(keys) => keys.contains(key),
            RootSet::Query(query) => query.matches(table, row),
        }
    }
}

impl From<HashSet<Key>> for RootSet {
    fn from(keys: HashSet<Key>) -> Self {
        RootSet::Keys(keys)
    }
}

/// The roots a walk or a delete starts from: given keys, or a condition.
#[derive(Debug, Clone)]
pub(crate) enum Start {
    /// The rows with these primary keys, in this order (a key may repeat).
    Keys(Vec<Key>),
    /// The rows that match a condition.
    Query(Box<RootQuery>),
}

impl Start {
    /// Which rows are roots.
    pub(crate) fn root_set(&self) -> RootSet {
        match self {
            Start::Keys(keys) => RootSet::Keys(keys.iter().cloned().collect()),
            Start::Query(query) => RootSet::Query(query.clone()),
        }
    }

    /// The first root's key, for messages about the whole operation (empty
    /// for a condition).
    pub(crate) fn first_key(&self) -> Key {
        match self {
            Start::Keys(keys) => keys.first().cloned().unwrap_or_default(),
            Start::Query(_) => Key::new(),
        }
    }
}

/// Reads roots a frame at a time: the rows of the roots' table for the
/// next keys (skipping repeats and missing rows), or the next matching rows.
pub(crate) struct RootReader {
    start: Start,
    /// Keys taken so far (given keys).
    next: usize,
}

impl RootReader {
    /// A reader from the start.
    pub(crate) fn new(start: Start) -> Self {
        RootReader { start, next: 0 }
    }

    /// Up to `limit` more root rows of `table`; empty once every root has
    /// been read. `read` counts the rows read.
    pub(crate) fn next_rows(
        &mut self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        table: TableId,
        limit: usize,
        read: &mut u64,
    ) -> Result<Vec<Row>, Error> {
        match &mut self.start {
            Start::Query(query) => query.next_rows(ctx, tx, table, limit, read),
            Start::Keys(keys) => {
                let name = &ctx.meta(table).name;
                let mut rows = Vec::new();
                let mut taken: HashSet<Key> = HashSet::new();
                while rows.is_empty() && self.next < keys.len() {
                    let end = (self.next + limit).min(keys.len());
                    for key in &keys[self.next..end] {
                        *read += 1;
                        if taken.insert(key.clone()) {
                            rows.extend(tx.get(name, key)?);
                        }
                    }
                    self.next = end;
                }
                Ok(rows)
            }
        }
    }
}
