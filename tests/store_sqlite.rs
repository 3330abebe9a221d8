//! What only the SQLite store does: DDL, checking an existing database at
//! open, pragmas, SQLite's own foreign-key check at commit, quoting.

mod common;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::store::sqlite::JOBS_TABLE;
use cascadia::store::sqlite::ddl::{DdlOptions, create_statements};
use cascadia::{
    Access, Action, Database, DeleteOptions, Error, IndexRef, Schema, SqliteOptions, SqliteStore,
    Store, TableMeta, Value, ValueType,
};
use common::{int, teams_schema, text};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cascadia-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join("db.sqlite")
}

#[test]
fn ddl_declares_every_foreign_key_without_actions_and_deferred() {
    let statements = create_statements(&teams_schema(), &DdlOptions::default()).unwrap();
    assert_eq!(
        statements[1],
        "CREATE TABLE \"members\" (\n  \"id\" INTEGER NOT NULL,\n  \"team_id\" INTEGER NOT NULL,\n  \"mentor_id\" INTEGER,\n  \"name\" TEXT NOT NULL,\n  PRIMARY KEY (\"id\"),\n  FOREIGN KEY (\"team_id\") REFERENCES \"teams\" (\"id\") DEFERRABLE INITIALLY DEFERRED,\n  FOREIGN KEY (\"mentor_id\") REFERENCES \"members\" (\"id\") DEFERRABLE INITIALLY DEFERRED\n)"
    );
    assert!(
        statements
            .contains(&"CREATE UNIQUE INDEX \"teams__by_slug\" ON \"teams\" (\"slug\")".to_owned())
    );
    assert!(statements.contains(
        &"CREATE INDEX \"members__by_team\" ON \"members\" (\"team_id\", \"name\")".to_owned()
    ));
}

#[test]
fn ddl_with_native_actions_is_the_oracle() {
    let statements =
        create_statements(&teams_schema(), &DdlOptions::default().native_actions(true)).unwrap();
    assert!(statements[1].contains(
        "FOREIGN KEY (\"team_id\") REFERENCES \"teams\" (\"id\") ON DELETE CASCADE ON UPDATE CASCADE"
    ));
    assert!(statements[1].contains(
        "FOREIGN KEY (\"mentor_id\") REFERENCES \"members\" (\"id\") ON DELETE SET NULL ON UPDATE NO ACTION"
    ));
}

#[test]
fn ddl_uses_without_rowid_unless_the_key_is_one_integer() {
    let schema = Schema::new(vec![
        TableMeta::new("pairs")
            .with_column(ColumnMeta::new("a", ValueType::Integer))
            .with_column(ColumnMeta::new("b", ValueType::Text).with_default("x"))
            .with_primary_key(["a", "b"]),
    ])
    .unwrap();
    let statements =
        create_statements(&schema, &DdlOptions::default().if_not_exists(true)).unwrap();
    assert_eq!(
        statements[0],
        "CREATE TABLE IF NOT EXISTS \"pairs\" (\n  \"a\" INTEGER NOT NULL,\n  \"b\" TEXT NOT NULL DEFAULT 'x',\n  PRIMARY KEY (\"a\", \"b\")\n) WITHOUT ROWID"
    );
}

