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
        let mut out = Written::default();
        for chunk in values.chunks(IN_CHUNK) {
            let rows_left = scan.limit.saturating_sub(out.rows as usize);
            let bytes_left = write.bytes.map(|b| b.saturating_sub(out.bytes));
            let first = write.first_row_always && out.rows == 0;
            if rows_left == 0 || (bytes_left == Some(0) && !first) {
                break;
            }
            let (shape, index_columns, mut params) =
                self.scan_plan(scan.range, Some(chunk), Self::chunk_after(scan, chunk))?;
            let parts = self.parts(&shape, &index_columns);
            let table = self.table(shape.table);
            let bytes = bytes_left.is_some();
            let key = match set {
                Some(set) => SqlKey::UpdateChildren {
                    shape,
                    set: set.iter().map(|(c, _)| *c).collect(),
                    returning: returning.clone(),
                    bytes,
                },
                None => SqlKey::DeleteChildren {
                    shape,
                    returning: returning.clone(),
                    bytes,
                },
            };
            let text = self.sql(key, false, || match set {
                Some(set) => {
                    let columns: Vec<usize> = set.iter().map(|(c, _)| *c).collect();
                    sql::update_children(table, &parts, &columns, &returning, bytes)
                }
                None => sql::delete_children(table, &parts, &returning, bytes),
            });
            let mut extra = vec![Value::Integer(rows_left.try_into().unwrap_or(i64::MAX))];
            if let Some(left) = bytes_left {
                extra.push(Value::Integer(left.try_into().unwrap_or(i64::MAX)));
                extra.push(Value::Integer(i64::from(first)));
            }
            if let Some(set) = set {
                extra.extend(set.iter().map(|(_, value)| value.clone()));
                if bytes {
                    // The sizes of the written values, for the running sum.
                    extra.extend(
                        set.iter()
                            .map(|(_, value)| Value::Integer(value.size_bytes() as i64)),
                    );
                }
            }
            params.extend(extra.iter());
            let width = table.meta.columns.len();
            self.run_write(&text, &params, &returning, width, &mut out)?;
        }
        Ok(out)
    }

    /// Runs one set-based write and adds what it returned to `out`.
    fn run_write(
        &self,
        text: &str,
        params: &[&Value],
        returning: &[usize],
        width: usize,
        out: &mut Written,
    ) -> Result<(), Error> {
        let mut statement = self.connected.conn.prepare_cached(text)?;
        let mut rows = statement.query(params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            let size: i64 = row.get(returning.len())?;
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
        Ok(())
    }
}
