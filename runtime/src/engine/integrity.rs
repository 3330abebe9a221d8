//! `check_integrity`: orphans per foreign key.
//!
//! Every table with a foreign key is read in primary-key order, one page of
//! `batch_rows` rows at a time, one read transaction per `rows_read` budget
//! (so a long audit does not hold one read snapshot open). For each row and
//! each of its foreign keys whose columns hold no NULL (MATCH SIMPLE), the
//! referenced row is looked up by its key; a missing one is an orphan.
//! The table scans are full scans by design (an audit reads every row); the
//! lookups are index-backed.

use std::sync::Arc;

use crate::engine::context::Ctx;
use crate::model::budget::Budget;
use crate::model::error::{Error, ForeignKeyName};
use crate::model::graph::has_null;
use crate::model::index_range::IndexRange;
use crate::model::metadata::IndexRef;
use crate::model::position::ScanPosition;
use crate::model::value::Key;
use crate::store::{Access, Store};

/// Options of [`Database::check_integrity`](crate::Database::check_integrity).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrityOptions {
    /// Rows per page (default 1,000).
    pub batch_rows: usize,
    /// Rows read per read transaction (default: the schema's budget's
    /// `rows_read`).
    pub rows_read: Option<u64>,
    /// Orphans' keys kept per foreign key, as examples (default 10).
    pub samples: usize,
}

impl Default for IntegrityOptions {
    fn default() -> Self {
        IntegrityOptions {
            batch_rows: 1_000,
            rows_read: None,
            samples: 10,
        }
    }
}

impl IntegrityOptions {
    /// Sets [`batch_rows`](Self::batch_rows) (at least 1).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Sets [`samples`](Self::samples).
    pub fn samples(mut self, samples: usize) -> Self {
        self.samples = samples;
        self
    }
}

/// The orphans of one foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForeignKeyOrphans {
    /// The foreign key.
    pub foreign_key: Arc<ForeignKeyName>,
    /// Rows of the child table whose key references no row.
    pub orphans: u64,
    /// Primary keys of the first orphans found (at most
    /// [`IntegrityOptions::samples`]).
    pub samples: Vec<Key>,
}

/// What [`Database::check_integrity`](crate::Database::check_integrity)
/// found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrityReport {
    /// Every foreign key of the schema, in schema order, with its orphans.
    pub foreign_keys: Vec<ForeignKeyOrphans>,
    /// Rows read from the child tables.
    pub rows_checked: u64,
    /// Read transactions used.
    pub transactions: u64,
}

impl IntegrityReport {
    /// Orphans in all.
    pub fn orphans(&self) -> u64 {
        self.foreign_keys.iter().map(|fk| fk.orphans).sum()
    }

    /// Whether no row references a missing row.
    pub fn is_clean(&self) -> bool {
        self.orphans() == 0
    }
}

/// Checks every foreign key of `store`'s schema.
pub(crate) fn check_integrity(
    store: &dyn Store,
    options: &IntegrityOptions,
) -> Result<IntegrityReport, Error> {
    let ctx = Ctx::new(store.schema())?;
    let rows_read = options
        .rows_read
        .or(store.schema().budget().rows_read)
        .or(Budget::DEFAULT.rows_read)
        .unwrap_or(u64::MAX);
    let mut report = IntegrityReport {
        foreign_keys: ctx
            .graph
            .fks
            .iter()
            .map(|fk| ForeignKeyOrphans {
                foreign_key: fk.name.clone(),
                orphans: 0,
                samples: Vec::new(),
            })
            .collect(),
        ..IntegrityReport::default()
    };
    let _span = tracing::debug_span!("check_integrity").entered();
    let mut tx = store.begin(Access::Read)?;
    report.transactions += 1;
    let mut read = 0u64;
    let page_rows = options.batch_rows.max(1);
    for table in 0..ctx.graph.tables.len() {
        let outgoing = &ctx.graph.tables[table].outgoing;
        if outgoing.is_empty() {
            continue;
        }
        let name = ctx.meta(table).name.clone();
        let range = IndexRange::new(name, IndexRef::PrimaryKey);
        let mut after: Option<ScanPosition> = None;
        loop {
            if read >= rows_read {
                drop(tx);
                tx = store.begin(Access::Read)?;
                report.transactions += 1;
                read = 0;
            }
            let page = tx.scan(&range, after.as_ref(), page_rows)?;
            read += page.len() as u64;
            report.rows_checked += page.len() as u64;
            for row in &page {
                for &f in outgoing {
                    let fk = ctx.fk(f);
                    let values = fk.child_values(row);
                    if has_null(&values) {
                        continue;
                    }
                    read += 1;
                    if ctx.parent(&mut *tx, fk, &values)?.is_none() {
                        let entry = &mut report.foreign_keys[f];
                        entry.orphans += 1;
                        if entry.samples.len() < options.samples {
                            entry.samples.push(ctx.pk_of(table, row));
                        }
                    }
                }
            }
            match page.last() {
                Some(last) if page.len() == page_rows => {
                    after = Some(ScanPosition {
                        index: ctx.pk_of(table, last),
                        key: ctx.pk_of(table, last),
                    });
                }
                _ => break,
            }
        }
    }
    Ok(report)
}
