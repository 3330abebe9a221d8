//! Typed CRUD through serde on every backend: insert, get, update, key
//! update, delete and index scans of `Table` structs holding every column
//! type (i64, i32, i16, bool, f64, String, Vec<u8>, Option<_>, Id<T>), with
//! single and composite keys.
//!
//! The tables implement `Table` by hand, as `#[derive(Table)]` will emit it.

use std::borrow::Cow;

use cascadia::metadata::Name;
use cascadia::{
    Action, ColumnMeta, ColumnRange, Database, DeleteOptions, Error, ForeignKeyMeta, Id, IndexMeta,
    IndexRange, IndexRef, MemoryStore, Schema, SqliteOptions, SqliteStore, Table, TableMeta, Value,
    ValueType,
};
use serde::{Deserialize, Serialize};

const fn column(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
    value_type: ValueType,
    nullable: bool,
) -> ColumnMeta {
    ColumnMeta {
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        rust_type: Cow::Borrowed(rust_type),
        value_type,
        nullable,
        default: None,
    }
}

const fn names(names: &'static [Name]) -> Cow<'static, [Name]> {
    Cow::Borrowed(names)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Team {
    id: i64,
    slug: String,
}

impl Table for Team {
    type PrimaryKey = i64;
    const META: &'static TableMeta = &TableMeta {
        name: Cow::Borrowed("teams"),
        type_name: Cow::Borrowed("Team"),
        columns: Cow::Borrowed(&[
            column("id", "id", "i64", ValueType::Integer, false),
            column("slug", "slug", "String", ValueType::Text, false),
        ]),
        primary_key: names(&[Cow::Borrowed("id")]),
        indexes: Cow::Borrowed(&[IndexMeta {
            name: Cow::Borrowed("by_slug"),
            columns: names(&[Cow::Borrowed("slug")]),
            unique: true,
        }]),
        foreign_keys: Cow::Borrowed(&[]),
        soft_delete: None,
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Member {
    id: i64,
    team_id: Id<Team>,
    mentor: Option<Id<Member>>,
    age: i32,
    level: i16,
    active: bool,
    score: f64,
    avatar: Vec<u8>,
    nick: Option<String>,
    role: i32,
}

impl Table for Member {
    type PrimaryKey = i64;
    const META: &'static TableMeta = &TableMeta {
        name: Cow::Borrowed("members"),
        type_name: Cow::Borrowed("Member"),
        columns: Cow::Borrowed(&[
            column("id", "id", "i64", ValueType::Integer, false),
            column("team_id", "team_id", "Id<Team>", ValueType::Integer, false),
            column(
                "mentor",
                "mentor",
                "Option<Id<Member>>",
                ValueType::Integer,
                true,
            ),
            column("age", "age", "i32", ValueType::Integer, false),
            column("level", "level", "i16", ValueType::Integer, false),
            column("active", "active", "bool", ValueType::Integer, false),
            column("score", "score", "f64", ValueType::Real, false),
            column("avatar", "avatar", "Vec<u8>", ValueType::Blob, false),
            column("nick", "nick", "Option<String>", ValueType::Text, true),
            column("role_code", "role", "i32", ValueType::Integer, false),
        ]),
        primary_key: names(&[Cow::Borrowed("id")]),
        indexes: Cow::Borrowed(&[
            IndexMeta {
                name: Cow::Borrowed("by_team"),
                columns: names(&[Cow::Borrowed("team_id"), Cow::Borrowed("age")]),
                unique: false,
            },
            IndexMeta {
                name: Cow::Borrowed("by_mentor"),
                columns: names(&[Cow::Borrowed("mentor")]),
                unique: false,
            },
        ]),
        foreign_keys: Cow::Borrowed(&[
            ForeignKeyMeta {
                columns: names(&[Cow::Borrowed("team_id")]),
                referenced_table: Cow::Borrowed("teams"),
                referenced_columns: names(&[Cow::Borrowed("id")]),
                on_delete: Action::Cascade,
                on_update: Action::Cascade,
                index: IndexRef::Index(Cow::Borrowed("by_team")),
            },
            ForeignKeyMeta {
                columns: names(&[Cow::Borrowed("mentor")]),
                referenced_table: Cow::Borrowed("members"),
                referenced_columns: names(&[Cow::Borrowed("id")]),
                on_delete: Action::SetNull,
                on_update: Action::Cascade,
                index: IndexRef::Index(Cow::Borrowed("by_mentor")),
            },
        ]),
        soft_delete: None,
    };
}

/// A composite key: (team_id, member_id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Seat {
    team_id: Id<Team>,
    member_id: Id<Member>,
    label: String,
}

impl Table for Seat {
    type PrimaryKey = (i64, i64);
    const META: &'static TableMeta = &TableMeta {
        name: Cow::Borrowed("seats"),
        type_name: Cow::Borrowed("Seat"),
        columns: Cow::Borrowed(&[
            column("team_id", "team_id", "Id<Team>", ValueType::Integer, false),
            column(
                "member_id",
                "member_id",
                "Id<Member>",
                ValueType::Integer,
                false,
            ),
            column("label", "label", "String", ValueType::Text, false),
        ]),
        primary_key: names(&[Cow::Borrowed("team_id"), Cow::Borrowed("member_id")]),
        indexes: Cow::Borrowed(&[IndexMeta {
            name: Cow::Borrowed("by_member"),
            columns: names(&[Cow::Borrowed("member_id")]),
            unique: false,
        }]),
        foreign_keys: Cow::Borrowed(&[
            ForeignKeyMeta {
                columns: names(&[Cow::Borrowed("team_id")]),
                referenced_table: Cow::Borrowed("teams"),
                referenced_columns: names(&[Cow::Borrowed("id")]),
                on_delete: Action::Cascade,
                on_update: Action::Cascade,
                index: IndexRef::PrimaryKey,
            },
            ForeignKeyMeta {
                columns: names(&[Cow::Borrowed("member_id")]),
                referenced_table: Cow::Borrowed("members"),
                referenced_columns: names(&[Cow::Borrowed("id")]),
                on_delete: Action::Cascade,
                on_update: Action::Cascade,
                index: IndexRef::Index(Cow::Borrowed("by_member")),
            },
        ]),
        soft_delete: None,
    };
}

