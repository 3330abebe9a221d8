//! The SQLite store's set-based writes: `DELETE` and `UPDATE` of the rows
//! referencing a set of parents, one chunk of parents at a time.
//!
//! An unlimited write is one statement per chunk. A limited one is two: the
//! candidates in scan order with their sizes (`SELECT cascadia_size(...),
//! key`, see [`size`]), stepped only until the row or byte limit is
//! reached, then the write of exactly the rows that fit, named by their keys
//! (`... WHERE key IN rarray(?1)`). Both run inside the one write
//! transaction, so the second sees the rows the first listed. Neither
//! writing statement calls a function or binds a `LIMIT`: either would make
//! SQLite keep a statement journal, a copy of every page the statement
//! changes. (A table whose key has several columns has no array form: its
//! write picks the first `n` rows by a subquery with a bound `LIMIT`.)
//!
//! A write with a row limit but no byte limit lists no size (`SELECT 0,
//! key`): SQLite then reads the candidates from the foreign key's index
//! alone, without visiting their rows, and the write reports 0 bytes.
//!
//! [`size`]: super::size

use std::rc::Rc;

use rusqlite::ToSql;
use rusqlite::types::Value as SqlValue;

use super::sql::{self, IN_CHUNK, Pick, SqlKey};
use super::transaction::SqliteTransaction;
use crate::model::error::Error;
use crate::model::value::{Row, Value};
use crate::store::{ChildWrite, Written};

/// The limits left for one chunk's write.
struct Limits {
    rows: usize,
    /// `None`: no byte limit.
    bytes: Option<u64>,
    /// Take the first row whatever its size.
    first_always: bool,
    /// Bytes each row gets besides its kept columns (an `UPDATE`'s new
    /// values).
    extra: u64,
}

impl Limits {
    /// Whether the write counts: otherwise it takes every row and SQLite
    /// counts them.
    fn limited(&self) -> bool {
        self.rows != usize::MAX || self.bytes.is_some()
    }
}

/// The candidates of a chunk that fit its limits.
#[derive(Default)]
struct Fit {
    rows: u64,
    bytes: u64,
    /// Their keys, for [`Pick::Keys`] (when the table has a one-column
    /// key).
    keys: Vec<SqlValue>,
    /// Every candidate fits: none is left out.
    all: bool,
}

