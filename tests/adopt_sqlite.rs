//! Opening an existing SQLite database as it is: indexes found by their
//! columns, a refused open that changes nothing, job tables created by the
//! first job, foreign-key actions read from the file and reconciled with
//! the schema's, `native` keys run by SQLite and counted by cascadia.

mod common;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::store::sqlite::ddl::{DdlOptions, create_statements};
use cascadia::store::sqlite::{JOBS_TABLE, ROOTS_TABLE};
use cascadia::{
    Action, Database, DeleteOptions, Error, IndexRef, Operation, Schema, SqliteOptions,
    SqliteStore, Store, TableMeta, ValueType,
};
use common::{int, text};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cascadia-adopt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join("db.sqlite")
}

/// `artist(ArtistId, Name)`, `album(AlbumId, ArtistId → artist, Title)`
/// with the album's FK index in the schema named `by_artist`, and `fk` as
/// the album's key.
fn schema(fk: ForeignKeyMeta, title_index: bool) -> Schema {
    let mut album = TableMeta::new("album")
        .with_column(ColumnMeta::new("AlbumId", ValueType::Integer))
        .with_column(ColumnMeta::new("ArtistId", ValueType::Integer))
        .with_column(ColumnMeta::new("Title", ValueType::Text))
        .with_primary_key(["AlbumId"])
        .with_index(IndexMeta::new("by_artist", ["ArtistId"]))
        .with_foreign_key(fk.with_index(IndexRef::Index("by_artist".into())));
    if title_index {
        album = album.with_index(IndexMeta::new("by_title", ["Title"]));
    }
    Schema::new(vec![
        TableMeta::new("artist")
            .with_column(ColumnMeta::new("ArtistId", ValueType::Integer))
            .with_column(ColumnMeta::new("Name", ValueType::Text))
            .with_primary_key(["ArtistId"]),
        album,
    ])
    .unwrap()
}

fn album_key() -> ForeignKeyMeta {
    ForeignKeyMeta::new(["ArtistId"], "artist", ["ArtistId"])
}

/// A database written by someone else: its own index names, `actions` on
/// the album's key, rollback journal.
fn write_file(path: &std::path::Path, actions: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE artist (ArtistId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
         CREATE TABLE album (AlbumId INTEGER PRIMARY KEY, ArtistId INTEGER NOT NULL,
           Title TEXT NOT NULL,
           FOREIGN KEY (ArtistId) REFERENCES artist (ArtistId) {actions});
         CREATE INDEX IFK_AlbumArtistId ON album (ArtistId);
         INSERT INTO artist VALUES (1, 'one'), (2, 'two');
         INSERT INTO album VALUES (10, 1, 'a'), (11, 1, 'b'), (12, 2, 'c');"
    ))
    .unwrap();
}

fn bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn has_table(store: &SqliteStore, name: &str) -> bool {
    store
        .with_connection_mut(|conn| {
            let n: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get(0),
            )?;
            Ok(n > 0)
        })
        .unwrap()
}