/// Not in the schema.
#[derive(Debug, Serialize, Deserialize)]
struct Stray {
    id: i64,
}

impl Table for Stray {
    type PrimaryKey = i64;
    const META: &'static TableMeta = &TableMeta {
        name: Cow::Borrowed("strays"),
        type_name: Cow::Borrowed("Stray"),
        columns: Cow::Borrowed(&[column("id", "id", "i64", ValueType::Integer, false)]),
        primary_key: names(&[Cow::Borrowed("id")]),
        indexes: Cow::Borrowed(&[]),
        foreign_keys: Cow::Borrowed(&[]),
        soft_delete: None,
    };
}

static SCHEMA: Schema = Schema::from_static(&[Team::META, Member::META, Seat::META]);

fn backends() -> Vec<(&'static str, Database)> {
    vec![
        (
            "memory",
            Database::new(MemoryStore::new(SCHEMA.clone()).unwrap()),
        ),
        (
            "sqlite",
            Database::new(
                SqliteStore::open_in_memory(SCHEMA.clone(), SqliteOptions::default()).unwrap(),
            ),
        ),
    ]
}

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

#[test]
fn typed_rows_round_trip_every_column_type() {
    for (backend, db) in backends() {
        fill(&db);
        assert_eq!(
            db.get::<Member>(&12).unwrap(),
            Some(member(12, 1, Some(10), 32)),
            "{backend}"
        );
        assert_eq!(db.get::<Member>(&99).unwrap(), None, "{backend}");
        assert_eq!(
            db.get::<Seat>(&(1, 11)).unwrap().map(|s| s.label),
            Some("front".to_owned()),
            "{backend}"
        );
        // Columns renamed from their field are stored under their SQL name.
        assert_eq!(
            db.get_row("members", &[Value::Integer(12)])
                .unwrap()
                .unwrap()[9],
            Value::Integer(7)
        );
    }
}

#[test]
fn typed_updates_and_key_updates_run_actions() {
    for (backend, db) in backends() {
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
            db.get::<Seat>(&(5, 11))
                .unwrap()
                .map(|s| s.label)
                .as_deref(),
            Some("front")
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
}

#[test]
fn typed_deletes_run_actions() {
    for (backend, db) in backends() {
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
            db.delete::<Seat>(&(1, 11)).unwrap().rows_written(),
            0,
            "{backend}"
        );
    }
}

#[test]
fn typed_index_scans_page_through_ranges() {
    for (backend, db) in backends() {
        fill(&db);
        let range = IndexRange {
            table: "members".into(),
            index: IndexRef::Index("by_team".into()),
            prefix: vec![Value::Integer(1)],
            range: Some(ColumnRange {
                lower: std::ops::Bound::Included(Value::Integer(31)),
                upper: std::ops::Bound::Unbounded,
            }),
        };
        let first = db.scan::<Member>(&range, None, 2).unwrap();
        assert_eq!(
            first.rows.iter().map(|m| m.age).collect::<Vec<_>>(),
            vec![31, 32],
            "{backend}"
        );
        let second = db.scan::<Member>(&range, first.next.as_ref(), 2).unwrap();
        assert_eq!(
            second.rows.iter().map(|m| m.age).collect::<Vec<_>>(),
            vec![33, 34],
            "{backend}"
        );
        let third = db.scan::<Member>(&range, second.next.as_ref(), 2).unwrap();
        assert_eq!(
            third.rows.iter().map(|m| m.age).collect::<Vec<_>>(),
            vec![35],
            "{backend}"
        );
        assert!(third.next.is_none(), "{backend}");
        let error = db.scan::<Team>(&range, None, 2).unwrap_err();
        assert!(
            matches!(error, Error::InvalidRange { .. }),
            "{backend}: {error}"
        );
    }
}

#[test]
fn typed_inserts_check_foreign_keys_and_keys() {
    for (backend, db) in backends() {
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
}

#[test]
fn values_that_do_not_fit_the_type_are_conversion_errors() {
    for (backend, db) in backends() {
        fill(&db);
        // `level` is an i16: a value out of its range is refused when read.
        let mut row = db
            .get_row("members", &[Value::Integer(12)])
            .unwrap()
            .unwrap();
        row[4] = Value::Integer(100_000);
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
}

#[test]
fn a_derived_schema_validates_lazily() {
    SCHEMA.validate().unwrap();
    assert_eq!(SCHEMA.incoming("members").len(), 2);
}
