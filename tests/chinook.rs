//! Real data: the Chinook sample database (11 tables, 11 foreign keys,
//! ~15.6k rows) with CASCADE, RESTRICT, SET NULL and ON UPDATE CASCADE
//! actions (`$CASCADIA_DATA/chinook/Chinook_Sqlite_fk_actions.sql`).
//!
//! The script loads into a SQLite database that runs the actions itself (the
//! oracle); its catalogue becomes a cascadia schema and its rows are copied
//! into cascadia's stores (memory, SQLite with FKs declared without
//! actions). The same operations then run on all of them, and the contents
//! must stay identical after each one, with the counts the data's README
//! gives: deleting Artist 1 fails on a RESTRICT three levels down; Artist 275
//! cascades 7 rows; Genre 1 sets 1297 tracks' GenreId to NULL; Playlist 1
//! cascades 3290 rows.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use cascadia::store::sqlite::ddl::quote;
use cascadia::{
    Access, Database, DeleteOptions, Error, MemoryStore, Outcome, Row, SqliteOptions, SqliteStore,
    Store, UpdateOptions, Value,
};
use common::catalog::{observe, translate_catalog};
use common::int;
use rusqlite::Connection;

fn script() -> String {
    let data = std::env::var("CASCADIA_DATA").unwrap_or_else(|_| "../shared/data".to_owned());
    let path = PathBuf::from(data)
        .join("chinook")
        .join("Chinook_Sqlite_fk_actions.sql");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set CASCADIA_DATA)", path.display()))
}

fn contents(tables: &[String], rows: impl Fn(&str) -> Vec<Row>) -> Vec<Vec<Row>> {
    tables
        .iter()
        .map(|t| {
            let mut rows = rows(t);
            rows.sort();
            rows
        })
        .collect()
}

