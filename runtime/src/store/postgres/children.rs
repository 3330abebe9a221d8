//! The PostgreSQL store's set-based operations on the rows referencing a
//! set of parents: each one statement, whatever the number of parents
//! (`c = ANY($1)`), reading, counting, deleting or updating up to a row
//! limit and within a byte limit computed by PostgreSQL, and returning the
//! rows' sizes (and the columns asked for) with `RETURNING`. A write reads
//! a page of candidates with their sizes and, when they all fit the byte
//! limit, writes them through the index up to the last of them (see
//! `sql::write_whole_page`); otherwise it lists the rows that fit, then
//! writes those (`sql::write_picked`).

use super::sql::{self, Params, ScanShape, SqlKey, WriteForm};
use super::transaction::{Bound, PostgresTransaction};
use crate::model::error::Error;
use crate::model::index_range::IndexRange;
use crate::model::value::{Row, Value};
use crate::store::{ChildScan, ChildWrite, Written};

/// The asked columns that exist, in order, without repeats (`None`: all).
fn asked(columns: Option<&[usize]>, width: usize) -> Vec<usize> {
    let mut asked: Vec<usize> = match columns {
        Some(columns) => columns.iter().copied().filter(|&c| c < width).collect(),
        None => (0..width).collect(),
    };
    asked.sort_unstable();
    asked.dedup();
    asked
}

/// A row of `width` columns holding the values of `returned` (the first
/// columns of `row`), NULL elsewhere, and its size (the column after them).
fn sized_row(row: &postgres::Row, returned: &[usize], width: usize) -> Result<(Row, u64), Error> {
    let mut full: Row = vec![Value::Null; width];
    for (i, &c) in returned.iter().enumerate() {
        full[c] = row.try_get(i)?;
    }
    let size: i64 = row.try_get(returned.len())?;
    Ok((full, size.max(0) as u64))
}