#[test]
fn a_file_database_uses_wal_and_normal_sync_and_reopens() {
    let path = scratch("wal");
    {
        let store = SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap();
        assert!(store.capabilities().durable);
        assert!(store.capabilities().concurrent_readers);
        let (mode, sync, fks): (String, i64, i64) = store
            .with_connection_mut(|conn| {
                Ok((
                    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                    conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((mode.as_str(), sync, fks), ("wal", 1, 1));
        Database::new(store)
            .insert_row("teams", vec![int(1), text("one")])
            .unwrap();
    }
    let store = SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap();
    assert_eq!(
        Database::new(store).get_row("teams", &[int(1)]).unwrap(),
        Some(vec![int(1), text("one")])
    );
}

#[test]
fn opening_a_database_that_lacks_part_of_the_schema_fails_naming_it() {
    let path = scratch("mismatch");
    let small = Schema::new(vec![
        TableMeta::new("teams")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_primary_key(["id"]),
    ])
    .unwrap();
    drop(SqliteStore::open(&path, small, SqliteOptions::default()).unwrap());
    let error = SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap_err();
    let Error::SchemaMismatch { missing } = &error else {
        panic!("{error}");
    };
    assert!(
        missing.contains(&"missing column `teams.slug`".to_owned()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"missing table `members`".to_owned()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"missing table `posts`".to_owned()),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("missing index `teams__by_slug`")),
        "{missing:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the database does not match the schema: ")
    );
}

#[test]
fn an_index_with_other_columns_is_a_mismatch() {
    let path = scratch("index");
    drop(SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap());
    let mut tables: Vec<TableMeta> = teams_schema().tables().cloned().collect();
    tables[1].indexes.to_mut()[0] = IndexMeta::new("by_team", ["team_id"]);
    let changed = Schema::new(tables).unwrap();
    let error = SqliteStore::open(&path, changed, SqliteOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("index `members__by_team` is (team_id, name) but the schema wants (team_id)"),
        "{error}"
    );
}

#[test]
fn sqlite_checks_foreign_keys_at_commit_as_a_safety_net() {
    let store = SqliteStore::open_in_memory(teams_schema(), SqliteOptions::default()).unwrap();
    {
        // The store itself does not check foreign keys: an orphan written
        // through it is caught by SQLite at commit, and nothing is kept.
        let mut tx = store.begin(Access::Write).unwrap();
        tx.insert("teams", &[int(1), text("one")]).unwrap();
        tx.insert("members", &[int(7), int(9), Value::Null, text("orphan")])
            .unwrap();
        let error = tx.commit().unwrap_err();
        assert!(
            error.to_string().contains("FOREIGN KEY constraint failed"),
            "{error}"
        );
    }
    let db = Database::new(store);
    assert_eq!(db.get_row("teams", &[int(1)]).unwrap(), None);
    // The connection is usable afterwards.
    db.insert_row("teams", vec![int(1), text("one")]).unwrap();
}

#[test]
fn identifiers_are_quoted_and_values_bound() {
    let schema = Schema::new(vec![
        TableMeta::new("my \"odd\" table")
            .with_column(ColumnMeta::new("select", ValueType::Integer))
            .with_column(ColumnMeta::new("from; drop", ValueType::Text))
            .with_primary_key(["select"]),
        TableMeta::new("child table")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("parent id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by parent", ["parent id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["parent id"], "my \"odd\" table", ["select"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by parent".into())),
            ),
    ])
    .unwrap();
    let db = Database::new(SqliteStore::open_in_memory(schema, SqliteOptions::default()).unwrap());
    db.insert_row(
        "my \"odd\" table",
        vec![int(1), text("'); DROP TABLE x; --")],
    )
    .unwrap();
    db.insert_row("child table", vec![int(1), int(1)]).unwrap();
    let outcome = db
        .delete_rows(
            "my \"odd\" table",
            &[vec![int(1)]],
            &DeleteOptions::default(),
        )
        .unwrap();
    assert_eq!(outcome.rows_deleted("child table"), 1);
}

#[test]
fn jobs_live_in_the_same_database() {
    let store = SqliteStore::open_in_memory(teams_schema(), SqliteOptions::default()).unwrap();
    let mut tx = store.begin(Access::Write).unwrap();
    tx.insert_job(&cascadia::JobRow::new("teams", None, b"{}".to_vec()))
        .unwrap();
    tx.commit().unwrap();
    let count: i64 = store
        .with_connection_mut(|conn| {
            Ok(
                conn.query_row(&format!("SELECT count(*) FROM \"{JOBS_TABLE}\""), [], |r| {
                    r.get(0)
                })?,
            )
        })
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn an_invalid_schema_is_refused_at_open() {
    static BAD: TableMeta = TableMeta {
        name: std::borrow::Cow::Borrowed("bad"),
        type_name: std::borrow::Cow::Borrowed("Bad"),
        columns: std::borrow::Cow::Borrowed(&[]),
        primary_key: std::borrow::Cow::Borrowed(&[std::borrow::Cow::Borrowed("id")]),
        indexes: std::borrow::Cow::Borrowed(&[]),
        foreign_keys: std::borrow::Cow::Borrowed(&[]),
        soft_delete: None,
        deletion: cascadia::Deletion::Hard,
    };
    static TABLES: [&TableMeta; 1] = [&BAD];
    let schema = Schema::from_static(&TABLES);
    let error = SqliteStore::open_in_memory(schema.clone(), SqliteOptions::default()).unwrap_err();
    assert!(matches!(error, Error::InvalidSchema { .. }), "{error}");
    let error = cascadia::MemoryStore::new(schema).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("primary key column(s) `id` do not exist"),
        "{error}"
    );
}

/// A database whose foreign keys are checked per statement (not created by
/// cascadia): the store defers them itself in each write transaction, so a
/// key update that passes through a violating state still commits.
#[test]
fn immediate_foreign_keys_are_deferred_per_transaction() {
    let path = scratch("immediate");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE teams (id INTEGER NOT NULL PRIMARY KEY, slug TEXT NOT NULL);
             CREATE UNIQUE INDEX teams__by_slug ON teams (slug);
             CREATE TABLE members (id INTEGER NOT NULL PRIMARY KEY, team_id INTEGER NOT NULL
               REFERENCES teams (id), mentor_id INTEGER REFERENCES members (id), name TEXT NOT NULL);
             CREATE INDEX members__by_team ON members (team_id, name);
             CREATE INDEX members__by_mentor ON members (mentor_id);
             CREATE INDEX members__by_team_mentor ON members (team_id, mentor_id);
             CREATE TABLE posts (id INTEGER NOT NULL PRIMARY KEY, member_id INTEGER NOT NULL
               REFERENCES members (id), body TEXT NOT NULL);
             CREATE INDEX posts__by_member ON posts (member_id);
             INSERT INTO teams VALUES (1, 'one');
             INSERT INTO members VALUES (10, 1, NULL, 'm');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap();
    let db = Database::new(store);
    // members.team_id is ON UPDATE CASCADE: the team's key changes first.
    let outcome = db
        .update_row("teams", &[int(1)], vec![int(2), text("one")])
        .unwrap();
    assert_eq!(outcome.rows_updated("members"), 1);
    assert_eq!(
        db.get_row("members", &[int(10)]).unwrap().unwrap()[1],
        int(2)
    );
}

fn count_rows(store: &SqliteStore, table: &str) -> i64 {
    store
        .with_connection_mut(|conn| {
            let exists: i64 = conn.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            if exists == 0 {
                return Ok(0);
            }
            Ok(
                conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })?,
            )
        })
        .unwrap()
}

/// A batched delete that took many batches leaves no bookkeeping behind:
/// no job row, no roots chunk.
#[test]
fn a_finished_batched_job_leaves_no_rows() {
    let path = scratch("finished-job");
    let store = SqliteStore::open(&path, teams_schema(), SqliteOptions::default()).unwrap();
    let db = Database::new(store.clone());
    for team in 1..=3 {
        db.insert_row("teams", vec![int(team), text(&format!("t{team}"))])
            .unwrap();
        for m in 0..20 {
            let id = team * 100 + m;
            db.insert_row("members", vec![int(id), int(team), Value::Null, text("m")])
                .unwrap();
        }
    }
    let outcome = db
        .delete_rows(
            "teams",
            &[vec![int(1)], vec![int(2)], vec![int(3)]],
            &DeleteOptions::default().budget(cascadia::Budget::UNLIMITED.rows_written(7)),
        )
        .unwrap();
    assert_eq!(outcome.rows_deleted("members"), 60);
    assert!(db.jobs().unwrap().is_empty());
    assert_eq!(count_rows(&store, JOBS_TABLE), 0);
    assert_eq!(count_rows(&store, cascadia::store::sqlite::ROOTS_TABLE), 0);
    // Nor does a queued job drained by a worker's run.
    db.insert_row("teams", vec![int(4), text("t4")]).unwrap();
    for m in 0..20 {
        db.insert_row(
            "members",
            vec![int(400 + m), int(4), Value::Null, text("m")],
        )
        .unwrap();
    }
    db.enqueue_delete_rows(
        "teams",
        &[vec![int(4)]],
        &DeleteOptions::default().budget(cascadia::Budget::UNLIMITED.rows_written(7)),
    )
    .unwrap();
    // Roots past one chunk (1,000 keys), stored beside the job row.
    let roots: Vec<Vec<Value>> = (1000..3500).map(|team| vec![int(team)]).collect();
    for root in &roots {
        db.insert_row(
            "teams",
            vec![root[0].clone(), text(&format!("t{:?}", root[0]))],
        )
        .unwrap();
    }
    db.enqueue_delete_rows(
        "teams",
        &roots,
        &DeleteOptions::default().budget(cascadia::Budget::UNLIMITED.rows_written(700)),
    )
    .unwrap();
    assert!(count_rows(&store, cascadia::store::sqlite::ROOTS_TABLE) >= 3);
    cascadia::Worker::new(db.clone()).run_until_idle().unwrap();
    assert!(db.jobs().unwrap().is_empty());
    assert_eq!(db.rows("members").unwrap().len(), 0);
    assert_eq!(db.rows("teams").unwrap().len(), 0);
    assert_eq!(count_rows(&store, JOBS_TABLE), 0);
    assert_eq!(count_rows(&store, cascadia::store::sqlite::ROOTS_TABLE), 0);
}

/// A key update onto a key that exists names the row updated (by its old
/// key) and the key it collides with.
#[test]
fn a_duplicate_key_on_a_key_update_names_the_updated_row() {
    let db = common::sqlite(teams_schema());
    db.insert_row("teams", vec![int(1), text("one")]).unwrap();
    db.insert_row("teams", vec![int(2), text("two")]).unwrap();
    let error = db
        .update_row("teams", &[int(1)], vec![int(2), text("uno")])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot update teams 1: UNIQUE key teams(id) = 2 already exists"
    );
    let error = db
        .update_row("teams", &[int(1)], vec![int(1), text("two")])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot update teams 1: UNIQUE key teams(slug) = 'two' already exists"
    );
    let memory = common::memory(teams_schema());
    memory
        .insert_row("teams", vec![int(1), text("one")])
        .unwrap();
    memory
        .insert_row("teams", vec![int(2), text("two")])
        .unwrap();
    let error = memory
        .update_row("teams", &[int(1)], vec![int(2), text("uno")])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot update teams 1: UNIQUE key teams(id) = 2 already exists"
    );
}
