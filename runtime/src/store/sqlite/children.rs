//! The SQLite store's set-based writes: `DELETE` and `UPDATE` of the rows
//! referencing a set of parents, one statement per chunk of parents, kept
//! within the row and byte limits by `cascadia_take` (see [`take`]) in the
//! same pass.
//!
//! [`take`]: super::take

use rusqlite::params_from_iter;

use super::sql::{self, IN_CHUNK, SqlKey};
use super::take::Take;
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
            let bucket = write.bounded.then(|| sql::bucket(rows_left));
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
            let values: Vec<Value> = set
                .unwrap_or_default()
                .iter()
                .map(|(_, value)| value.clone())
                .collect();
            params.extend(values.iter());
            *self.connected.tally.lock() = Take {
                rows: rows_left as u64,
                bytes: bytes_left,
                first_always: first,
                extra: values.iter().map(|v| v.size_bytes() as u64).sum(),
                ..Take::default()
            };
            let width = table.meta.columns.len();
            self.run_write(&text, &params, &returning, width, &mut out)?;
            let take = self.connected.tally.lock().clone();
            out.rows += take.taken;
            out.bytes += take.taken_bytes;
            // Every row the scan finds was taken: none left out, and fewer
            // candidates than the subquery's bucket.
            let chunk_exhausted = !take.refused && bucket.is_none_or(|b| take.taken < b);
            if !chunk_exhausted {
                out.exhausted = false;
                break;
            }
        }
        Ok(out)
    }

    /// Runs one set-based write, adding the rows it returned to `out`.
    fn run_write(
        &self,
        text: &str,
        params: &[&Value],
        returning: &[usize],
        width: usize,
        out: &mut Written,
    ) -> Result<(), Error> {
        let mut statement = self.connected.conn.prepare_cached(text)?;
        if returning.is_empty() {
            statement.execute(params_from_iter(params.iter()))?;
            return Ok(());
        }
        let mut rows = statement.query(params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            let mut full: Row = vec![Value::Null; width];
            for (i, &c) in returning.iter().enumerate() {
                full[c] = row.get(i)?;
            }
            out.returned.push(full);
        }
        Ok(())
    }
}
