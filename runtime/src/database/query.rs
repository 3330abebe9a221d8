//! Reads by filters known only at run time: the [`planner`](crate::model::planner)'s
//! plan, executed through a store's index scans.

use serde::de::DeserializeOwned;

use super::{Database, Tx};
use crate::model::error::Error;
use crate::model::planner::{Filter, FullScan, ReadPath, plan};
use crate::model::serde_value::from_row;
use crate::model::table::Table;
use crate::model::value::Row;

/// Rows read per page of the index scan behind a query.
const PAGE_ROWS: usize = 1_000;

impl Tx<'_> {
    /// Every row of `table` that satisfies all of `filters`, in the order of
    /// the index read (index columns, then primary key).
    ///
    /// The read goes through the index the [`planner`](crate::model::planner) picks —
    /// equality on its first columns, then at most one range — and the
    /// filters the index does not cover are checked on each row it returns.
    /// With [`FullScan::Allow`], filters that no index serves read the whole table.
    ///
    /// # Errors
    /// [`Error::NoIndexServes`] when no index serves the filters and
    /// `scan` is [`FullScan::Refuse`]; [`Error::UnknownTable`]; store errors.
    pub fn query_rows(
        &mut self,
        table: &str,
        filters: &[Filter],
        scan: FullScan,
    ) -> Result<Vec<Row>, Error> {
        let meta = self
            .schema()
            .table(table)
            .ok_or_else(|| Error::UnknownTable {
                table: table.to_owned(),
            })?
            .clone();
        let plan = plan(&meta, filters, scan)?;
        let candidates = match &plan.access {
            ReadPath::Scan => self.rows(table)?,
            ReadPath::Index(range) => {
                let mut rows = Vec::new();
                let mut after = None;
                loop {
                    let page = self.scan_rows(range, after.as_ref(), PAGE_ROWS)?;
                    rows.extend(page.rows);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break rows,
                    }
                }
            }
        };
        Ok(candidates
            .into_iter()
            .filter(|row| plan.residual_matches(&meta, row))
            .collect())
    }

    /// Every row of `T` that satisfies all of `filters`: see
    /// [`query_rows`](Tx::query_rows).
    ///
    /// # Errors
    /// As [`query_rows`](Tx::query_rows); [`Error::Conversion`] if a row does
    /// not fit `T`.
    pub fn query<T: Table + DeserializeOwned>(
        &mut self,
        filters: &[Filter],
        scan: FullScan,
    ) -> Result<Vec<T>, Error> {
        self.query_rows(&T::META.name, filters, scan)?
            .into_iter()
            .map(|row| from_row(T::META, row).map_err(Error::from))
            .collect()
    }
}

impl Database {
    /// Untyped rows by dynamic filters, in one read transaction: see
    /// [`Tx::query_rows`].
    ///
    /// # Errors
    /// As [`Tx::query_rows`].
    pub fn query_rows(
        &self,
        table: &str,
        filters: &[Filter],
        scan: FullScan,
    ) -> Result<Vec<Row>, Error> {
        self.read(|tx| tx.query_rows(table, filters, scan))
    }

    /// Typed rows by dynamic filters, in one read transaction: see
    /// [`Tx::query`].
    ///
    /// # Errors
    /// As [`Tx::query`].
    pub fn query<T: Table + DeserializeOwned>(
        &self,
        filters: &[Filter],
        scan: FullScan,
    ) -> Result<Vec<T>, Error> {
        self.read(|tx| tx.query::<T>(filters, scan))
    }
}
