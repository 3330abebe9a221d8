//! Soft deletes done properly, on every store: reads hide soft-deleted rows
//! unless asked; a soft cascade marks every row a CASCADE would delete with
//! the root's time, in bounded batches, refused where the hard delete would
//! be; a restore of the root clears exactly the rows that soft cascade
//! marked; a soft cascade cut short finishes with the root's time when run
//! again; a table's own deletion mode is what a plain `delete` does.

mod common;

use std::sync::{Arc, Mutex};

use cascadia::metadata::{ColumnMeta, ForeignKeyMeta, IndexMeta};
use cascadia::{
    Action, Budget, Database, DeleteOptions, Deletion, Error, Filter, FilterOp, FullScan, Id,
    IndexRef, Progress, Schema, SoftDeleted, Table, TableMeta, Value, ValueType, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "users")]
pub struct User {
    #[primary_key]
    pub id: i64,
    pub name: String,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "posts")]
#[index(name = "by_author", columns(author_id))]
#[index(name = "by_editor", columns(editor_id))]
pub struct Post {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = User, on_delete = cascade, index = "by_author")]
    pub author_id: Id<User>,
    #[foreign_key(references = User, on_delete = set_null, index = "by_editor")]
    pub editor_id: Option<Id<User>>,
    pub title: String,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "comments")]
#[index(name = "by_post", columns(post_id))]
#[index(name = "by_reply", columns(reply_to))]
pub struct Comment {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Post, on_delete = cascade, index = "by_post")]
    pub post_id: Id<Post>,
    #[foreign_key(references = Comment, on_delete = cascade, index = "by_reply")]
    pub reply_to: Option<Id<Comment>>,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "invoices")]
#[index(name = "by_customer", columns(customer_id))]
pub struct Invoice {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = User, on_delete = restrict, index = "by_customer")]
    pub customer_id: Id<User>,
}

fn blog() -> Schema {
    static SCHEMA: Schema = schema![User, Post, Comment, Invoice];
    SCHEMA.clone()
}

fn databases() -> Vec<(&'static str, Database)> {
    vec![
        ("memory", common::memory(blog())),
        ("sqlite", common::sqlite(blog())),
        ("postgres", common::postgres(blog())),
    ]
}

/// Users 1 and 2 (user 2 edits user 1's posts); user 1 has `posts` posts,
/// each with 3 comments, the third a reply to the second; comment ids are
/// `post * 10 + n`. User 2 has post 900 with comment 9000.
fn fill(db: &Database, posts: i64) {
    db.write(|tx| {
        for (id, name) in [(1, "ada"), (2, "bob")] {
            tx.insert(&User {
                id,
                name: name.into(),
                deleted_at: None,
            })?;
        }
        let post = |id: i64, author: i64| Post {
            id,
            author_id: Id::new(author),
            editor_id: Some(Id::new(2)),
            title: format!("post {id}"),
            deleted_at: None,
        };
        let comment = |id: i64, post: i64, reply_to: Option<i64>| Comment {
            id,
            post_id: Id::new(post),
            reply_to: reply_to.map(Id::new),
            deleted_at: None,
        };
        for p in 1..=posts {
            tx.insert(&post(p, 1))?;
            tx.insert(&comment(p * 10, p, None))?;
            tx.insert(&comment(p * 10 + 1, p, None))?;
            tx.insert(&comment(p * 10 + 2, p, Some(p * 10 + 1)))?;
        }
        tx.insert(&post(900, 2))?;
        tx.insert(&comment(9000, 900, None))?;
        Ok::<_, cascadia::Error>(())
    })
    .unwrap();
}

/// Each table's rows (every row, soft-deleted or not).
fn everything(db: &Database) -> Vec<(String, Vec<cascadia::Row>)> {
    common::dump(&db.including_soft_deleted())
}

/// The soft-delete times of the rows of `table`, by primary key.
fn times(db: &Database, table: &str) -> Vec<(i64, Option<i64>)> {
    let db = db.including_soft_deleted();
    let column = db.schema().table(table).unwrap().columns.len() - 1;
    db.rows(table)
        .unwrap()
        .into_iter()
        .map(|row| {
            let Value::Integer(id) = row[0] else {
                panic!("integer key: {row:?}")
            };
            let at = match row[column] {
                Value::Integer(at) => Some(at),
                _ => None,
            };
            (id, at)
        })
        .collect()
}

