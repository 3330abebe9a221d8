//! Typed CRUD through serde on every backend: insert, get, update, key
//! update, delete and index scans of `#[derive(Table)]` structs holding every
//! column type (i64, i32, i16, bool, f64, String, Vec<u8>, Option<_>, Id<T>),
//! with single and composite keys, a renamed column and a default.
//! `typed_crud_suite!` generates the tests for the memory, SQLite and
//! PostgreSQL stores.

mod common;

use cascadia::{
    Database, DeleteOptions, Error, Id, IndexRange, MemoryStore, Schema, SqliteOptions,
    SqliteStore, Table, Value, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "teams")]
struct Team {
    #[primary_key]
    id: i64,
    #[unique]
    slug: String,
}

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id, age))]
#[index(name = "by_mentor", columns(mentor))]
struct Member {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Team, on_delete = cascade, on_update = cascade)]
    team_id: Id<Team>,
    #[foreign_key(references = Member, on_delete = set_null, on_update = cascade)]
    mentor: Option<Id<Member>>,
    age: i32,
    level: i16,
    active: bool,
    score: f64,
    avatar: Vec<u8>,
    nick: Option<String>,
    #[column(name = "role_code", default = 7)]
    role: i32,
}

/// A composite key: (team_id, member_id).
#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "seats", primary_key(team_id, member_id))]
#[index(name = "by_member", columns(member_id))]
struct Seat {
    #[foreign_key(references = Team, on_delete = cascade, on_update = cascade)]
    team_id: Id<Team>,
    #[foreign_key(references = Member, on_delete = cascade, on_update = cascade)]
    member_id: Id<Member>,
    label: String,
}

/// Not in the schema.
#[derive(Debug, Table, Serialize, Deserialize)]
#[table(name = "strays")]
struct Stray {
    #[primary_key]
    id: i64,
}

static SCHEMA: Schema = schema![Team, Member, Seat];

fn member(id: i64, team: i64, mentor: Option<i64>, age: i32) -> Member {
    Member {
        id,
        team_id: Id::new(team),
        mentor: mentor.map(Id::new),
        age,
        level: -3,
        active: id % 2 == 0,
        score: 2.5,
        avatar: vec![0, 255, 7],
        nick: (id % 3 == 0).then(|| format!("n{id}")),
        role: 7,
    }
}

fn fill(db: &Database) {
    db.write(|tx| {
        tx.insert(&Team {
            id: 1,
            slug: "one".into(),
        })?;
        tx.insert(&Team {
            id: 2,
            slug: "two".into(),
        })?;
        tx.insert(&member(10, 1, None, 30))?;
        for id in 11..16 {
            tx.insert(&member(id, 1, Some(10), 20 + id as i32))?;
        }
        tx.insert(&member(20, 2, None, 40))?;
        tx.insert(&Seat {
            team_id: Id::new(1),
            member_id: Id::new(11),
            label: "front".into(),
        })
    })
    .unwrap();
}

fn typed_rows_round_trip_every_column_type(backend: &str, db: Database) {
    fill(&db);
    assert_eq!(
        db.get::<Member>(&12).unwrap(),
        Some(member(12, 1, Some(10), 32)),
        "{backend}"
    );
    assert_eq!(db.get::<Member>(&99).unwrap(), None, "{backend}");
    assert_eq!(
        db.get::<Seat>(&(Id::new(1), Id::new(11)))
            .unwrap()
            .map(|s| s.label),
        Some("front".to_owned()),
        "{backend}"
    );
    // A renamed column is stored under its SQL name.
    let position = Member::META.column_position("role_code").unwrap();
    let row = db
        .get_row("members", &[Value::Integer(12)])
        .unwrap()
        .unwrap();
    assert_eq!(row[position], Value::Integer(7), "{backend}");
}

fn typed_updates_and_key_updates_run_actions(backend: &str, db: Database) {
    fill(&db);
    let mut older = member(12, 1, Some(10), 32);
    older.age = 33;
    older.nick = Some("older".into());
    let outcome = db.update(&older).unwrap();
    assert_eq!(outcome.rows_updated("members"), 1, "{backend}");
    assert_eq!(db.get::<Member>(&12).unwrap(), Some(older), "{backend}");

    // Changing a key others reference cascades into members and seats.
    let outcome = db
        .update_key(
            &1,
            &Team {
                id: 5,
                slug: "one".into(),
            },
        )
        .unwrap();
    assert_eq!(outcome.rows_updated("members"), 6, "{backend}");
    assert_eq!(outcome.rows_updated("seats"), 1, "{backend}");
    assert_eq!(
        db.get::<Seat>(&(Id::new(5), Id::new(11)))
            .unwrap()
            .map(|s| s.label)
            .as_deref(),
        Some("front"),
        "{backend}"
    );
    let error = db
        .update(&Team {
            id: 77,
            slug: "x".into(),
        })
        .unwrap_err();
    assert!(
        matches!(error, Error::NotFound { .. }),
        "{backend}: {error}"
    );
}