impl SqliteTransaction<'_> {
    /// Deletes (`set` empty) or updates the rows `write` takes: one chunk
    /// of [`IN_CHUNK`] parent values at a time, the row and byte limits
    /// carried from chunk to chunk.
    pub(super) fn write_children(
        &mut self,
        write: &ChildWrite<'_>,
        set: &[(usize, Value)],
    ) -> Result<Written, Error> {
        let scan = &write.scan;
        let values = Self::parent_values(scan);
        let mut out = Written {
            exhausted: true,
            ..Written::default()
        };
        for chunk in values.chunks(IN_CHUNK) {
            let limits = Limits {
                rows: scan.limit.saturating_sub(out.rows as usize),
                bytes: write.bytes.map(|b| b.saturating_sub(out.bytes)),
                first_always: write.first_row_always && out.rows == 0,
                extra: set.iter().map(|(_, v)| v.size_bytes() as u64).sum(),
            };
            if !self.write_chunk(write, set, chunk, &limits, &mut out)? {
                out.exhausted = false;
                break;
            }
        }
        Ok(out)
    }

    /// Writes the rows of one chunk of parents that fit `limits`, adding
    /// them to `out`; returns whether none was left out.
    fn write_chunk(
        &mut self,
        write: &ChildWrite<'_>,
        set: &[(usize, Value)],
        chunk: &[&Value],
        limits: &Limits,
        out: &mut Written,
    ) -> Result<bool, Error> {
        let scan = &write.scan;
        let (shape, index_columns, mut params) =
            self.scan_plan(scan.range, Some(chunk), Self::chunk_after(scan, chunk))?;
        let table = self.table(shape.table);
        // Built only when a statement's text is (once per shape).
        let parts = || sql::scan_parts(table, &index_columns, &shape);
        let set_columns: Vec<usize> = set.iter().map(|(c, _)| *c).collect();
        let single_key = table.single_key();
        let fit = if limits.limited() {
            // Without a byte limit no size is read: SQLite then lists the
            // candidates from the index alone, without reading their rows.
            let sized: Vec<usize> = match limits.bytes {
                Some(_) => (0..table.meta.columns.len())
                    .filter(|c| !set_columns.contains(c))
                    .collect(),
                None => Vec::new(),
            };
            let key = SqlKey::Candidates {
                shape: shape.clone(),
                sized: sized.clone(),
            };
            let text = self.sql(key, false, || {
                sql::candidates(table, &parts(), &sized, single_key.as_deref())
            });
            let fit = self.fit(&text, &params, limits, single_key.is_some())?;
            if fit.rows == 0 {
                return Ok(fit.all);
            }
            fit
        } else {
            Fit {
                all: true,
                ..Fit::default()
            }
        };
        // When every candidate fits, the scan's own conditions name them:
        // cheaper than searching each key.
        let pick = match (fit.all, &single_key) {
            (true, _) => Pick::All,
            (false, Some(_)) => Pick::Keys,
            (false, None) => Pick::First,
        };
        let returning: Vec<usize> = scan.columns.unwrap_or(&[]).to_vec();
        let key = match set {
            [] => SqlKey::DeleteChildren {
                shape: shape.clone(),
                returning: returning.clone(),
                pick,
            },
            _ => SqlKey::UpdateChildren {
                shape: shape.clone(),
                set: set_columns.clone(),
                returning: returning.clone(),
                pick,
            },
        };
        let text = self.sql(key, false, || match set {
            [] => sql::delete_children(table, &parts(), &returning, pick),
            _ => sql::update_children(table, &parts(), &set_columns, &returning, pick),
        });
        let keys = Rc::new(fit.keys);
        let limit = Value::Integer(fit.rows as i64);
        let mut bound: Vec<&dyn ToSql> = Vec::new();
        match pick {
            Pick::Keys => bound.push(&keys),
            Pick::All | Pick::First => bound.extend(params.drain(..).map(|v| v as &dyn ToSql)),
        }
        bound.extend(set.iter().map(|(_, v)| v as &dyn ToSql));
        if pick == Pick::First {
            bound.push(&limit);
        }
        let width = table.meta.columns.len();
        out.rows += self.run_write(&text, &bound, &returning, width, &mut out.returned)?;
        out.bytes += fit.bytes;
        Ok(fit.all)
    }

    /// Steps through a chunk's candidates (the statement `text`, in scan
    /// order: size, then, when `keyed`, the key for [`Pick::Keys`]) until
    /// one does not fit `limits`.
    fn fit(
        &self,
        text: &str,
        params: &[&Value],
        limits: &Limits,
        keyed: bool,
    ) -> Result<Fit, Error> {
        let mut statement = self.connected.conn.prepare_cached(text)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
        let mut fit = Fit::default();
        while let Some(row) = rows.next()? {
            let size = row.get::<_, i64>(0)? as u64 + limits.extra;
            // The row limit always holds; the first row may pass the bytes.
            let bytes_fit = limits.bytes.is_none_or(|limit| fit.bytes + size <= limit);
            if fit.rows >= limits.rows as u64
                || !(bytes_fit || limits.first_always && fit.rows == 0)
            {
                return Ok(fit);
            }
            fit.rows += 1;
            fit.bytes += size;
            if keyed {
                fit.keys.push(row.get(1)?);
            }
        }
        fit.all = true;
        Ok(fit)
    }

    /// Runs one set-based write, adding the rows it returned to `returned`;
    /// returns how many rows it changed.
    fn run_write(
        &self,
        text: &str,
        params: &[&dyn ToSql],
        returning: &[usize],
        width: usize,
        returned: &mut Vec<Row>,
    ) -> Result<u64, Error> {
        let mut statement = self.connected.conn.prepare_cached(text)?;
        if returning.is_empty() {
            return Ok(statement.execute(params)? as u64);
        }
        let mut rows = statement.query(params)?;
        let mut changed = 0;
        while let Some(row) = rows.next()? {
            changed += 1;
            let mut full: Row = vec![Value::Null; width];
            for (i, &c) in returning.iter().enumerate() {
                full[c] = row.get(i)?;
            }
            returned.push(full);
        }
        Ok(changed)
    }
}