fn oracle_rows(conn: &Connection, table: &str) -> Vec<Row> {
    let mut query = conn
        .prepare(&format!("SELECT * FROM {}", quote(table)))
        .expect("select");
    let columns = query.column_count();
    query
        .query_map([], |r| (0..columns).map(|i| r.get::<_, Value>(i)).collect())
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

enum Op {
    Delete(&'static str, &'static str, i64),
    UpdateKey(&'static str, &'static str, i64, i64),
}

/// The oracle, the schema read from it, its tables, and cascadia over a
/// SQLite store and a memory store holding the same rows.
struct Fixture {
    oracle: Connection,
    schema: cascadia::Schema,
    tables: Vec<String>,
    sqlite: SqliteStore,
    dbs: [(&'static str, Database); 2],
}

fn load() -> Fixture {
    let oracle = Connection::open_in_memory().unwrap();
    oracle.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    oracle.execute_batch(&script()).unwrap();
    let mut classes = HashMap::new();
    observe(&oracle, &mut classes);
    let schema = translate_catalog(&oracle, &classes).unwrap().schema;
    let tables: Vec<String> = schema.tables().map(|t| t.name.to_string()).collect();
    let sqlite = SqliteStore::open_in_memory(schema.clone(), SqliteOptions::default()).unwrap();
    let memory = MemoryStore::new(schema.clone()).unwrap();
    for store in [&sqlite as &dyn Store, &memory] {
        let mut tx = store.begin(Access::Write).unwrap();
        for table in &tables {
            for row in oracle_rows(&oracle, table) {
                tx.insert(table, &row).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let dbs = [
        ("sqlite", Database::new(sqlite.clone())),
        ("memory", Database::new(memory)),
    ];
    Fixture {
        oracle,
        schema,
        tables,
        sqlite,
        dbs,
    }
}

/// Runs `op` on the oracle and on both backends; asserts identical contents
/// afterwards and returns each backend's result.
fn run(fixture: &Fixture, op: &Op) -> Vec<Result<Outcome, Error>> {
    let Fixture {
        oracle,
        schema,
        tables,
        dbs,
        ..
    } = fixture;
    let (table, column, key) = match op {
        Op::Delete(t, c, k) | Op::UpdateKey(t, c, k, _) => (*t, *c, *k),
    };
    let native = match op {
        Op::Delete(..) => oracle.execute(
            &format!("DELETE FROM {} WHERE {} = ?1", quote(table), quote(column)),
            [key],
        ),
        Op::UpdateKey(_, _, _, new) => oracle.execute(
            &format!(
                "UPDATE {} SET {} = ?1 WHERE {} = ?2",
                quote(table),
                quote(column),
                quote(column)
            ),
            [*new, key],
        ),
    };
    let expected = contents(tables, |t| oracle_rows(oracle, t));
    let mut outcomes = Vec::new();
    for (backend, db) in dbs {
        let result = match op {
            Op::Delete(..) => db.delete_rows(table, &[vec![int(key)]], &DeleteOptions::default()),
            Op::UpdateKey(_, _, _, new) => db.write(|tx| {
                let mut row = tx.get_row(table, &[int(key)])?.expect("row to update");
                let position = schema
                    .table(table)
                    .and_then(|t| t.column_position(column))
                    .expect("column");
                row[position] = int(*new);
                tx.update_row(table, &[int(key)], row, &UpdateOptions::default())
            }),
        };
        assert_eq!(
            result.is_err(),
            native.is_err(),
            "{backend}: {table} {key}: cascadia {result:?}, SQLite {native:?}"
        );
        assert_eq!(
            contents(tables, |t| db.rows(t).unwrap()),
            expected,
            "{backend}: contents after {table} {key}"
        );
        outcomes.push(result);
    }
    if let (Ok(a), Ok(b)) = (&outcomes[0], &outcomes[1]) {
        assert_eq!(a, b, "both backends report the same counts");
    }
    outcomes
}

#[test]
fn chinook_counts_from_the_data_readme() {
    let fixture = load();
    let total: usize = contents(&fixture.tables, |t| oracle_rows(&fixture.oracle, t))
        .iter()
        .map(Vec::len)
        .sum();
    assert!(total > 15_000, "{total} rows loaded");
    let error = run(&fixture, &Op::Delete("Artist", "ArtistId", 1))
        .remove(0)
        .unwrap_err();
    // The refusal names the row deleted, the cascade that reached the
    // restricted track, the foreign key and the row that refuses.
    assert_eq!(
        error.to_string(),
        "cannot delete Artist 1 (it cascades to Album 1, then Track 1): RESTRICT on \
         InvoiceLine(TrackId) → Track: InvoiceLine 579 references Track 1"
    );
    // Each count is for a delete on the full data.
    let outcome = run(&load(), &Op::Delete("Artist", "ArtistId", 275))
        .remove(0)
        .unwrap();
    assert_eq!(outcome.rows_written() - outcome.rows_deleted("Artist"), 7);
    let outcome = run(&load(), &Op::Delete("Genre", "GenreId", 1))
        .remove(0)
        .unwrap();
    assert_eq!(outcome.rows_updated("Track"), 1297);
    let outcome = run(&load(), &Op::Delete("Playlist", "PlaylistId", 1))
        .remove(0)
        .unwrap();
    assert_eq!(outcome.rows_deleted("PlaylistTrack"), 3290);
}

#[test]
fn chinook_operation_sequence_matches_sqlite() {
    let fixture = load();
    for op in [
        Op::Delete("Artist", "ArtistId", 1),
        Op::Delete("Artist", "ArtistId", 275),
        Op::Delete("Genre", "GenreId", 1),
        Op::Delete("Playlist", "PlaylistId", 1),
        Op::UpdateKey("Artist", "ArtistId", 2, 1002),
        Op::UpdateKey("Track", "TrackId", 3, 10_003),
        Op::UpdateKey("Employee", "EmployeeId", 2, 102),
        Op::Delete("Employee", "EmployeeId", 1),
        Op::Delete("Customer", "CustomerId", 5),
        Op::Delete("MediaType", "MediaTypeId", 5),
        Op::Delete("Album", "AlbumId", 10),
    ] {
        run(&fixture, &op);
    }
    let orphans: usize = fixture
        .sqlite
        .with_connection_mut(|conn| {
            Ok(conn
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |_| Ok(()))?
                .count())
        })
        .unwrap();
    assert_eq!(orphans, 0);
}