fn typed_deletes_run_actions(backend: &str, db: Database) {
    fill(&db);
    let outcome = db.delete::<Member>(&10).unwrap();
    assert_eq!(outcome.rows_deleted("members"), 1, "{backend}");
    assert_eq!(outcome.rows_updated("members"), 5, "{backend}");
    assert_eq!(
        db.get::<Member>(&11).unwrap().unwrap().mentor,
        None,
        "{backend}"
    );
    let outcome = db
        .delete_with::<Team>(&[1, 2], &DeleteOptions::default())
        .unwrap();
    assert_eq!(outcome.rows_deleted("members"), 6, "{backend}");
    assert_eq!(outcome.rows_deleted("seats"), 1, "{backend}");
    assert_eq!(
        db.delete::<Seat>(&(Id::new(1), Id::new(11)))
            .unwrap()
            .rows_written(),
        0,
        "{backend}"
    );
}

fn typed_index_queries_page_through_ranges(backend: &str, db: Database) {
    fill(&db);
    let range: IndexRange = Member::indexes()
        .by_team()
        .team_id()
        .eq(Id::new(1))
        .age()
        .ge(31)
        .into();
    let first = db.scan::<Member>(&range, None, 2).unwrap();
    let ages = |page: &cascadia::Page<Member>| page.rows.iter().map(|m| m.age).collect::<Vec<_>>();
    assert_eq!(ages(&first), vec![31, 32], "{backend}");
    let second = db.scan::<Member>(&range, first.next.as_ref(), 2).unwrap();
    assert_eq!(ages(&second), vec![33, 34], "{backend}");
    let third = db.scan::<Member>(&range, second.next.as_ref(), 2).unwrap();
    assert_eq!(ages(&third), vec![35], "{backend}");
    assert!(third.next.is_none(), "{backend}");
    // The primary key and a unique index are indexes too.
    let seats: IndexRange = Seat::indexes()
        .by_primary_key()
        .team_id()
        .eq(Id::new(1))
        .into();
    assert_eq!(
        db.scan::<Seat>(&seats, None, 10).unwrap().rows.len(),
        1,
        "{backend}"
    );
    let slug: IndexRange = Team::indexes().by_slug().slug().eq("two").into();
    let found = db.scan::<Team>(&slug, None, 10).unwrap();
    assert_eq!(
        found.rows.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![2],
        "{backend}"
    );
    // A range on another table than the type read is refused.
    let error = db.scan::<Team>(&range, None, 2).unwrap_err();
    assert!(
        matches!(error, Error::InvalidRange { .. }),
        "{backend}: {error}"
    );
}

fn typed_inserts_check_foreign_keys_and_keys(backend: &str, db: Database) {
    fill(&db);
    let error = db.insert(&member(30, 9, None, 1)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot insert members 30: members(team_id) → teams has no teams row with 9",
        "{backend}"
    );
    let error = db
        .insert(&Team {
            id: 3,
            slug: "one".into(),
        })
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot insert teams 3: UNIQUE key teams(slug) = 'one' already exists",
        "{backend}"
    );
    let error = db.insert(&Stray { id: 1 }).unwrap_err();
    assert!(
        matches!(error, Error::UnknownTable { .. }),
        "{backend}: {error}"
    );
}

fn values_that_do_not_fit_the_type_are_conversion_errors(backend: &str, db: Database) {
    fill(&db);
    // `level` is an i16: a value out of its range is refused when read.
    let position = Member::META.column_position("level").unwrap();
    let mut row = db
        .get_row("members", &[Value::Integer(12)])
        .unwrap()
        .unwrap();
    row[position] = Value::Integer(100_000);
    db.update_row("members", &[Value::Integer(12)], row)
        .unwrap();
    let error = db.get::<Member>(&12).unwrap_err();
    assert!(matches!(error, Error::Conversion(_)), "{backend}: {error}");
    assert!(
        error
            .to_string()
            .contains("column `level` of table `members`"),
        "{backend}: {error}"
    );
}

#[test]
fn a_derived_schema_validates_and_knows_its_graph() {
    SCHEMA.validate().unwrap();
    assert_eq!(SCHEMA.incoming("members").len(), 2);
    assert_eq!(SCHEMA.incoming("teams").len(), 2);
    let json = SCHEMA.to_json();
    assert!(json.contains("\"role_code\""), "{json}");
}

/// The same tests on every backend.
macro_rules! typed_crud_suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            fn open() -> Database {
                let open: fn() -> Database = $open;
                open()
            }

            #[test]
            fn typed_rows_round_trip_every_column_type() {
                super::typed_rows_round_trip_every_column_type(stringify!($backend), open());
            }

            #[test]
            fn typed_updates_and_key_updates_run_actions() {
                super::typed_updates_and_key_updates_run_actions(stringify!($backend), open());
            }

            #[test]
            fn typed_deletes_run_actions() {
                super::typed_deletes_run_actions(stringify!($backend), open());
            }

            #[test]
            fn typed_index_queries_page_through_ranges() {
                super::typed_index_queries_page_through_ranges(stringify!($backend), open());
            }

            #[test]
            fn typed_inserts_check_foreign_keys_and_keys() {
                super::typed_inserts_check_foreign_keys_and_keys(stringify!($backend), open());
            }

            #[test]
            fn values_that_do_not_fit_the_type_are_conversion_errors() {
                super::values_that_do_not_fit_the_type_are_conversion_errors(
                    stringify!($backend),
                    open(),
                );
            }
        }
    };
}

typed_crud_suite!(memory, || Database::new(
    MemoryStore::new(SCHEMA.clone()).unwrap()
));
typed_crud_suite!(sqlite, || Database::new(
    SqliteStore::open_in_memory(SCHEMA.clone(), SqliteOptions::default()).unwrap()
));
typed_crud_suite!(postgres, || common::postgres(SCHEMA.clone()));