#[test]
fn a_soft_cascade_marks_what_a_cascade_would_delete_and_reads_hide_it() {
    for (store, db) in databases() {
        fill(&db, 4);
        let outcome = db
            .delete_with::<User>(&[1], &DeleteOptions::default().soft_cascade())
            .unwrap();
        assert_eq!(outcome.updated::<User>(), 1, "{store}");
        assert_eq!(outcome.updated::<Post>(), 4, "{store}");
        assert_eq!(outcome.updated::<Comment>(), 12, "{store}");
        assert_eq!(
            outcome.rows_written(),
            17,
            "{store}: nothing else is written"
        );
        assert_eq!(outcome.deleted::<Post>(), 0, "{store}: nothing is deleted");

        // Every marked row carries the root's time.
        let at = times(&db, "users")[0].1.expect("user 1 is soft-deleted");
        for table in ["posts", "comments"] {
            for (id, time) in times(&db, table) {
                let expected = if id >= 900 { None } else { Some(at) };
                assert_eq!(time, expected, "{store}: {table} {id}");
            }
        }
        // Reads hide them, by key, by scan and by query; other rows stay.
        assert_eq!(db.get::<User>(&1).unwrap(), None, "{store}");
        assert_eq!(db.get::<Post>(&1).unwrap(), None, "{store}");
        assert!(db.get::<Comment>(&12).unwrap().is_none(), "{store}");
        assert!(db.get::<Post>(&900).unwrap().is_some(), "{store}");
        let by_post = Filter::new("post_id", FilterOp::Eq, 2i64);
        let visible: Vec<Comment> = db
            .query(std::slice::from_ref(&by_post), FullScan::Refuse)
            .unwrap();
        assert!(visible.is_empty(), "{store}: {visible:?}");
        let all: Vec<Comment> = (db.including_soft_deleted())
            .query(&[by_post], FullScan::Refuse)
            .unwrap();
        assert_eq!(all.len(), 3, "{store}");
        assert_eq!(
            db.rows("comments").unwrap().len(),
            1,
            "{store}: comment 9000"
        );
        // A transaction can ask for them too.
        let seen = db
            .read(|tx| {
                tx.set_soft_deleted(SoftDeleted::Included);
                tx.get::<User>(&1)
            })
            .unwrap();
        assert_eq!(seen.and_then(|user| user.deleted_at), Some(at), "{store}");
        // SET NULL rows are left as they are: post 900 still names user 2,
        // who is not deleted; and user 1's posts still name their editor.
        let post = db
            .including_soft_deleted()
            .get::<Post>(&3)
            .unwrap()
            .unwrap();
        assert_eq!(post.editor_id, Some(Id::new(2)), "{store}");
    }
}

#[test]
fn a_restore_clears_exactly_the_rows_its_soft_cascade_marked() {
    for (store, db) in databases() {
        fill(&db, 3);
        let before = everything(&db);
        // Comment 21 is soft-deleted first, for its own reason.
        db.delete_with::<Comment>(&[21], &DeleteOptions::default().soft())
            .unwrap();
        let earlier = times(&db, "comments")
            .into_iter()
            .find(|(id, _)| *id == 21)
            .and_then(|(_, at)| at)
            .expect("comment 21 soft-deleted");
        db.delete_with::<User>(&[1], &DeleteOptions::default().soft_cascade())
            .unwrap();
        let at = times(&db, "users")[0].1.unwrap();
        assert!(at > earlier, "{store}: each marking has its own time");
        // Comment 21 kept its own time; comment 22 under it got the root's.
        let comments = times(&db, "comments");
        assert!(
            comments.contains(&(21, Some(earlier))),
            "{store}: {comments:?}"
        );
        assert!(comments.contains(&(22, Some(at))), "{store}: {comments:?}");

        let restored = db.restore::<User>(&[1]).unwrap();
        assert_eq!(restored.updated::<User>(), 1, "{store}");
        assert_eq!(restored.updated::<Post>(), 3, "{store}");
        assert_eq!(restored.updated::<Comment>(), 8, "{store}: not comment 21");
        let comments = times(&db, "comments");
        assert!(
            comments.contains(&(21, Some(earlier))),
            "{store}: {comments:?}"
        );
        assert!(comments.contains(&(22, None)), "{store}: {comments:?}");
        // Restoring comment 21 as well gives back the database as it was.
        db.restore::<Comment>(&[21]).unwrap();
        assert_eq!(everything(&db), before, "{store}");
        // A second restore finds nothing to do.
        assert_eq!(
            db.restore::<User>(&[1]).unwrap().rows_written(),
            0,
            "{store}"
        );
    }
}