impl PostgresTransaction<'_> {
    /// [`scan_children`](crate::Transaction::scan_children) in one statement.
    pub(super) fn read_children(&mut self, scan: &ChildScan<'_>) -> Result<Vec<(Row, u64)>, Error> {
        if scan.limit == 0 || Self::no_parent(scan) {
            return Ok(Vec::new());
        }
        let narrowed = resumed_parent(scan);
        let (range, parents) = match &narrowed {
            Some(range) => (range, None),
            None => (scan.range, Some(scan.prefixes)),
        };
        let (shape, index_columns, mut params) = self.scan_plan(range, parents, scan.after)?;
        let table = self.table(shape.table);
        let width = table.meta.columns.len();
        let columns = asked(scan.columns, width);
        let key = SqlKey::Children {
            shape: shape.clone(),
            columns: columns.clone(),
        };
        let text = self.sql(key, false, || {
            let mut numbers = Params::default();
            let parts = sql::scan_parts(table, &index_columns, &shape, &mut numbers);
            sql::select_sized(table, &parts, &columns, &mut numbers)
        });
        params.push(Box::new(i64::try_from(scan.limit).unwrap_or(i64::MAX)));
        let rows = self.query_bound(&text, &params)?;
        rows.iter()
            .map(|row| sized_row(row, &columns, width))
            .collect()
    }

    /// [`count_children`](crate::Transaction::count_children) in one
    /// statement.
    pub(super) fn count_children_at_once(&mut self, scan: &ChildScan<'_>) -> Result<u64, Error> {
        if Self::no_parent(scan) {
            return Ok(0);
        }
        let (shape, index_columns, params) =
            self.scan_plan(scan.range, Some(scan.prefixes), scan.after)?;
        let table = self.table(shape.table);
        let text = self.sql(SqlKey::Count(shape.clone()), false, || {
            let parts = sql::scan_parts(table, &index_columns, &shape, &mut Params::default());
            sql::count(&parts)
        });
        let rows = self.query_bound(&text, &params)?;
        let count: i64 = rows
            .first()
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(0);
        Ok(count.max(0) as u64)
    }

    /// Deletes (`set` is `None`) or updates the rows `write` takes: in one
    /// statement that takes the whole page of `limit` rows when it fits
    /// the byte limit (the common case), else in one that picks the rows
    /// while their running sum fits (and, when nothing fit, one more:
    /// whether anything was there). Neither reads more than `limit + 1`
    /// candidates, whatever the fan-out.
    pub(super) fn write_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: Option<&[(usize, Value)]>,
    ) -> Result<Written, Error> {
        let scan = &write.scan;
        let nothing_fits = write.bytes == Some(0) && !write.first_row_always;
        if scan.limit == 0 || nothing_fits || Self::no_parent(scan) {
            return Ok(Written::default());
        }
        let mut plan = self.scan_plan(scan.range, Some(scan.prefixes), scan.after)?;
        let (shape, index_columns, _) = &plan;
        if sql::bounded(self.table(shape.table), index_columns, shape) {
            if let Some(written) = self.write_form(write, set, WriteForm::WholePage, plan)? {
                return Ok(written);
            }
            // The first statement consumed the parameters: bind them again.
            plan = self.scan_plan(scan.range, Some(scan.prefixes), scan.after)?;
        }
        let written = self.write_form(write, set, WriteForm::Picked, plan)?;
        Ok(written.unwrap_or_default())
    }

    /// The write in `form`, on the scan planned as `plan` (see
    /// `scan_plan`); `None` when a whole page did not fit (nothing was
    /// written).
    fn write_form<'v>(
        &mut self,
        write: &'v ChildWrite<'_>,
        set: Option<&'v [(usize, Value)]>,
        form: WriteForm,
        (shape, index_columns, mut params): (ScanShape, Vec<usize>, Vec<Bound<'v>>),
    ) -> Result<Option<Written>, Error> {
        let scan = &write.scan;
        let table = self.table(shape.table);
        let width = table.meta.columns.len();
        let returning = asked(Some(scan.columns.unwrap_or(&[])), width);
        let bytes = write.bytes.is_some();
        let columns: Vec<usize> = set.unwrap_or(&[]).iter().map(|(c, _)| *c).collect();
        let key = match set {
            Some(_) => SqlKey::UpdateChildren {
                shape: shape.clone(),
                form,
                set: columns.clone(),
                returning: returning.clone(),
                bytes,
            },
            None => SqlKey::DeleteChildren {
                shape: shape.clone(),
                form,
                returning: returning.clone(),
                bytes,
            },
        };
        let text = self.sql(key, false, || {
            let mut numbers = Params::default();
            let parts = sql::scan_parts(table, &index_columns, &shape, &mut numbers);
            match set {
                Some(_) => sql::update_children(
                    table,
                    &parts,
                    form,
                    (&columns, &returning),
                    bytes,
                    &mut numbers,
                ),
                None => sql::delete_children(table, &parts, form, &returning, bytes, &mut numbers),
            }
        });
        params.extend(write_params(write, set, form));
        let rows = self.query_bound(&text, &params)?;
        match form {
            WriteForm::WholePage => whole_page_written(write, &rows, &returning, width),
            WriteForm::Picked => self
                .picked_written(write, &rows, &returning, width)
                .map(Some),
        }
    }

    /// What a [`WriteForm::Picked`] statement wrote, from the rows it
    /// returned.
    fn picked_written(
        &mut self,
        write: &ChildWrite<'_>,
        rows: &[postgres::Row],
        returning: &[usize],
        width: usize,
    ) -> Result<Written, Error> {
        let mut candidates: Option<i64> = None;
        let mut out = Written::default();
        for row in rows {
            if returning.is_empty() {
                // One row: how many, their bytes, the candidates.
                let (count, bytes): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                out.rows = count.max(0) as u64;
                out.bytes = bytes.max(0) as u64;
                candidates = row.try_get(2)?;
            } else {
                candidates = row.try_get(returning.len() + 1)?;
                let (full, size) = sized_row(row, returning, width)?;
                out.rows += 1;
                out.bytes += size;
                out.returned.push(full);
            }
        }
        let candidates = candidates.unwrap_or(0);
        out.exhausted = if out.rows == 0 && write.bytes.is_some() && !write.first_row_always {
            // Nothing fit the byte limit, or nothing was there: look.
            let one = ChildScan {
                limit: 1,
                columns: Some(&[]),
                ..write.scan
            };
            self.read_children(&one)?.is_empty()
        } else {
            exhausted(write, out.rows as usize, candidates)
        };
        Ok(out)
    }
}

