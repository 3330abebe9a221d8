//! The SQLite store's set-based writes: `DELETE` and `UPDATE` of the rows
//! referencing a set of parents, one statement per chunk of parents, each
//! returning the rows' sizes (and the columns asked for) with `RETURNING`.

use rusqlite::params_from_iter;

use super::sql::{self, IN_CHUNK, SqlKey};
use super::transaction::SqliteTransaction;
use crate::model::error::Error;
use crate::model::value::{Row, Value};
use crate::store::{ChildWrite, Written};

impl SqliteTransaction<'_> {
    /// Deletes (`set` is `None`) or updates the rows `write` takes: one
    /// statement per [`IN_CHUNK`] parent values, the row and byte limits
    /// carried from chunk to chunk.
    pub(super) fn write_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: Option<&[(usize, Value)]>,
    ) -> Result<Written, Error> {
        let scan = &write.scan;
        let returning: Vec<usize> = scan.columns.unwrap_or(&[]).to_vec();
        let values = Self::parent_values(scan);
        let mut out = Written {
            exhausted: true,
            ..Written::default()
        };
        for chunk in values.chunks(IN_CHUNK) {
            let rows_left = scan.limit.saturating_sub(out.rows as usize);
            let bytes_left = write.bytes.map(|b| b.saturating_sub(out.bytes));
            let first = write.first_row_always && out.rows == 0;
            if rows_left == 0 || (bytes_left == Some(0) && !first) {
                out.exhausted = false;
                break;
            }
            let (shape, index_columns, mut params) =
                self.scan_plan(scan.range, Some(chunk), Self::chunk_after(scan, chunk))?;
            let parts = self.parts(&shape, &index_columns);
            let table = self.table(shape.table);
            let unlimited = rows_left == usize::MAX && bytes_left.is_none();
            let bucket = (!unlimited).then(|| sql::bucket(rows_left));
            let key = match set {
                Some(set) => SqlKey::UpdateChildren {
                    shape,
                    set: set.iter().map(|(c, _)| *c).collect(),
                    returning: returning.clone(),
                    bucket,
                },
                None => SqlKey::DeleteChildren {
                    shape,
                    returning: returning.clone(),
                    bucket,
                },
            };
            let text = self.sql(key, false, || match set {
                Some(set) => {
                    let columns: Vec<usize> = set.iter().map(|(c, _)| *c).collect();
                    sql::update_children(table, &parts, &columns, &returning, bucket)
                }
                None => sql::delete_children(table, &parts, &returning, bucket),
            });
            let mut extra = Vec::new();
            if bucket.is_some() {
                let bytes = bytes_left.unwrap_or(u64::MAX);
                extra.push(Value::Integer(rows_left.try_into().unwrap_or(i64::MAX)));
                extra.push(Value::Integer(bytes.try_into().unwrap_or(i64::MAX)));
                extra.push(Value::Integer(i64::from(first)));
            }
            if let Some(set) = set {
                extra.extend(set.iter().map(|(_, value)| value.clone()));
                if bucket.is_some() {
                    // The sizes of the written values, for the running sum.
                    extra.extend(
                        set.iter()
                            .map(|(_, value)| Value::Integer(value.size_bytes() as i64)),
                    );
                }
            }
            params.extend(extra.iter());
            let width = table.meta.columns.len();
            let before = out.rows;
            let limited = bucket.is_some();
            let candidates =
                self.run_write(&text, &params, &returning, width, limited, &mut out)?;
            let taken = (out.rows - before) as usize;
            // Every row the scan finds was taken: unlimited; or all the
            // candidates, fewer than the bucket (no row taken with the first
            // row always taken means there was none).
            let chunk_exhausted = match (bucket, candidates) {
                (None, _) => true,
                (Some(bucket), Some(candidates)) => {
                    taken as u64 == candidates && candidates < bucket
                }
                (Some(_), None) => first,
            };
            if !chunk_exhausted {
                out.exhausted = false;
                break;
            }
        }
        Ok(out)
    }

    /// Runs one set-based write and adds what it returned to `out`; when
    /// `limited`, returns how many candidate rows the statement saw (`None`
    /// when it returned no row, so could not say).
    fn run_write(
        &self,
        text: &str,
        params: &[&Value],
        returning: &[usize],
        width: usize,
        limited: bool,
        out: &mut Written,
    ) -> Result<Option<u64>, Error> {
        let mut statement = self.connected.conn.prepare_cached(text)?;
        let mut rows = statement.query(params_from_iter(params.iter()))?;
        let mut candidates = None;
        while let Some(row) = rows.next()? {
            let size: i64 = row.get(returning.len())?;
            if limited {
                candidates = Some(row.get::<_, i64>(returning.len() + 1)?.max(0) as u64);
            }
            out.rows += 1;
            out.bytes += size.max(0) as u64;
            if !returning.is_empty() {
                let mut full: Row = vec![Value::Null; width];
                for (i, &c) in returning.iter().enumerate() {
                    full[c] = row.get(i)?;
                }
                out.returned.push(full);
            }
        }
        Ok(candidates)
    }
}