#[test]
fn a_soft_cascade_runs_in_batches_within_the_budget() {
    for (store, db) in databases() {
        fill(&db, 40);
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = batches.clone();
        let options = DeleteOptions::default()
            .soft_cascade()
            .budget(Budget::UNLIMITED.rows_written(25))
            .batch_rows(8)
            .observer(move |progress: &Progress| {
                seen.lock().unwrap().push(progress.batch_rows_written)
            });
        let outcome = db.delete_with::<User>(&[1], &options).unwrap();
        assert_eq!(outcome.rows_written(), 1 + 40 + 120, "{store}");
        let batches = batches.lock().unwrap();
        assert!(
            batches.iter().all(|&rows| rows <= 25),
            "{store}: {batches:?}"
        );
        assert_eq!(batches.iter().sum::<u64>(), 161, "{store}: {batches:?}");
        assert!(batches.len() >= 161 / 25, "{store}: {batches:?}");
        let marked = times(&db, "comments")
            .iter()
            .filter(|(_, at)| at.is_some())
            .count();
        assert_eq!(marked, 120, "{store}");
    }
}

#[test]
fn a_soft_cascade_is_refused_where_the_hard_delete_would_be() {
    for (store, db) in databases() {
        fill(&db, 2);
        db.insert(&Invoice {
            id: 1,
            customer_id: Id::new(1),
        })
        .unwrap();
        let before = everything(&db);
        let error = db
            .delete_with::<User>(&[1], &DeleteOptions::default().soft_cascade())
            .unwrap_err();
        assert!(
            matches!(error, Error::Restricted { .. }),
            "{store}: {error}"
        );
        assert!(error.to_string().contains("invoices"), "{store}: {error}");
        let error = db
            .delete_with::<User>(&[2], &DeleteOptions::default().soft_cascade().max_rows(2))
            .unwrap_err();
        assert!(
            matches!(error, Error::TooManyRows { .. }),
            "{store}: {error}"
        );
        assert_eq!(everything(&db), before, "{store}: nothing was written");
    }
}

#[test]
fn a_soft_cascade_that_reaches_a_table_without_a_soft_delete_column_is_refused() {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    let soft = || ColumnMeta::new("deleted_at", ValueType::Integer).nullable();
    let schema = Schema::new(vec![
        TableMeta::new("folders")
            .with_column(id())
            .with_column(soft())
            .with_primary_key(["id"])
            .with_soft_delete("deleted_at"),
        TableMeta::new("files")
            .with_column(id())
            .with_column(ColumnMeta::new("folder_id", ValueType::Integer))
            .with_primary_key(["id"])
            .with_index(IndexMeta::new("by_folder", ["folder_id"]))
            .with_foreign_key(
                ForeignKeyMeta::new(["folder_id"], "folders", ["id"])
                    .on_delete(Action::Cascade)
                    .with_index(IndexRef::Index("by_folder".into())),
            ),
    ])
    .unwrap();
    for db in [common::memory(schema.clone()), common::sqlite(schema)] {
        db.insert_row("folders", vec![Value::Integer(1), Value::Null])
            .unwrap();
        db.insert_row("files", vec![Value::Integer(1), Value::Integer(1)])
            .unwrap();
        let options = DeleteOptions::default().soft_cascade();
        let error = db
            .delete_rows("folders", &[vec![Value::Integer(1)]], &options)
            .unwrap_err();
        assert!(
            matches!(&error, Error::NoSoftDelete { table } if table == "files"),
            "{error}"
        );
        assert!(
            db.get_row("folders", &[Value::Integer(1)])
                .unwrap()
                .is_some()
        );
        // A plain soft delete of the folder alone still works, and its
        // restore clears the folder alone.
        db.delete_rows(
            "folders",
            &[vec![Value::Integer(1)]],
            &options.clone().soft(),
        )
        .unwrap();
        assert!(
            db.get_row("folders", &[Value::Integer(1)])
                .unwrap()
                .is_none()
        );
        let restored = db
            .restore_rows("folders", &[vec![Value::Integer(1)]])
            .unwrap();
        assert_eq!(restored.rows_written(), 1);
    }
}

