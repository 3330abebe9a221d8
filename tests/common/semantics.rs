//! The semantics cases' harness shared by the conformance tests: reading
//! case files and printed results, and writing what a statement did to a
//! mirror through cascadia.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use cascadia::{Database, DeleteOptions, Error, Key, Row, UpdateOptions, Value};

use super::catalog::MirrorTable;

pub fn semantics_dir() -> PathBuf {
    let data = std::env::var("CASCADIA_DATA").unwrap_or_else(|_| "../shared/data".to_owned());
    PathBuf::from(data).join("..").join("semantics")
}

pub fn read(file: &str) -> String {
    let path = semantics_dir().join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set CASCADIA_DATA)", path.display()))
}

/// (title, body) blocks of a file whose blocks start with `prefix`.
pub fn blocks(text: &str, prefix: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix(prefix) {
            blocks.extend(current.take());
            current = Some((title.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = &mut current {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks.extend(current);
    blocks
}

/// The case's SQL, by title.
pub fn case_sql(file: &str, title: &str) -> String {
    blocks(&read(file), "=== ")
        .into_iter()
        .find(|(t, _)| t == title)
        .map(|(_, sql)| sql)
        .unwrap_or_else(|| panic!("no case titled {title:?} in {file}"))
}

/// One printed line of the expected results.
#[derive(Debug, Clone, PartialEq)]
pub enum Printed {
    Rows(Vec<Row>),
    Error(String),
}

/// The expected lines of a case: (statement prefix, result).
pub fn expected(file: &str, title: &str) -> Vec<(String, Printed)> {
    expected_in(&file.replace(".txt", ".expected.txt"), title)
}

/// The expected lines of a case in the results file `results`, without
/// the lines that are not part of the comparison: PostgreSQL-only extra
/// probes (`[+] ...`) and notes (`N/A: ...`).
pub fn expected_in(results: &str, title: &str) -> Vec<(String, Printed)> {
    let text = read(results);
    let body = blocks(&text, "--- ")
        .into_iter()
        .find(|(t, _)| t == title)
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no expected results for {title:?}"));
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            !line.trim_start().starts_with("[+]") && !line.trim_start().starts_with("N/A:")
        })
        .map(|line| {
            let line = line.strip_prefix("   ").unwrap_or(line);
            let (prefix, result) = line
                .split_once(" -> ")
                .unwrap_or_else(|| panic!("unexpected line {line:?}"));
            let printed = match result.strip_prefix("ERROR: ") {
                Some(message) => Printed::Error(message.to_owned()),
                None => Printed::Rows(parse_python_rows(result)),
            };
            (prefix.to_owned(), printed)
        })
        .collect()
}

/// Parses Python's repr of a list of tuples: `[(1, 'a', None), (2.5,)]`.
pub fn parse_python_rows(text: &str) -> Vec<Row> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut rows = Vec::new();
    let mut row: Option<Row> = None;
    while i < chars.len() {
        match chars[i] {
            '(' => row = Some(Vec::new()),
            ')' => rows.extend(row.take()),
            '\'' | '"' => {
                let quote = chars[i];
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                if let Some(row) = &mut row {
                    row.push(Value::Text(text));
                }
            }
            'N' if chars[i..].starts_with(&['N', 'o', 'n', 'e']) => {
                if let Some(row) = &mut row {
                    row.push(Value::Null);
                }
                i += 3;
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                while i + 1 < chars.len()
                    && (chars[i + 1].is_ascii_digit() || ".e-+".contains(chars[i + 1]))
                {
                    i += 1;
                }
                let number: String = chars[start..=i].iter().collect();
                let value = match number.parse::<i64>() {
                    Ok(integer) => Value::Integer(integer),
                    Err(_) => Value::Real(number.parse().unwrap_or(f64::NAN)),
                };
                if let Some(row) = &mut row {
                    row.push(value);
                }
            }
            _ => {}
        }
        i += 1;
    }
    rows
}

pub fn sorted(rows: &[Row]) -> Vec<Row> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

/// cascadia's key of a mirror row.
pub fn key_of(table: &MirrorTable, rowid: i64, row: &Row) -> Key {
    if table.hidden_rowid {
        vec![Value::Integer(rowid)]
    } else {
        table.pk.iter().map(|&i| row[i].clone()).collect()
    }
}

/// cascadia's row for a mirror row.
pub fn cascadia_row(table: &MirrorTable, rowid: i64, row: &Row) -> Row {
    if table.hidden_rowid {
        std::iter::once(Value::Integer(rowid))
            .chain(row.iter().cloned())
            .collect()
    } else {
        row.clone()
    }
}

/// Writes through cascadia, in one transaction (all or nothing), what a
/// statement did to the mirror: the rows of `before` missing from `after`
/// deleted, the changed ones updated, the new ones inserted (rows matched
/// by their mirror id).
pub fn apply(
    db: &Database,
    tables: &[MirrorTable],
    before: &[Vec<(i64, Row)>],
    after: &[Vec<(i64, Row)>],
) -> Result<(), Error> {
    db.write(|tx| {
        for ((table, before), after) in tables.iter().zip(before).zip(after) {
            let old: HashMap<i64, &Row> = before.iter().map(|(id, row)| (*id, row)).collect();
            let new: HashMap<i64, &Row> = after.iter().map(|(id, row)| (*id, row)).collect();
            let deleted: Vec<Key> = before
                .iter()
                .filter(|(id, _)| !new.contains_key(id))
                .map(|(id, row)| key_of(table, *id, row))
                .collect();
            if !deleted.is_empty() {
                tx.delete_rows(&table.name, &deleted, &DeleteOptions::default())?;
            }
            let updated: Vec<(Key, Row)> = after
                .iter()
                .filter_map(|(id, row)| {
                    let old_row = old.get(id)?;
                    (*old_row != row)
                        .then(|| (key_of(table, *id, old_row), cascadia_row(table, *id, row)))
                })
                .collect();
            if !updated.is_empty() {
                tx.update_rows(&table.name, updated, &UpdateOptions::default())?;
            }
            for (id, row) in after.iter().filter(|(id, _)| !old.contains_key(id)) {
                tx.insert_row(&table.name, cascadia_row(table, *id, row))?;
            }
        }
        Ok(())
    })
}