#[test]
fn an_index_is_found_by_its_columns_whatever_its_name() {
    let path = scratch("by-columns");
    write_file(&path, "");
    let store = SqliteStore::open(
        &path,
        schema(album_key().on_delete(Action::Cascade), false),
        SqliteOptions::default(),
    )
    .unwrap();
    assert!(store.foreign_key_differences().is_empty());
    // Opening wrote nothing: no job tables until the first job.
    assert!(!has_table(&store, JOBS_TABLE));
    let db = Database::new(store.clone());
    assert!(db.jobs().unwrap().is_empty());
    let outcome = db
        .delete_rows("artist", &[vec![int(1)]], &DeleteOptions::default())
        .unwrap();
    assert_eq!(outcome.rows_deleted("album"), 2);
    assert_eq!(
        db.rows("album").unwrap(),
        vec![vec![int(12), int(2), text("c")]]
    );
    // A scan of the schema's index reads the file's own index.
    {
        let mut tx = store.begin(cascadia::Access::Read).unwrap();
        let mut range = cascadia::IndexRange::new("album", IndexRef::Index("by_artist".into()));
        range.prefix = vec![int(2)];
        assert_eq!(tx.scan(&range, None, 10).unwrap().len(), 1);
    }
    assert!(
        store
            .prepared_statements()
            .iter()
            .any(|s| s.sql.contains("INDEXED BY \"IFK_AlbumArtistId\"")),
        "{:?}",
        store.prepared_statements()
    );
    // Passed the check: the journal mode is set.
    let mode: String = store
        .with_connection_mut(|conn| Ok(conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(mode, "wal");
    // The first job creates the job tables (or `setup_jobs`, which is
    // idempotent); a finished one leaves no row.
    db.enqueue_delete_rows("artist", &[vec![int(2)]], &DeleteOptions::default())
        .unwrap();
    assert!(has_table(&store, JOBS_TABLE) && has_table(&store, ROOTS_TABLE));
    db.setup_jobs().unwrap();
    cascadia::Worker::new(db.clone()).run_until_idle().unwrap();
    assert!(db.rows("album").unwrap().is_empty());
    assert!(db.jobs().unwrap().is_empty());
}

#[test]
fn a_refused_open_changes_nothing_and_names_the_create_index() {
    let path = scratch("refused");
    write_file(&path, "");
    let before = bytes(&path);
    let error = SqliteStore::open(
        &path,
        schema(album_key().on_delete(Action::Cascade), true),
        SqliteOptions::default(),
    )
    .unwrap_err();
    let Error::SchemaMismatch { missing } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        missing,
        &["missing index `album__by_title` on `album` (Title): CREATE INDEX \"album__by_title\" ON \"album\" (\"Title\")".to_owned()]
    );
    assert_eq!(bytes(&path), before, "a refused open changed the file");
    assert!(!std::path::Path::new(&format!("{}-wal", path.display())).exists());
    // An explicit setup creates the job tables.
    {
        let store = SqliteStore::open(
            &path,
            schema(album_key().on_delete(Action::Cascade), false),
            SqliteOptions::default(),
        )
        .unwrap();
        assert!(!has_table(&store, JOBS_TABLE));
        Database::new(store.clone()).setup_jobs().unwrap();
        assert!(has_table(&store, JOBS_TABLE) && has_table(&store, ROOTS_TABLE));
    }
    // Running the statement it names is enough.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE INDEX \"album__by_title\" ON \"album\" (\"Title\")")
        .unwrap();
    SqliteStore::open(
        &path,
        schema(album_key().on_delete(Action::Cascade), true),
        SqliteOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_native_action_cascadia_also_runs_is_refused_naming_both() {
    let path = scratch("conflict");
    write_file(&path, "ON DELETE CASCADE ON UPDATE SET NULL");
    let before = bytes(&path);
    let error = SqliteStore::open(
        &path,
        schema(
            album_key()
                .on_delete(Action::Cascade)
                .on_update(Action::Cascade)
                .named("fk_album_artist"),
            false,
        ),
        SqliteOptions::default(),
    )
    .unwrap_err();
    let Error::NativeActions { conflicts } = &error else {
        panic!("{error}");
    };
    assert_eq!(conflicts.len(), 2, "{error}");
    assert_eq!(conflicts[0].event, Operation::Delete);
    assert_eq!(conflicts[0].database, Action::Cascade);
    assert_eq!(conflicts[0].schema, Some(Action::Cascade));
    assert_eq!(conflicts[1].event, Operation::Update);
    assert_eq!(conflicts[1].database, Action::SetNull);
    assert_eq!(conflicts[1].schema, Some(Action::Cascade));
    let message = error.to_string();
    assert!(
        message.contains(
            "fk_album_artist album(ArtistId) → artist has ON UPDATE SET NULL in the database, and ON UPDATE CASCADE run by cascadia in the schema"
        ),
        "{message}"
    );
    assert!(message.contains("drop the database's action"), "{message}");
    assert!(message.contains("#[foreign_key(..., native)]"), "{message}");
    assert_eq!(bytes(&path), before, "a refused open changed the file");

    // `native` with other actions than the file's is refused too.
    let error = SqliteStore::open(
        &path,
        schema(
            album_key()
                .on_delete(Action::Cascade)
                .on_update(Action::Cascade)
                .native(),
            false,
        ),
        SqliteOptions::default(),
    )
    .unwrap_err();
    let Error::NativeActions { conflicts } = &error else {
        panic!("{error}");
    };
    assert_eq!(conflicts.len(), 1, "{error}");
    assert!(conflicts[0].native);
    assert!(
        error.to_string().contains(
            "album(ArtistId) → artist is `native` with ON UPDATE CASCADE in the schema, but the database declares ON UPDATE SET NULL"
        ),
        "{error}"
    );
    assert_eq!(bytes(&path), before);
}

/// With `foreign_keys` off SQLite runs no action: the file's actions do not
/// conflict, and cascadia runs every key, `native` ones too.
#[test]
fn with_foreign_keys_off_cascadia_runs_every_key() {
    let path = scratch("fk-off");
    write_file(&path, "ON DELETE CASCADE ON UPDATE CASCADE");
    for native in [false, true] {
        let mut fk = album_key()
            .on_delete(Action::Cascade)
            .on_update(Action::Cascade);
        if native {
            fk = fk.native();
        }
        let store = SqliteStore::open(
            &path,
            schema(fk, false),
            SqliteOptions::default().foreign_keys(false),
        )
        .unwrap();
        assert!(store.foreign_key_differences().is_empty());
    }
    let db = Database::new(
        SqliteStore::open(
            &path,
            schema(
                album_key()
                    .on_delete(Action::Cascade)
                    .on_update(Action::Cascade)
                    .native(),
                false,
            ),
            SqliteOptions::default().foreign_keys(false),
        )
        .unwrap(),
    );
    let outcome = db
        .update_row("artist", &[int(1)], vec![int(7), text("one")])
        .unwrap();
    assert_eq!(outcome.rows_updated("album"), 2);
    assert_eq!(db.rows("album").unwrap()[0][1], int(7));
}

/// A `native` key: SQLite runs its actions, cascadia's counts stay right.
#[test]
fn a_native_key_is_run_by_sqlite_and_counted_by_cascadia() {
    let path = scratch("native");
    write_file(&path, "ON DELETE CASCADE ON UPDATE CASCADE");
    let store = SqliteStore::open(
        &path,
        schema(
            album_key()
                .on_delete(Action::Cascade)
                .on_update(Action::Cascade)
                .native(),
            false,
        ),
        SqliteOptions::default(),
    )
    .unwrap();
    let db = Database::new(store);
    let outcome = db
        .update_row("artist", &[int(1)], vec![int(7), text("one")])
        .unwrap();
    assert_eq!(outcome.rows_updated("album"), 2);
    assert_eq!(
        db.rows("album").unwrap(),
        vec![
            vec![int(10), int(7), text("a")],
            vec![int(11), int(7), text("b")],
            vec![int(12), int(2), text("c")],
        ]
    );
    // Batched, one row per batch: cascadia deletes the albums first.
    let outcome = db
        .delete_rows(
            "artist",
            &[vec![int(7)]],
            &DeleteOptions::default().budget(cascadia::Budget::UNLIMITED.rows_written(1)),
        )
        .unwrap();
    assert_eq!(outcome.rows_deleted("album"), 2);
    assert_eq!(outcome.rows_deleted("artist"), 1);
    // In one transaction: the same order, the same counts.
    let outcome = db
        .delete_rows("artist", &[vec![int(2)]], &DeleteOptions::default().sync())
        .unwrap();
    assert_eq!(outcome.rows_deleted("album"), 1);
    assert_eq!(outcome.rows_deleted("artist"), 1);
    assert!(db.rows("album").unwrap().is_empty());
    assert!(db.rows("artist").unwrap().is_empty());
}

#[test]
fn keys_declared_on_one_side_only_are_reported() {
    let path = scratch("one-side");
    write_file(&path, "");
    // The file declares album → artist; this schema declares no key.
    let bare = Schema::new(vec![
        TableMeta::new("artist")
            .with_column(ColumnMeta::new("ArtistId", ValueType::Integer))
            .with_column(ColumnMeta::new("Name", ValueType::Text))
            .with_primary_key(["ArtistId"]),
        TableMeta::new("album")
            .with_column(ColumnMeta::new("AlbumId", ValueType::Integer))
            .with_column(ColumnMeta::new("ArtistId", ValueType::Integer))
            .with_column(ColumnMeta::new("Title", ValueType::Text))
            .with_primary_key(["AlbumId"]),
    ])
    .unwrap();
    let store = SqliteStore::open(&path, bare, SqliteOptions::default()).unwrap();
    assert_eq!(
        store.foreign_key_differences(),
        [
            "foreign key album(ArtistId) → artist is declared in the database but not in the schema: SQLite checks it at commit, cascadia does not know it"
        ]
    );
    drop(store);

    // With a cascade in the file, the key the schema lacks is refused.
    let path = scratch("one-side-cascade");
    write_file(&path, "ON DELETE CASCADE");
    let mut tables: Vec<TableMeta> = schema(album_key(), false).tables().cloned().collect();
    tables[1].foreign_keys.to_mut().clear();
    let error = SqliteStore::open(
        &path,
        Schema::new(tables).unwrap(),
        SqliteOptions::default(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("album(ArtistId) → artist has ON DELETE CASCADE in the database and is not in the schema"),
        "{error}"
    );

    // A key only the schema declares: cascadia enforces it alone.
    let path = scratch("schema-only");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE artist (ArtistId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
         CREATE TABLE album (AlbumId INTEGER PRIMARY KEY, ArtistId INTEGER NOT NULL, Title TEXT NOT NULL);
         CREATE INDEX i ON album (ArtistId);",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(
        &path,
        schema(album_key().on_delete(Action::Cascade), false),
        SqliteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        store.foreign_key_differences(),
        [
            "foreign key album(ArtistId) → artist is in the schema but not declared in the database: cascadia enforces it, SQLite does not check it"
        ]
    );
}

#[test]
fn cascadia_declares_native_keys_with_their_actions_and_names() {
    let statements = create_statements(
        &schema(
            album_key()
                .on_delete(Action::Cascade)
                .native()
                .named("fk_album_artist"),
            false,
        ),
        &DdlOptions::default(),
    )
    .unwrap();
    assert!(
        statements[1].contains(
            "CONSTRAINT \"fk_album_artist\" FOREIGN KEY (\"ArtistId\") REFERENCES \"artist\" (\"ArtistId\") ON DELETE CASCADE ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED"
        ),
        "{}",
        statements[1]
    );
    let mut tables: Vec<TableMeta> = schema(album_key(), false).tables().cloned().collect();
    tables[1].indexes.to_mut()[0] =
        IndexMeta::new("by_artist", ["ArtistId"]).with_sql_name("IFK_AlbumArtistId");
    let statements =
        create_statements(&Schema::new(tables).unwrap(), &DdlOptions::default()).unwrap();
    assert!(
        statements
            .contains(&"CREATE INDEX \"IFK_AlbumArtistId\" ON \"album\" (\"ArtistId\")".to_owned()),
        "{statements:?}"
    );
    // A database cascadia creates for a native key opens again, and SQLite
    // runs the key.
    let path = scratch("created-native");
    let native = || schema(album_key().on_delete(Action::Cascade).native(), false);
    let db = Database::new(SqliteStore::open(&path, native(), SqliteOptions::default()).unwrap());
    db.insert_row("artist", vec![int(1), text("one")]).unwrap();
    db.insert_row("album", vec![int(10), int(1), text("a")])
        .unwrap();
    drop(db);
    let db = Database::new(SqliteStore::open(&path, native(), SqliteOptions::default()).unwrap());
    let outcome = db
        .delete_rows("artist", &[vec![int(1)]], &DeleteOptions::default())
        .unwrap();
    assert_eq!(outcome.rows_deleted("album"), 1);
}

/// A `native` key whose ON UPDATE rewrites columns another key references
/// is refused: the database would change keys the engine does not see.
#[test]
fn a_native_key_rewriting_referenced_columns_is_refused() {
    let error = Schema::new(vec![
        TableMeta::new("artist")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_primary_key(["id"]),
        TableMeta::new("album")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("artist_id", ValueType::Integer))
            .with_primary_key(["id", "artist_id"])
            .with_foreign_key(
                ForeignKeyMeta::new(["artist_id"], "artist", ["id"])
                    .on_update(Action::Cascade)
                    .native()
                    .with_index(IndexRef::Index("by_artist".into())),
            )
            .with_index(IndexMeta::new("by_artist", ["artist_id"])),
        TableMeta::new("track")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("album_id", ValueType::Integer))
            .with_column(ColumnMeta::new("artist_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_album", ["album_id", "artist_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["album_id", "artist_id"], "album", ["id", "artist_id"])
                    .on_update(Action::Cascade)
                    .with_index(IndexRef::Index("by_album".into())),
            ),
    ])
    .unwrap_err();
    assert!(
        error.to_string().contains(
            "the `native` key to `artist` rewrites `artist_id` on update, which `track`(album_id, artist_id) references"
        ),
        "{error}"
    );
}

/// A `UNIQUE` constraint serves a unique index of the schema, the primary
/// key serves an index on its columns; a non-unique index cannot serve a
/// unique one.
#[test]
fn unique_constraints_and_the_primary_key_serve_too() {
    let path = scratch("constraints");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE artist (ArtistId INTEGER PRIMARY KEY, Name TEXT NOT NULL UNIQUE, Born INTEGER);
         CREATE INDEX plain_born ON artist (Born);
         INSERT INTO artist VALUES (1, 'one', 1970), (2, 'two', 1980);",
    )
    .unwrap();
    drop(conn);
    let artist = |born_unique: bool| {
        let born = IndexMeta::new("by_born", ["Born"]);
        Schema::new(vec![
            TableMeta::new("artist")
                .with_column(ColumnMeta::new("ArtistId", ValueType::Integer))
                .with_column(ColumnMeta::new("Name", ValueType::Text))
                .with_column(ColumnMeta::new("Born", ValueType::Integer).nullable())
                .with_primary_key(["ArtistId"])
                .with_index(IndexMeta::new("by_name", ["Name"]).unique())
                .with_index(IndexMeta::new("by_id", ["ArtistId"]))
                .with_index(if born_unique { born.unique() } else { born }),
        ])
        .unwrap()
    };
    let error = SqliteStore::open(&path, artist(true), SqliteOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the database does not match the schema: missing index `artist__by_born` on `artist` (Born): CREATE UNIQUE INDEX \"artist__by_born\" ON \"artist\" (\"Born\")"
    );
    let store = SqliteStore::open(&path, artist(false), SqliteOptions::default()).unwrap();
    let mut tx = store.begin(cascadia::Access::Read).unwrap();
    for (index, value, found) in [
        ("by_name", text("two"), 2),
        ("by_id", int(1), 1),
        ("by_born", int(1970), 1),
    ] {
        let mut range = cascadia::IndexRange::new("artist", IndexRef::Index(index.into()));
        range.prefix = vec![value];
        let rows = tx.scan(&range, None, 10).unwrap();
        assert_eq!(rows.len(), 1, "{index}");
        assert_eq!(rows[0][0], int(found), "{index}");
    }
    drop(tx);
    let statements: Vec<String> = store
        .prepared_statements()
        .into_iter()
        .map(|s| s.sql)
        .collect();
    assert!(
        statements
            .iter()
            .any(|s| s.contains("INDEXED BY \"sqlite_autoindex_artist_1\"")),
        "{statements:?}"
    );
    assert!(
        statements
            .iter()
            .any(|s| s.contains("INDEXED BY \"plain_born\"")),
        "{statements:?}"
    );
}