#[test]
fn a_soft_cascade_cut_short_finishes_with_the_roots_time() {
    for (store, db) in databases() {
        fill(&db, 3);
        // As a failure after the first batches leaves it: the root and
        // post 1's rows carry the time, the rest not yet.
        let at = 1_700_000_000_000;
        let all = db.including_soft_deleted();
        let mut user = all.get::<User>(&1).unwrap().unwrap();
        user.deleted_at = Some(at);
        all.update(&user).unwrap();
        let mut post = all.get::<Post>(&1).unwrap().unwrap();
        post.deleted_at = Some(at);
        all.update(&post).unwrap();
        let outcome = db
            .delete_with::<User>(&[1], &DeleteOptions::default().soft_cascade())
            .unwrap();
        assert_eq!(
            outcome.updated::<User>(),
            0,
            "{store}: the root keeps its time"
        );
        assert_eq!(outcome.updated::<Post>(), 2, "{store}");
        assert_eq!(outcome.updated::<Comment>(), 9, "{store}");
        for table in ["posts", "comments"] {
            for (id, time) in times(&db, table) {
                let expected = if id >= 900 { None } else { Some(at) };
                assert_eq!(time, expected, "{store}: {table} {id}");
            }
        }
        // And the restore gives every row back.
        let restored = db.restore::<User>(&[1]).unwrap();
        assert_eq!(restored.rows_written(), 1 + 3 + 9, "{store}");
    }
}

#[test]
fn a_soft_cascade_in_a_transaction_and_a_row_that_replies_to_itself() {
    for (store, db) in databases() {
        fill(&db, 2);
        db.insert(&Comment {
            id: 99,
            post_id: Id::new(1),
            reply_to: Some(Id::new(99)),
            deleted_at: None,
        })
        .unwrap();
        let outcome = db
            .write(|tx| tx.delete_with::<Post>(&[1], &DeleteOptions::default().soft_cascade()))
            .unwrap();
        assert_eq!(outcome.updated::<Post>(), 1, "{store}");
        assert_eq!(outcome.updated::<Comment>(), 4, "{store}");
        let restored = db.write(|tx| tx.restore_rows("posts", &[vec![Value::Integer(1)]]));
        assert_eq!(restored.unwrap().rows_written(), 5, "{store}");
        assert_eq!(db.rows("comments").unwrap().len(), 8, "{store}");
        // The typed restore in a transaction, too.
        db.write(|tx| tx.delete_with::<Post>(&[2], &DeleteOptions::default().soft_cascade()))
            .unwrap();
        let restored = db.write(|tx| tx.restore::<Post>(&[2])).unwrap();
        assert_eq!(restored.rows_written(), 4, "{store}");
        assert_eq!(db.rows("comments").unwrap().len(), 8, "{store}");
    }
}

