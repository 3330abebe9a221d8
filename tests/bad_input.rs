//! Bad input never panics: keys of the wrong shape or type, unknown tables
//! and jobs, empty key lists, a zero batch size or budget, and a job record
//! that another program corrupted. Each call returns an error that names
//! what is wrong (or, where the input is merely empty, does nothing), and
//! the database is unchanged.

mod common;

use cascadia::{
    Access, Budget, Database, DeleteOptions, Error, ExplainOptions, IntegrityOptions, JobId,
    SqliteOptions, SqliteStore, Worker,
};
use common::{dump, int, memory, sqlite, teams_schema, text};

fn fill(db: &Database) {
    db.insert_row("teams", vec![int(1), text("a")]).unwrap();
    db.insert_row("teams", vec![int(2), text("b")]).unwrap();
    for member in 1..=5 {
        db.insert_row(
            "members",
            vec![int(member), int(1), cascadia::Value::Null, text("m")],
        )
        .unwrap();
        db.insert_row("posts", vec![int(member), int(member), text("p")])
            .unwrap();
    }
}

fn both() -> [Database; 2] {
    let dbs = [memory(teams_schema()), sqlite(teams_schema())];
    for db in &dbs {
        fill(db);
    }
    dbs
}

#[test]
fn keys_of_the_wrong_shape_or_type_are_errors() {
    for db in both() {
        let before = dump(&db);
        let wrong_arity =
            db.delete_rows("teams", &[vec![int(1), int(2)]], &DeleteOptions::default());
        assert!(
            matches!(wrong_arity, Err(Error::KeyShape { .. })),
            "{wrong_arity:?}"
        );
        let no_columns = db.delete_rows("teams", &[vec![]], &DeleteOptions::default().sync());
        assert!(
            matches!(no_columns, Err(Error::KeyShape { .. })),
            "{no_columns:?}"
        );
        let wrong_type = db.delete_rows("teams", &[vec![text("1")]], &DeleteOptions::default());
        assert!(
            matches!(wrong_type, Err(Error::TypeMismatch { .. })),
            "{wrong_type:?}"
        );
        let unknown = db.delete_rows("nope", &[vec![int(1)]], &DeleteOptions::default());
        assert!(
            matches!(unknown, Err(Error::UnknownTable { .. })),
            "{unknown:?}"
        );
        let explain =
            db.explain_delete_rows("teams", &[vec![int(1), int(1)]], &ExplainOptions::default());
        assert!(
            matches!(explain, Err(Error::KeyShape { .. })),
            "{explain:?}"
        );
        let enqueue = db.enqueue_delete_rows("teams", &[vec![]], &DeleteOptions::default());
        assert!(
            matches!(enqueue, Err(Error::KeyShape { .. })),
            "{enqueue:?}"
        );
        let get = db.get_row("teams", &[int(1), int(1)]);
        assert!(matches!(get, Err(Error::KeyShape { .. })), "{get:?}");
        let update = db.update_row("teams", &[int(1), int(1)], vec![int(1), text("x")]);
        assert!(matches!(update, Err(Error::KeyShape { .. })), "{update:?}");
        let short_row = db.insert_row("teams", vec![int(9)]);
        assert!(
            matches!(short_row, Err(Error::RowShape { .. })),
            "{short_row:?}"
        );
        assert_eq!(dump(&db), before);
    }
}

#[test]
fn empty_key_lists_do_nothing() {
    for db in both() {
        let before = dump(&db);
        for options in [DeleteOptions::default(), DeleteOptions::default().sync()] {
            let outcome = db
                .delete_rows("teams", &[], &options)
                .expect("empty delete");
            assert_eq!(outcome.rows_written(), 0);
        }
        let explain = db
            .explain_delete_rows("teams", &[], &ExplainOptions::default())
            .expect("empty explain");
        assert_eq!(explain.rows_deleted(), 0);
        assert_eq!(dump(&db), before);
    }
}

#[test]
fn a_zero_batch_size_still_finishes() {
    for db in both() {
        let mut integrity = IntegrityOptions::default();
        integrity.batch_rows = 0;
        let report = db.check_integrity(&integrity).expect("integrity");
        assert_eq!(report.rows_checked, 10, "every member and post is read");
        let mut options = DeleteOptions::default();
        options.batch_rows = 0;
        let outcome = db
            .delete_rows("teams", &[vec![int(1)]], &options)
            .expect("batch_rows = 0");
        assert_eq!(outcome.rows_deleted("posts"), 5);
    }
}

#[test]
fn a_zero_budget_still_finishes() {
    for budget in [
        Budget::UNLIMITED.rows_written(0),
        Budget::UNLIMITED.bytes_written(0),
        Budget::UNLIMITED.rows_read(0),
    ] {
        for db in both() {
            let outcome = db
                .delete_rows(
                    "teams",
                    &[vec![int(1)]],
                    &DeleteOptions::default().budget(budget),
                )
                .unwrap_or_else(|error| panic!("{budget:?}: {error}"));
            assert_eq!(outcome.rows_deleted("posts"), 5, "{budget:?}");
            assert_eq!(db.rows("members").unwrap().len(), 0, "{budget:?}");
        }
    }
}

#[test]
fn unknown_jobs_are_reported_not_panicked_on() {
    for db in both() {
        let missing = JobId(987_654);
        assert!(db.job(missing).unwrap().is_none());
        let cancel = db.cancel_job(missing);
        assert!(
            matches!(cancel, Err(Error::UnknownJob { .. })),
            "{cancel:?}"
        );
        let retry = db.retry_job(missing);
        assert!(matches!(retry, Err(Error::UnknownJob { .. })), "{retry:?}");
        assert!(!db.forget_job(missing).unwrap());
        let run = Worker::new(db.clone()).run_job(missing);
        assert!(matches!(run, Err(Error::UnknownJob { .. })), "{run:?}");
    }
}

#[test]
fn a_corrupted_job_record_is_an_error() {
    for db in both() {
        let job = db
            .enqueue_delete_rows("teams", &[vec![int(1)]], &DeleteOptions::default())
            .expect("enqueue");
        let before = dump(&db);
        let mut tx = db.store().begin(Access::Write).unwrap();
        let mut row = tx.job(job).unwrap().expect("the job's row");
        row.state = b"{not json".to_vec();
        tx.update_job(&row).unwrap();
        tx.commit().unwrap();
        let info = db.job(job);
        assert!(matches!(info, Err(Error::JobState(_))), "{info:?}");
        let run = Worker::new(db.clone()).run_until_idle();
        assert!(matches!(run, Err(Error::JobState(_))), "{run:?}");
        assert_eq!(dump(&db), before, "nothing deleted under a corrupted job");
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_error() {
    let path =
        std::env::temp_dir().join(format!("cascadia-not-a-db-{}.sqlite", std::process::id()));
    std::fs::write(
        &path,
        b"this is not an SQLite database, just some text, long enough to be read as a header",
    )
    .unwrap();
    let opened = SqliteStore::open(&path, teams_schema(), SqliteOptions::default());
    std::fs::remove_file(&path).unwrap();
    let error = opened.expect_err("opening a text file must fail");
    assert!(
        matches!(
            error,
            Error::Store {
                backend: "sqlite",
                ..
            }
        ),
        "{error:?}"
    );
}
