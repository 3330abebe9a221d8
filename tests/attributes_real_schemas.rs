//! The attribute language for schemas that already exist: `rename_all`,
//! constraint names, index names that are not Rust identifiers, unsigned
//! integer columns, and `native` keys — in the metadata, in the DDL, and
//! on a database SQLite runs the native keys of.

use cascadia::store::sqlite::ddl::{DdlOptions, create_statements};
use cascadia::{Action, Database, Error, Id, Schema, SqliteOptions, SqliteStore, Table, schema};
use serde::{Deserialize, Serialize};

#[derive(Table, Serialize, Deserialize, Debug, PartialEq)]
#[table(name = "Artist", rename_all = "PascalCase")]
pub struct Artist {
    #[primary_key]
    pub artist_id: u32,
    #[unique]
    pub name: String,
}

#[derive(Table, Serialize, Deserialize, Debug, PartialEq)]
#[table(name = "Album", rename_all = "PascalCase")]
#[index(name = "by_artist", sql_name = "IFK_AlbumArtistId", columns(artist_id))]
pub struct Album {
    #[primary_key]
    pub album_id: u32,
    #[foreign_key(references = Artist, on_delete = cascade, on_update = cascade, name = "fk_album_artist", native)]
    pub artist_id: Id<Artist>,
    pub title: String,
    #[column(name = "track_count")]
    pub tracks: u16,
    pub bytes: u64,
}

static SCHEMA: Schema = schema![Artist, Album];

#[test]
fn rename_all_names_columns_and_leaves_the_fields_to_serde() {
    let album = Album::META;
    let columns: Vec<(&str, &str)> = album
        .columns
        .iter()
        .map(|c| (&*c.name, &*c.field))
        .collect();
    assert_eq!(
        columns,
        [
            ("AlbumId", "album_id"),
            ("ArtistId", "artist_id"),
            ("Title", "title"),
            ("track_count", "tracks"),
            ("Bytes", "bytes"),
        ]
    );
    assert_eq!(album.name, "Album");
    // Default index names are query methods: snake_case from the columns.
    assert_eq!(Artist::META.indexes[0].name, "by_name");
    assert_eq!(&*Artist::META.indexes[0].columns, ["Name"]);
    let _ = Artist::indexes().by_name();
    assert_eq!(&*album.primary_key, ["AlbumId"]);
    assert_eq!(
        album.foreign_keys[0].referenced_columns[..],
        ["ArtistId".to_owned()]
    );
}

#[test]
fn index_sql_names_and_constraint_names_reach_the_metadata_and_the_ddl() {
    let album = Album::META;
    assert_eq!(album.indexes[0].name, "by_artist");
    assert_eq!(
        album.indexes[0].sql_name.as_deref(),
        Some("IFK_AlbumArtistId")
    );
    let fk = &album.foreign_keys[0];
    assert_eq!(fk.name.as_deref(), Some("fk_album_artist"));
    assert!(fk.native);
    assert_eq!(fk.on_delete, Action::Cascade);
    let statements = create_statements(&SCHEMA, &DdlOptions::default()).unwrap();
    assert!(
        statements[1].contains(
            "CONSTRAINT \"fk_album_artist\" FOREIGN KEY (\"ArtistId\") REFERENCES \"Artist\" (\"ArtistId\") ON DELETE CASCADE ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED"
        ),
        "{}",
        statements[1]
    );
    assert!(
        statements
            .contains(&"CREATE INDEX \"IFK_AlbumArtistId\" ON \"Album\" (\"ArtistId\")".to_owned()),
        "{statements:?}"
    );
    // The exports show the name and who runs the key.
    assert!(
        SCHEMA.to_dot().contains(
            "fk_album_artist\\nArtistId → ArtistId\\nON DELETE CASCADE\\nON UPDATE CASCADE\\nrun by the database"
        ),
        "{}",
        SCHEMA.to_dot()
    );
    assert!(SCHEMA.to_mermaid().contains("<br/>run by the database"));
    // The typed query keeps its Rust name.
    let _ = Album::indexes().by_artist();
    // The constraint's name is in the messages about the key.
    let key = SCHEMA.foreign_keys().next().unwrap();
    assert_eq!(
        key.name(&SCHEMA).to_string(),
        "fk_album_artist Album(ArtistId) → Artist"
    );
}

#[test]
fn unsigned_columns_round_trip_and_u64_past_i64_max_is_refused() {
    let db = Database::new(
        SqliteStore::open_in_memory(SCHEMA.clone(), SqliteOptions::default()).unwrap(),
    );
    db.insert(&Artist {
        artist_id: u32::MAX,
        name: "max".into(),
    })
    .unwrap();
    let album = Album {
        album_id: 1,
        artist_id: Id::new(u32::MAX),
        title: "t".into(),
        tracks: u16::MAX,
        bytes: i64::MAX as u64,
    };
    db.insert(&album).unwrap();
    assert_eq!(db.get::<Album>(&1).unwrap(), Some(album));
    let error = db
        .insert(&Album {
            album_id: 2,
            artist_id: Id::new(u32::MAX),
            title: "t".into(),
            tracks: 0,
            bytes: u64::MAX,
        })
        .unwrap_err();
    assert!(matches!(error, Error::Conversion(_)), "{error}");
    assert_eq!(
        error.to_string(),
        "column `Bytes` of table `Album` (field `bytes`): 18446744073709551615 is above 9223372036854775807, the largest integer SQLite stores: a u64 column holds 0 to 9223372036854775807"
    );
}

/// The derive's `native` key on a database cascadia created: SQLite runs
/// it, cascadia counts it, and a reopen finds the file as the schema says.
#[test]
fn a_native_key_from_the_derive_runs_in_sqlite() {
    let path = std::env::temp_dir().join(format!(
        "cascadia-attributes-{}-native.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    {
        let db = Database::new(
            SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).unwrap(),
        );
        db.insert(&Artist {
            artist_id: 1,
            name: "one".into(),
        })
        .unwrap();
        for album_id in 1..=3 {
            db.insert(&Album {
                album_id,
                artist_id: Id::new(1),
                title: "t".into(),
                tracks: 1,
                bytes: 1,
            })
            .unwrap();
        }
    }
    let db =
        Database::new(SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).unwrap());
    let outcome = db
        .update(&Artist {
            artist_id: 1,
            name: "one".into(),
        })
        .unwrap();
    assert_eq!(outcome.rows_updated("Album"), 0);
    let outcome = db
        .update_key::<Artist>(
            &1,
            &Artist {
                artist_id: 2,
                name: "one".into(),
            },
        )
        .unwrap();
    assert_eq!(outcome.rows_updated("Album"), 3);
    for album_id in 1..=3 {
        assert_eq!(
            db.get::<Album>(&album_id).unwrap().unwrap().artist_id,
            Id::new(2)
        );
    }
    let outcome = db.delete::<Artist>(&2).unwrap();
    assert_eq!(outcome.rows_deleted("Album"), 3);
}
