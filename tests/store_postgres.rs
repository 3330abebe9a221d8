//! What only the PostgreSQL store does: checking an existing database at
//! open, its types and their ranges, PostgreSQL's own foreign-key check at
//! commit, and keys and resume positions under PostgreSQL's collations,
//! types and NULL order (NULLs last).
//!
//! Each test works in a PostgreSQL schema of its own (`CASCADIA_POSTGRES_URL`).

mod common;

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Access, Action, Budget, ChildScan, ChildWrite, Database, DeleteOptions, Error, IndexRange,
    IndexRef, PostgresOptions, PostgresStore, ScanPosition, Schema, Store, StoreErrorKind,
    TableMeta, Value, ValueType,
};
use common::postgres::{PgSchema, TestStore, url};
use common::{int, text};

/// `p(code TEXT)`, `c(id BIGINT, code TEXT → p CASCADE, n INTEGER,
/// note TEXT NULL)` with `c.by_code(code)` and `c.by_note(note)`.
fn text_keys_schema() -> Schema {
    Schema::new(vec![
        TableMeta::new("p")
            .with_column(ColumnMeta::new("code", ValueType::Text))
            .with_primary_key(["code"]),
        TableMeta::new("c")
            .with_column(ColumnMeta::new("id", ValueType::Integer))
            .with_column(ColumnMeta::new("code", ValueType::Text))
            .with_column(ColumnMeta::new("n", ValueType::Integer))
            .with_column(ColumnMeta::new("note", ValueType::Text).nullable())
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_code", ["code"]))
            .with_index(IndexMeta::new("by_note", ["note"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["code"], "p", ["code"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_code".into())),
            ),
    ])
    .expect("schema")
}

/// Keys that sort differently by bytes and by a linguistic collation:
/// mixed case, accents, non-Latin letters, an emoji.
const CODES: [&str; 12] = ["a", "B", "é", "Z", "ä", "b", "A", "z", "ß", "Ω", "😀", "Éa"];

/// The tables of [`text_keys_schema`], created by hand as an existing
/// database would have them: text in a linguistic (ICU) collation, `n` an
/// INTEGER, indexes without the primary key, foreign key deferrable.
fn existing_text_tables(schema: &PgSchema) {
    schema
        .client()
        .batch_execute(
            "CREATE TABLE p (code TEXT COLLATE \"en-US-x-icu\" PRIMARY KEY);
             CREATE TABLE c (id BIGINT PRIMARY KEY,
                 code TEXT COLLATE \"en-US-x-icu\" NOT NULL
                     REFERENCES p DEFERRABLE INITIALLY IMMEDIATE,
                 n INTEGER NOT NULL, note TEXT COLLATE \"en-US-x-icu\");
             CREATE INDEX c_code ON c (code);
             CREATE INDEX c_note ON c (note);",
        )
        .expect("existing tables");
}

/// An existing database in a linguistic collation: the store opens it
/// (indexes matched by columns), fills it, and returns it with the order
/// PostgreSQL gives the rows of `c` by `(code, id)`.
fn filled_text_store() -> (TestStore, Vec<i64>) {
    filled_text_store_with(|options| options)
}

/// [`filled_text_store`], its options changed by `options`.
fn filled_text_store_with(
    options: impl FnOnce(PostgresOptions) -> PostgresOptions,
) -> (TestStore, Vec<i64>) {
    let namespace = std::sync::Arc::new(PgSchema::new("collation"));
    existing_text_tables(&namespace);
    let store = PostgresStore::open(&url(), text_keys_schema(), options(namespace.options()))
        .expect("the store opens an existing database");
    let store = TestStore {
        store,
        schema: namespace,
    };
    let mut tx = store.begin(Access::Write).unwrap();
    let mut id = 0;
    for code in CODES {
        tx.insert("p", &[text(code)]).unwrap();
        for n in 0..3 {
            id += 1;
            let note = if id % 4 == 0 {
                Value::Null
            } else {
                text(&CODES[id as usize % CODES.len()].to_uppercase())
            };
            tx.insert("c", &[int(id), text(code), int(n), note])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    let order: Vec<i64> = store
        .schema
        .client()
        .query("SELECT id FROM c ORDER BY code, id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    (store, order)
}

fn ids(rows: &[Vec<Value>]) -> Vec<i64> {
    rows.iter()
        .map(|row| match row[0] {
            Value::Integer(id) => id,
            _ => -1,
        })
        .collect()
}

fn by(index: &str) -> IndexRange {
    IndexRange::new("c", IndexRef::Index(index.to_owned().into()))
}

#[test]
fn pages_of_text_keys_follow_the_collation_and_see_every_row_once() {
    let (store, order) = filled_text_store();
    let schema = store.schema().clone();
    // The collation is not byte order: the test would prove nothing else.
    let mut bytes = CODES.to_vec();
    bytes.sort();
    let linguistic: Vec<String> = store
        .schema
        .client()
        .query("SELECT code FROM p ORDER BY code", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_ne!(
        linguistic, bytes,
        "the collation orders differently from bytes"
    );
    let mut tx = store.begin(Access::Read).unwrap();
    for limit in [1, 2, 3, 5] {
        let range = by("by_code");
        let mut after: Option<ScanPosition> = None;
        let mut seen = Vec::new();
        loop {
            let page = tx.scan(&range, after.as_ref(), limit).unwrap();
            seen.extend(ids(&page));
            match page.last() {
                Some(last) if page.len() == limit => {
                    after = Some(ScanPosition::after_row(&schema, &range, last).unwrap());
                }
                _ => break,
            }
        }
        assert_eq!(seen, order, "pages of {limit}");
    }
}

#[test]
fn child_scans_across_text_parents_resume_in_the_collation_order() {
    let (store, order) = filled_text_store();
    let schema = store.schema().clone();
    let parents: Vec<Vec<Value>> = CODES.iter().rev().map(|c| vec![text(c)]).collect();
    let range = by("by_code");
    let mut tx = store.begin(Access::Read).unwrap();
    let mut after: Option<ScanPosition> = None;
    let mut seen = Vec::new();
    loop {
        let scan = ChildScan::new(&range, &parents, 4).after(after.as_ref());
        let page = tx.scan_children(&scan).unwrap();
        let rows: Vec<Vec<Value>> = page.into_iter().map(|(row, _)| row).collect();
        seen.extend(ids(&rows));
        match rows.last() {
            Some(last) if rows.len() == 4 => {
                after = Some(ScanPosition::after_row(&schema, &range, last).unwrap());
            }
            _ => break,
        }
    }
    assert_eq!(seen, order);
    assert_eq!(
        tx.count_children(&ChildScan::new(&range, &parents, 0))
            .unwrap(),
        order.len() as u64
    );
}

#[test]
fn nulls_sort_last_and_pages_over_them_see_every_row_once() {
    let (store, _) = filled_text_store();
    let schema = store.schema().clone();
    let order: Vec<i64> = store
        .schema
        .client()
        .query("SELECT id FROM c ORDER BY note, id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut tx = store.begin(Access::Read).unwrap();
    let range = by("by_note");
    let mut after: Option<ScanPosition> = None;
    let mut seen = Vec::new();
    loop {
        let page = tx.scan(&range, after.as_ref(), 2).unwrap();
        seen.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 2 => {
                after = Some(ScanPosition::after_row(&schema, &range, last).unwrap());
            }
            _ => break,
        }
    }
    assert_eq!(seen, order);
    let last = *order.last().unwrap();
    let note = tx.get("c", &[int(last)]).unwrap().unwrap()[3].clone();
    assert_eq!(note, Value::Null, "PostgreSQL sorts NULLs last");
}

#[test]
fn a_batched_cascade_over_collated_text_keys_deletes_every_child() {
    let (store, order) = filled_text_store();
    let db = Database::new(store.clone());
    let roots: Vec<Vec<Value>> = CODES.iter().map(|c| vec![text(c)]).collect();
    let outcome = db
        .delete_rows(
            "p",
            &roots,
            &DeleteOptions::default()
                .batch_rows(2)
                .budget(Budget::UNLIMITED.rows_written(3)),
        )
        .unwrap();
    assert_eq!(outcome.rows_deleted("c"), order.len() as u64);
    assert_eq!(outcome.rows_deleted("p"), CODES.len() as u64);
    assert!(db.rows("c").unwrap().is_empty());
}

#[test]
fn batches_commit_the_same_rows_whether_or_not_each_waits_for_the_flush() {
    // With `durable_batches` off, a batch that leaves its job unfinished
    // commits with `SET LOCAL synchronous_commit TO OFF`; on (the default), as every
    // other commit. Either way every batch commits what it deleted.
    for durable in [false, true] {
        let (store, order) = filled_text_store_with(|options| options.durable_batches(durable));
        let db = Database::new(store.clone());
        let roots: Vec<Vec<Value>> = CODES.iter().map(|c| vec![text(c)]).collect();
        let batches = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = batches.clone();
        let options = DeleteOptions::default()
            .batch_rows(2)
            .budget(Budget::UNLIMITED.rows_written(3))
            .observer(move |_: &cascadia::Progress| {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
        let outcome = db.delete_rows("p", &roots, &options).unwrap();
        assert_eq!(
            outcome.rows_deleted("c"),
            order.len() as u64,
            "durable {durable}"
        );
        assert!(
            batches.load(std::sync::atomic::Ordering::Relaxed) > 10,
            "many batches"
        );
        assert!(db.rows("c").unwrap().is_empty());
        assert!(
            db.jobs().unwrap().is_empty(),
            "the job is finished and gone"
        );
    }
}

#[test]
fn set_based_deletes_take_rows_in_the_collation_order() {
    let (store, order) = filled_text_store();
    let range = by("by_code");
    let parents: Vec<Vec<Value>> = CODES.iter().map(|c| vec![text(c)]).collect();
    let mut tx = store.begin(Access::Write).unwrap();
    let columns = [0usize];
    // Each write takes the next 5 rows in the collation order (RETURNING
    // lists them in no particular order).
    let mut batches = Vec::new();
    loop {
        let write = ChildWrite::new(ChildScan::new(&range, &parents, 5).columns(&columns));
        let written = tx.delete_children(&write).unwrap();
        if written.rows == 0 {
            break;
        }
        let mut batch = ids(&written.returned);
        batch.sort_unstable();
        batches.push(batch);
    }
    let expected: Vec<Vec<i64>> = order
        .chunks(5)
        .map(|chunk| {
            let mut chunk = chunk.to_vec();
            chunk.sort_unstable();
            chunk
        })
        .collect();
    assert_eq!(batches, expected);
}

/// `t(a INTEGER, b BIGINT, label TEXT)` keyed by `(a, b)`, with `by_b(b)`.
fn composite_schema() -> Schema {
    Schema::new(vec![
        TableMeta::new("t")
            .with_column(ColumnMeta::new("a", ValueType::Integer))
            .with_column(ColumnMeta::new("b", ValueType::Integer))
            .with_column(ColumnMeta::new("label", ValueType::Text))
            .with_primary_key(["a", "b"])
            .with_index(IndexMeta::new("by_b", ["b"])),
    ])
    .expect("schema")
}

#[test]
fn composite_integer_and_bigint_keys_page_in_order_and_are_range_checked() {
    let namespace = std::sync::Arc::new(PgSchema::new("composite"));
    namespace
        .client()
        .batch_execute(
            "CREATE TABLE t (a INTEGER, b BIGINT, label VARCHAR(20) NOT NULL, PRIMARY KEY (a, b));
             CREATE INDEX t_b ON t (b, a);",
        )
        .unwrap();
    let store = PostgresStore::open(&url(), composite_schema(), namespace.options()).unwrap();
    let schema = store.schema().clone();
    let a_values = [i64::from(i32::MIN), -1, 0, 7, i64::from(i32::MAX)];
    let b_values = [i64::MIN, -(1 << 40), 0, 1 << 40, i64::MAX];
    let mut expected = Vec::new();
    {
        let mut tx = store.begin(Access::Write).unwrap();
        for a in a_values {
            for b in b_values {
                tx.insert("t", &[int(a), int(b), text("x")]).unwrap();
                expected.push((a, b));
            }
        }
        // Too large for INTEGER: refused before anything is sent, and the
        // transaction stays usable.
        let error = tx
            .insert("t", &[int(1 << 40), int(0), text("x")])
            .unwrap_err();
        assert!(
            matches!(
                &error,
                Error::Store {
                    kind: StoreErrorKind::Data,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("int4"), "{error}");
        tx.insert("t", &[int(3), int(3), text("y")]).unwrap();
        expected.push((3, 3));
        tx.commit().unwrap();
    }
    let key = |row: &Vec<Value>| match (&row[0], &row[1]) {
        (Value::Integer(a), Value::Integer(b)) => (*a, *b),
        _ => (0, 0),
    };
    let mut tx = store.begin(Access::Read).unwrap();
    for (range, sort) in [
        (IndexRange::new("t", IndexRef::PrimaryKey), false),
        (IndexRange::new("t", IndexRef::Index("by_b".into())), true),
    ] {
        let mut after: Option<ScanPosition> = None;
        let mut seen = Vec::new();
        loop {
            let page = tx.scan(&range, after.as_ref(), 3).unwrap();
            seen.extend(page.iter().map(key));
            match page.last() {
                Some(last) if page.len() == 3 => {
                    after = Some(ScanPosition::after_row(&schema, &range, last).unwrap());
                }
                _ => break,
            }
        }
        let mut wanted = expected.clone();
        if sort {
            wanted.sort_by_key(|(a, b)| (*b, *a));
        } else {
            wanted.sort();
        }
        assert_eq!(seen, wanted, "{range}");
    }
    // Parents of two columns: one statement over unnest(...) of both.
    let parents: Vec<Vec<Value>> = vec![vec![int(7)], vec![int(-1)]];
    let range = IndexRange::new("t", IndexRef::PrimaryKey);
    let found = tx
        .scan_children(&ChildScan::new(&range, &parents, 100))
        .unwrap();
    assert_eq!(found.len(), 10);
    let pairs: Vec<Vec<Value>> = vec![vec![int(7), int(0)], vec![int(-1), int(i64::MAX)]];
    let found = tx
        .scan_children(&ChildScan::new(&range, &pairs, 100))
        .unwrap();
    assert_eq!(
        found.iter().map(|(r, _)| key(r)).collect::<Vec<_>>(),
        vec![(-1, i64::MAX), (7, 0)]
    );
    // Sizes as budgets count them: 8 + 8 + the label's bytes.
    assert!(found.iter().all(|(_, size)| *size == 17));
    // Rows by composite keys: one statement over unnest(...); a key with no
    // row adds none.
    let keys: Vec<Vec<Value>> = vec![
        vec![int(i64::from(i32::MAX)), int(i64::MIN)],
        vec![int(7), int(1)],
        vec![int(3), int(3)],
    ];
    let mut rows: Vec<(i64, i64)> = tx.get_many("t", &keys).unwrap().iter().map(key).collect();
    rows.sort();
    assert_eq!(rows, vec![(3, 3), (i64::from(i32::MAX), i64::MIN)]);
}

#[test]
fn tables_cascadia_creates_order_text_by_bytes() {
    let store = TestStore::new(text_keys_schema());
    let schema = store.schema().clone();
    let mut tx = store.begin(Access::Write).unwrap();
    for code in CODES {
        tx.insert("p", &[text(code)]).unwrap();
    }
    let range = IndexRange::new("p", IndexRef::PrimaryKey);
    let mut after: Option<ScanPosition> = None;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let page = tx.scan(&range, after.as_ref(), 5).unwrap();
        seen.extend(page.iter().map(|r| r[0].clone()));
        match page.last() {
            Some(last) if page.len() == 5 => {
                after = Some(ScanPosition::after_row(&schema, &range, last).unwrap());
            }
            _ => break,
        }
    }
    let mut wanted: Vec<Value> = CODES.iter().map(|c| text(c)).collect();
    wanted.sort();
    assert_eq!(
        seen, wanted,
        "COLLATE \"C\": the order of cascadia's values"
    );
}

#[test]
fn opening_a_database_that_lacks_part_of_the_schema_fails_naming_it() {
    let namespace = PgSchema::new("mismatch");
    namespace
        .client()
        .batch_execute(
            "CREATE TABLE p (code TEXT PRIMARY KEY);
             CREATE TABLE c (id BIGINT PRIMARY KEY, code NUMERIC, n INTEGER NOT NULL);",
        )
        .unwrap();
    let error = PostgresStore::open(&url(), text_keys_schema(), namespace.options()).unwrap_err();
    let Error::SchemaMismatch { missing } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        missing,
        &vec![
            "column `c.code` is numeric but the schema wants Text values (text, varchar, bpchar, name)".to_owned(),
            "missing column `c.note`".to_owned(),
            "missing index on `c` (code) (the schema's `by_code`): CREATE INDEX \"c__by_code\" ON \"c\" (\"code\")".to_owned(),
            "missing index on `c` (note) (the schema's `by_note`): CREATE INDEX \"c__by_note\" ON \"c\" (\"note\")".to_owned(),
        ],
        "{error}"
    );
    // A schema whose tables are all missing, and not to be created.
    let error = PostgresStore::open(
        &url(),
        composite_schema(),
        namespace.options().create_tables(false),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the database does not match the schema: missing table `t`"
    );
}

/// A key whose action PostgreSQL runs itself is refused unless the schema
/// marks it `native`, as on SQLite; the refusal creates nothing (not the
/// job tables). Marked `native`, PostgreSQL runs it and cascadia counts it.
#[test]
fn native_actions_are_read_from_pg_constraint_and_reconciled() {
    let namespace = PgSchema::new("native");
    namespace
        .client()
        .batch_execute(
            "CREATE TABLE p (code TEXT PRIMARY KEY);
             CREATE TABLE c (id BIGINT PRIMARY KEY, code TEXT NOT NULL
               REFERENCES p (code) ON DELETE CASCADE ON UPDATE CASCADE DEFERRABLE,
               n BIGINT NOT NULL, note TEXT);
             CREATE INDEX their_code ON c (code);
             CREATE INDEX their_note ON c (note);
             INSERT INTO p VALUES ('a'), ('b');
             INSERT INTO c VALUES (1, 'a', 0, NULL), (2, 'a', 0, NULL), (3, 'b', 0, NULL);",
        )
        .unwrap();
    let error = PostgresStore::open(&url(), text_keys_schema(), namespace.options()).unwrap_err();
    let Error::NativeActions { conflicts } = &error else {
        panic!("{error}");
    };
    // ON DELETE CASCADE, and ON UPDATE CASCADE where the schema has none.
    assert_eq!(conflicts.len(), 2, "{error}");
    assert_eq!(conflicts[0].database, Action::Cascade);
    assert_eq!(conflicts[1].schema, Some(Action::NoAction));
    assert!(
        error
            .to_string()
            .contains("c(code) → p has ON DELETE CASCADE in the database, and ON DELETE CASCADE run by cascadia in the schema"),
        "{error}"
    );
    let tables: i64 = namespace
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 2, "a refused open created tables");

    let mut native: Vec<TableMeta> = text_keys_schema().tables().cloned().collect();
    let fk = &mut native[1].foreign_keys.to_mut()[0];
    fk.on_update = Action::Cascade;
    fk.native = true;
    let db = Database::new(
        PostgresStore::open(&url(), Schema::new(native).unwrap(), namespace.options()).unwrap(),
    );
    let outcome = db.update_row("p", &[text("a")], vec![text("z")]).unwrap();
    assert_eq!(outcome.rows_updated("c"), 2);
    let outcome = db
        .delete_rows("p", &[vec![text("z")]], &DeleteOptions::default())
        .unwrap();
    assert_eq!(outcome.rows_deleted("c"), 2);
    assert_eq!(db.rows("c").unwrap().len(), 1);
}

#[test]
fn postgresql_checks_foreign_keys_at_commit_as_a_safety_net() {
    let store = TestStore::new(text_keys_schema());
    assert!(store.capabilities().native_foreign_keys);
    assert!(!store.capabilities().serialized_writes);
    let mut tx = store.begin(Access::Write).unwrap();
    // The store does not check foreign keys; PostgreSQL does, at commit.
    tx.insert("c", &[int(1), text("nobody"), int(0), Value::Null])
        .unwrap();
    let error = tx.commit().unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Store {
                backend: "postgres",
                kind: StoreErrorKind::Constraint,
                ..
            }
        ),
        "{error}"
    );
    let mut tx = store.begin(Access::Read).unwrap();
    assert_eq!(tx.get("c", &[int(1)]).unwrap(), None, "rolled back");
}

#[test]
fn an_unreachable_server_is_a_connection_error() {
    let error = PostgresStore::open(
        "postgres://postgres@127.0.0.1:1/test?connect_timeout=2",
        text_keys_schema(),
        PostgresOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Store {
                kind: StoreErrorKind::Connection,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn jobs_live_in_the_same_schema() {
    let store = TestStore::new(text_keys_schema());
    let tables: Vec<String> = store
        .schema
        .client()
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        tables,
        vec![
            "_cascadia_delete_job_roots",
            "_cascadia_delete_jobs",
            "c",
            "p"
        ]
    );
}

mod readme {
    //! The README's quickstart on PostgreSQL, as written there.
    use cascadia::{
        Database, Id, PoolOptions, PostgresOptions, PostgresStore, Schema, Table, schema,
    };
    use serde::{Deserialize, Serialize};

    #[derive(Table, Serialize, Deserialize)]
    #[table(name = "teams")]
    pub struct Team {
        #[primary_key]
        pub id: i64,
        #[unique]
        pub slug: String,
        #[soft_delete]
        pub deletion_time: Option<i64>,
    }

    #[derive(Table, Serialize, Deserialize)]
    #[table(name = "members")]
    #[index(name = "by_team", columns(team_id, joined_at))]
    #[index(name = "by_mentor", columns(mentor_id))]
    pub struct Member {
        #[primary_key]
        pub id: i64,
        #[foreign_key(references = Team, on_delete = cascade)]
        pub team_id: Id<Team>,
        pub joined_at: i64,
        #[foreign_key(references = Member, on_delete = set_null, index = "by_mentor")]
        pub mentor_id: Option<Id<Member>>,
        #[column(name = "role_code", default = 0)]
        pub role: i32,
    }

    static SCHEMA: Schema = schema![Team, Member];

    #[test]
    fn the_readme_quickstart_runs_on_postgresql() -> cascadia::Result<()> {
        let namespace = super::PgSchema::new("readme");
        let store = PostgresStore::open(
            &super::url(),
            SCHEMA.clone(),
            PostgresOptions::default()
                .schema(namespace.name.clone())
                .pool(PoolOptions::default().max_connections(8)),
        )?;
        let db = Database::new(store);
        db.insert(&Team {
            id: 1,
            slug: "core".into(),
            deletion_time: None,
        })?;
        db.insert(&Member {
            id: 7,
            team_id: Id::new(1),
            joined_at: 0,
            mentor_id: None,
            role: 0,
        })?;
        let outcome = db.delete::<Team>(&1)?;
        assert_eq!(outcome.rows_deleted("members"), 1);
        Ok(())
    }
}
