//! Chinook as a file with its own foreign-key actions
//! (`$CASCADIA_DATA/chinook/Chinook_Sqlite_fk_actions.sql`), opened as it
//! is: with the actions run by cascadia the open is refused, naming each
//! key whose action SQLite would run too, and the file is left as it was;
//! with the keys marked `native`, SQLite runs them and cascadia's counts
//! are those of the same operations run by cascadia alone.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use cascadia::{
    Access, Database, DeleteOptions, Error, Operation, Schema, SqliteOptions, SqliteStore,
    TableMeta, UpdateOptions,
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

/// The script loaded into a file of its own, and the schema its catalogue
/// translates to (the file's actions, run by cascadia).
fn load(name: &str) -> (PathBuf, Schema) {
    let dir = std::env::temp_dir().join(format!(
        "cascadia-chinook-native-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("chinook.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&script()).unwrap();
    let mut classes = HashMap::new();
    observe(&conn, &mut classes);
    let schema = translate_catalog(&conn, &classes).unwrap().schema;
    (path, schema)
}

fn all_native(schema: &Schema) -> Schema {
    let tables: Vec<TableMeta> = schema
        .tables()
        .map(|table| {
            let mut table = table.clone();
            for fk in table.foreign_keys.to_mut() {
                fk.native = true;
            }
            table
        })
        .collect();
    Schema::new(tables).unwrap()
}

#[test]
fn chinook_with_its_own_actions_is_refused_then_opened_with_native_keys() {
    let (path, schema) = load("refused");
    let before = std::fs::read(&path).unwrap();
    let error = SqliteStore::open(&path, schema.clone(), SqliteOptions::default()).unwrap_err();
    let Error::NativeActions { conflicts } = &error else {
        panic!("{error}");
    };
    // 11 keys: ON UPDATE CASCADE on each, and an ON DELETE that writes rows
    // on each but InvoiceLine(TrackId) (RESTRICT) and Track(MediaTypeId)
    // (NO ACTION).
    assert_eq!(
        conflicts
            .iter()
            .filter(|c| c.event == Operation::Update)
            .count(),
        11,
        "{error}"
    );
    assert_eq!(
        conflicts
            .iter()
            .filter(|c| c.event == Operation::Delete)
            .count(),
        9,
        "{error}"
    );
    assert!(
        error.to_string().contains(
            "Track(GenreId) → Genre has ON DELETE SET NULL in the database, and ON DELETE SET NULL run by cascadia in the schema"
        ),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused open changed the file"
    );

    // Marked native, the file opens as it is (its indexes have its own
    // names), and SQLite runs the actions.
    let db = Database::new(
        SqliteStore::open(&path, all_native(&schema), SqliteOptions::default()).unwrap(),
    );
    // The same data in a database where cascadia runs every action.
    let reference = Database::new(
        SqliteStore::open_in_memory(schema.clone(), SqliteOptions::default()).unwrap(),
    );
    copy(&Connection::open(&path).unwrap(), &reference);
    // Key updates: SQLite rewrites the referencing rows of the native
    // keys, cascadia counts them as it counts its own.
    for (table, column, key, new) in [
        ("Artist", "ArtistId", 2, 1002),
        ("Employee", "EmployeeId", 2, 102),
        ("Track", "TrackId", 3, 10_003),
        ("Customer", "CustomerId", 5, 1005),
    ] {
        let outcomes: Vec<_> = [&db, &reference]
            .iter()
            .map(|db| {
                db.write(|tx| {
                    let mut row = tx.get_row(table, &[int(key)])?.expect("row");
                    let position = db
                        .schema()
                        .table(table)
                        .and_then(|t| t.column_position(column))
                        .expect("column");
                    row[position] = int(new);
                    tx.update_row(table, &[int(key)], row, &UpdateOptions::default())
                })
                .unwrap()
            })
            .collect();
        assert_eq!(outcomes[0], outcomes[1], "{table} {key}");
        assert!(
            outcomes[0].rows_written() > 1,
            "{table} {key}: {:?}",
            outcomes[0]
        );
    }
    // Deletes: cascadia reaches the rows first, bottom-up and in batches.
    for (table, key) in [("Artist", 275), ("Genre", 1), ("Playlist", 1)] {
        let outcomes: Vec<_> = [&db, &reference]
            .iter()
            .map(|db| {
                db.delete_rows(table, &[vec![int(key)]], &DeleteOptions::default())
                    .unwrap()
            })
            .collect();
        assert_eq!(outcomes[0], outcomes[1], "{table} {key}");
    }
    for table in db.schema().tables() {
        let mut mine = db.rows(&table.name).unwrap();
        let mut theirs = reference.rows(&table.name).unwrap();
        mine.sort();
        theirs.sort();
        assert_eq!(mine, theirs, "{}", table.name);
    }
}

/// Copies every row of `source` into `db` in one store transaction
/// (SQLite checks the keys at commit, whatever the order of the tables).
fn copy(source: &Connection, db: &Database) {
    let mut tx = db.store().begin(Access::Write).unwrap();
    for table in db.schema().tables() {
        let mut query = source
            .prepare(&format!("SELECT * FROM \"{}\"", table.name))
            .unwrap();
        let columns = query.column_count();
        let rows: Vec<Vec<cascadia::Value>> = query
            .query_map([], |r| (0..columns).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for row in rows {
            tx.insert(&table.name, &row).unwrap();
        }
    }
    tx.commit().unwrap();
}