/// What a [`WriteForm::WholePage`] statement wrote, from the rows it
/// returned; `None` when the candidates did not fit (nothing was written).
fn whole_page_written(
    write: &ChildWrite<'_>,
    rows: &[postgres::Row],
    returning: &[usize],
    width: usize,
) -> Result<Option<Written>, Error> {
    let mut out = Written::default();
    let mut candidates = 0i64;
    for row in rows {
        let fits: bool = row.try_get(row.len() - 1)?;
        if !fits {
            return Ok(None);
        }
        candidates = row.try_get(row.len() - 2)?;
        if returning.is_empty() {
            // One row: how many, their bytes.
            let (count, bytes): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            out.rows = count.max(0) as u64;
            out.bytes = bytes.max(0) as u64;
        } else if row.try_get::<_, Option<i64>>(returning.len())?.is_some() {
            // A written row (not the one row of NULLs saying none was).
            let (full, size) = sized_row(row, returning, width)?;
            out.rows += 1;
            out.bytes += size;
            out.returned.push(full);
        }
    }
    out.exhausted = all_taken(write, out.rows as usize, candidates);
    Ok(Some(out))
}

/// A scan of one parent that resumes at a position under that parent: the
/// range with the parent's values as a prefix, so that the statement
/// (`fk = $1 AND (rest) > (...)`) enters the index at the position.
/// PostgreSQL 15 does not start a scan at a row comparison beside
/// `fk = ANY($1)`: it would read the parent's rows from the first.
fn resumed_parent(scan: &ChildScan<'_>) -> Option<IndexRange> {
    let [parent] = scan.prefixes else {
        return None;
    };
    let start = scan.range.prefix.len();
    let at = scan.after?.index.get(start..start + parent.len())?;
    (at == &parent[..]).then(|| {
        let mut range = scan.range.clone();
        range.prefix.extend(parent.iter().cloned());
        range
    })
}

/// Whether a write that took `taken` rows of the `candidates` its scan
/// read (at most `limit + 1`) took every row the scan finds. With none
/// taken (and so no row returned to tell the candidates), none were found
/// when no byte limit applied or the first row was always to be taken.
fn exhausted(write: &ChildWrite<'_>, taken: usize, candidates: i64) -> bool {
    if taken == 0 {
        return write.bytes.is_none() || write.first_row_always;
    }
    all_taken(write, taken, candidates)
}

/// Whether `taken` rows are all the `candidates` a write's scan read (at
/// most `limit + 1`): none was left.
fn all_taken(write: &ChildWrite<'_>, taken: usize, candidates: i64) -> bool {
    let candidates = usize::try_from(candidates).unwrap_or(usize::MAX);
    taken == candidates && candidates <= write.scan.limit
}

/// The parameters a set-based write in `form` adds after its scan's: the
/// candidates to read (`limit + 1`) and the row limit, then (with a byte
/// limit) the bytes and, picked, whether the first row is always taken;
/// then the values set and (with a byte limit) their sizes.
fn write_params<'v>(
    write: &ChildWrite<'_>,
    set: Option<&'v [(usize, Value)]>,
    form: WriteForm,
) -> Vec<Bound<'v>> {
    let limit = i64::try_from(write.scan.limit).unwrap_or(i64::MAX);
    let mut params: Vec<Bound<'v>> = vec![Box::new(limit.saturating_add(1)), Box::new(limit)];
    if let Some(bytes) = write.bytes {
        params.push(Box::new(i64::try_from(bytes).unwrap_or(i64::MAX)));
        if form == WriteForm::Picked {
            params.push(Box::new(write.first_row_always));
        }
    }
    let set = set.unwrap_or(&[]);
    params.extend(set.iter().map(|(_, value)| Box::new(value) as Bound<'v>));
    if write.bytes.is_some() {
        params.extend(
            set.iter()
                .map(|(_, value)| Box::new(value.size_bytes() as i64) as Bound<'v>),
        );
    }
    params
}