#[test]
fn a_tables_deletion_mode_is_what_a_plain_delete_does() {
    let id = || ColumnMeta::new("id", ValueType::Integer);
    let soft = || ColumnMeta::new("deleted_at", ValueType::Integer).nullable();
    let table = |name: &str, deletion: Deletion| {
        TableMeta::new(name.to_owned())
            .with_column(id())
            .with_column(soft())
            .with_primary_key(["id"])
            .with_soft_delete("deleted_at")
            .with_deletion(deletion)
    };
    let schema = Schema::new(vec![
        table("notes", Deletion::Soft),
        table("drafts", Deletion::Scheduled { after_ms: 60_000 }),
        table("scraps", Deletion::Hard),
    ])
    .unwrap();
    for (store, db) in [
        ("memory", common::memory(schema.clone())),
        ("sqlite", common::sqlite(schema)),
    ] {
        for name in ["notes", "drafts", "scraps"] {
            db.insert_row(name, vec![Value::Integer(1), Value::Null])
                .unwrap();
            db.insert_row(name, vec![Value::Integer(2), Value::Null])
                .unwrap();
        }
        let key = [vec![Value::Integer(1)]];
        let plain = DeleteOptions::default();
        let stored = |name: &str| db.including_soft_deleted().rows(name).unwrap().len();

        let soft = db.delete_rows("notes", &key, &plain).unwrap();
        assert_eq!(
            (soft.rows_updated("notes"), stored("notes")),
            (1, 2),
            "{store}"
        );
        let scheduled = db.delete_rows("drafts", &key, &plain).unwrap();
        assert!(
            scheduled.job.is_some(),
            "{store}: a job waits for the delay"
        );
        assert_eq!(stored("drafts"), 2, "{store}");
        let hard = db.delete_rows("scraps", &key, &plain).unwrap();
        assert_eq!(
            (hard.rows_deleted("scraps"), stored("scraps")),
            (1, 1),
            "{store}"
        );
        // An explicit mode wins: a hard delete of a soft table.
        let key = [vec![Value::Integer(2)]];
        let hard = db
            .delete_rows("notes", &key, &plain.clone().hard())
            .unwrap();
        assert_eq!(
            (hard.rows_deleted("notes"), stored("notes")),
            (1, 1),
            "{store}"
        );
        // Inside a transaction too.
        db.write(|tx| tx.delete_rows("drafts", &key, &plain))
            .unwrap();
        let shown: Vec<_> = db.rows("drafts").unwrap();
        assert!(
            shown.is_empty(),
            "{store}: both drafts are hidden: {shown:?}"
        );
    }
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "folders", deletion = soft_cascade)]
pub struct Folder {
    #[primary_key]
    pub id: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[table(name = "documents", deletion = scheduled(days = 30))]
#[index(name = "by_folder", columns(folder_id))]
pub struct Document {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Folder, on_delete = cascade, index = "by_folder")]
    pub folder_id: Id<Folder>,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[test]
fn the_derive_sets_a_tables_deletion_mode() {
    assert_eq!(Folder::META.deletion, Deletion::SoftCascade);
    assert_eq!(
        Document::META.deletion,
        Deletion::Scheduled {
            after_ms: 30 * 86_400_000
        }
    );
    assert_eq!(User::META.deletion, Deletion::Hard);
    static SCHEMA: Schema = schema![Folder, Document];
    for (store, db) in [
        ("memory", common::memory(SCHEMA.clone())),
        ("sqlite", common::sqlite(SCHEMA.clone())),
        ("postgres", common::postgres(SCHEMA.clone())),
    ] {
        db.insert(&Folder {
            id: 1,
            deleted_at: None,
        })
        .unwrap();
        for id in [10, 11] {
            db.insert(&Document {
                id,
                folder_id: Id::new(1),
                deleted_at: None,
            })
            .unwrap();
        }
        // A plain delete of a folder is a soft cascade: its documents are
        // marked too, and hidden.
        let outcome = db.delete::<Folder>(&1).unwrap();
        assert_eq!(outcome.updated::<Document>(), 2, "{store}");
        assert_eq!(db.get::<Document>(&10).unwrap(), None, "{store}");
        db.restore::<Folder>(&[1]).unwrap();
        assert!(db.get::<Document>(&10).unwrap().is_some(), "{store}");
        // A plain delete of a document schedules it; a hard delete removes it.
        let scheduled = db.delete::<Document>(&10).unwrap();
        assert!(scheduled.job.is_some(), "{store}: due in 30 days");
        let hard = db
            .delete_with::<Document>(&[11], &DeleteOptions::default().hard())
            .unwrap();
        assert_eq!(hard.deleted::<Document>(), 1, "{store}");
        assert_eq!(
            db.including_soft_deleted().rows("documents").unwrap().len(),
            1,
            "{store}"
        );
    }
}
