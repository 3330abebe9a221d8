//! The SQLite client cascadia is built on is re-exported, so an application
//! reads the same file with it without a rusqlite of its own (one
//! `libsqlite3-sys` per build: `links = "sqlite3"`).

use cascadia::rusqlite::{Connection, OpenFlags};
use cascadia::{Database, Schema, SqliteOptions, SqliteStore, Table, schema};
use serde::{Deserialize, Serialize};

#[derive(Debug, Table, Serialize, Deserialize)]
#[table(name = "notes")]
struct Note {
    #[primary_key]
    id: i64,
    body: String,
}

static SCHEMA: Schema = schema![Note];

#[test]
fn the_reexported_rusqlite_reads_a_file_cascadia_wrote() {
    let dir = std::env::temp_dir().join(format!("cascadia-reexports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("notes.sqlite");
    let _ = std::fs::remove_file(&path);
    let db = Database::new(
        SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).expect("open"),
    );
    db.insert(&Note {
        id: 1,
        body: "kept".into(),
    })
    .expect("insert");

    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let body: String = conn
        .query_row("SELECT body FROM notes WHERE id = 1", [], |row| row.get(0))
        .expect("read");
    assert_eq!(body, "kept");
}

#[test]
fn the_postgres_client_is_reexported() {
    let config: cascadia::postgres::Config = "postgres://someone@localhost:5432/db"
        .parse()
        .expect("a valid URL");
    assert_eq!(config.get_user(), Some("someone"));
}
