//! `cascadia generate`, round trip. On Chinook (with its native actions,
//! `Chinook_Sqlite_fk_actions.sql`) and on a schema of awkward names and
//! keys (`generated/awkward.sql`): the output is checked in
//! as `generated/chinook_schema.rs` and compiled here as a module; the test
//! regenerates it and compares byte for byte (`CASCADIA_BLESS=1` rewrites
//! it), compares the derive's metadata with the introspected one, then
//! (Chinook) opens the database with the generated structs and runs a
//! cascade, checked against SQLite's own actions on a copy.

mod common;

#[path = "generated/chinook_schema.rs"]
mod chinook_schema;

use std::path::{Path, PathBuf};

use cascadia::store::JournalMode;
use cascadia::store::sqlite::introspect::introspect_path;
use cascadia::{
    ColumnMeta, Database, DeleteOptions, Schema, SqliteOptions, SqliteStore, TableMeta,
};
use common::{cascadia, count, data_dir, database};

const GENERATED: &str = "tests/generated/chinook_schema.rs";

fn chinook(dir: &Path) -> PathBuf {
    let sql = std::fs::read_to_string(data_dir().join("chinook/Chinook_Sqlite_fk_actions.sql"))
        .expect("Chinook_Sqlite_fk_actions.sql in $CASCADIA_DATA/chinook");
    database(dir, "chinook.db", &sql)
}

/// `table` with the Rust names left out, its foreign keys in column order
/// (the derive lists them in field order, the database in declaration
/// order): what the database itself says.
fn sql_only(table: &TableMeta) -> TableMeta {
    let mut table = table.clone();
    let position = |fk: &cascadia::ForeignKeyMeta| table.column_position(&fk.columns[0]);
    let mut foreign_keys = table.foreign_keys.to_vec();
    foreign_keys.sort_by_key(|fk| (position(fk), fk.columns.to_vec()));
    table.foreign_keys = foreign_keys.into();
    table.type_name = table.name.clone();
    let columns: Vec<ColumnMeta> = table
        .columns
        .iter()
        .map(|c| {
            let mut plain = ColumnMeta::new(c.name.clone(), c.value_type);
            if c.nullable {
                plain = plain.nullable();
            }
            plain.default = c.default.clone();
            plain
        })
        .collect();
    table.columns = columns.into();
    table
}

#[test]
fn generate_reproduces_the_checked_in_structs() {
    let dir = tempfile::tempdir().unwrap();
    let db = chinook(dir.path());
    let run = cascadia(["generate".as_ref(), db.as_os_str()]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
    if std::env::var_os("CASCADIA_BLESS").is_some() {
        std::fs::write(&path, &run.stdout).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    assert!(
        run.stdout == checked_in,
        "`cascadia generate` no longer produces {GENERATED}; if the change is intended, run with CASCADIA_BLESS=1"
    );
}

#[test]
fn the_generated_schema_equals_the_introspected_one() {
    let dir = tempfile::tempdir().unwrap();
    let introspected = introspect_path(chinook(dir.path())).unwrap();
    let derived: Vec<TableMeta> = chinook_schema::SCHEMA.tables().map(sql_only).collect();
    let read: Vec<TableMeta> = introspected.tables.iter().map(sql_only).collect();
    assert_eq!(derived.len(), read.len());
    for (derived, read) in derived.iter().zip(&read) {
        assert_eq!(derived, read, "table {}", read.name);
    }
    Schema::new(introspected.tables).unwrap();
}

#[test]
fn the_generated_structs_open_chinook_and_cascade_as_sqlite_does() {
    let dir = tempfile::tempdir().unwrap();
    let engine_copy = chinook(dir.path());
    let native_copy = dir.path().join("native.db");
    std::fs::copy(&engine_copy, &native_copy).unwrap();

    let store = SqliteStore::open(
        &engine_copy,
        chinook_schema::SCHEMA.clone(),
        SqliteOptions::default()
            .create_tables(false)
            .journal_mode(JournalMode::Unchanged)
            // SQLite must not run its own actions beside cascadia's.
            .foreign_keys(false),
    )
    .expect("the generated schema opens Chinook");
    let db = Database::new(store);
    let outcome = db
        .delete_with::<chinook_schema::Artist>(&[275], &DeleteOptions::default())
        .unwrap();
    assert_eq!(outcome.deleted::<chinook_schema::Album>(), 1);
    assert_eq!(outcome.deleted::<chinook_schema::Track>(), 1);
    assert_eq!(outcome.deleted::<chinook_schema::PlaylistTrack>(), 5);

    let native = rusqlite::Connection::open(&native_copy).unwrap();
    native
        .execute_batch("PRAGMA foreign_keys = ON; DELETE FROM Artist WHERE ArtistId = 275;")
        .unwrap();
    drop(native);
    drop(db);
    for table in chinook_schema::SCHEMA.tables() {
        assert_eq!(
            count(&engine_copy, &table.name),
            count(&native_copy, &table.name),
            "rows of {}",
            table.name
        );
    }
}

/// Awkward names and keys: spaces, a keyword, composite keys, a foreign key
/// to a unique key, TEXT keys, defaults, index names that are not
/// identifiers.
const AWKWARD: &str = include_str!("generated/awkward.sql");

#[path = "generated/awkward_schema.rs"]
mod awkward_schema;

#[test]
fn awkward_names_and_keys_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "awkward.db", AWKWARD);
    let run = cascadia(["generate".as_ref(), db.as_os_str()]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/generated/awkward_schema.rs");
    if std::env::var_os("CASCADIA_BLESS").is_some() {
        std::fs::write(&path, &run.stdout).unwrap();
    }
    assert!(
        run.stdout == std::fs::read_to_string(&path).unwrap(),
        "`cascadia generate` no longer produces awkward_schema.rs; CASCADIA_BLESS=1 rewrites it"
    );
    let introspected = introspect_path(&db).unwrap();
    let derived: Vec<TableMeta> = awkward_schema::SCHEMA.tables().map(sql_only).collect();
    let read: Vec<TableMeta> = introspected.tables.iter().map(sql_only).collect();
    for (derived, read) in derived.iter().zip(&read) {
        assert_eq!(derived, read, "table {}", read.name);
    }
    assert_eq!(derived.len(), read.len());
}
