//! The SQLite store's connections on a file database in WAL mode: one
//! writer and a pool of readers (`SqliteOptions::pool`), so a read runs
//! while a long write transaction is open on another thread, and sees the
//! last committed state; with a pool of one connection the read waits for
//! the writer, as before.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use cascadia::{
    Database, Error, PoolOptions, Schema, SqliteOptions, SqliteStore, StoreErrorKind, Table,
    Worker, schema,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "notes")]
struct Note {
    #[primary_key]
    id: i64,
    body: String,
}

static SCHEMA: Schema = schema![Note];

fn file_store(name: &str, options: SqliteOptions) -> (Database, SqliteStore) {
    let dir = std::env::temp_dir().join(format!("cascadia-sqlite-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteStore::open(&path, SCHEMA.clone(), options).expect("open");
    (Database::new(store.clone()), store)
}

fn file_database(name: &str, options: SqliteOptions) -> Database {
    file_store(name, options).0
}

/// Opens a write transaction on another thread that inserts note 2 and
/// holds the transaction open until told to commit. Returns once the write
/// is under way.
fn hold_a_write(db: &Database) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (inside_tx, inside_rx) = mpsc::channel();
    let (commit_tx, commit_rx) = mpsc::channel::<()>();
    let writer = db.clone();
    let thread = std::thread::spawn(move || {
        writer
            .write(|tx| {
                tx.insert(&Note {
                    id: 2,
                    body: "uncommitted".into(),
                })?;
                inside_tx.send(()).expect("signal");
                commit_rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("commit signal");
                Ok::<_, Error>(())
            })
            .expect("the long write");
    });
    inside_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the write started");
    (commit_tx, thread)
}

#[test]
fn a_read_completes_while_a_long_write_transaction_is_open() {
    let db = file_database("concurrent", SqliteOptions::default());
    db.insert(&Note {
        id: 1,
        body: "committed".into(),
    })
    .expect("insert");
    let (commit, writer) = hold_a_write(&db);

    let reader = db.clone();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let seen = (
            reader.get::<Note>(&1),
            reader.get::<Note>(&2),
            reader.rows("notes"),
        );
        let _ = done_tx.send(seen);
    });
    let (one, two, rows) = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the read completes while the write transaction is open");
    assert_eq!(one.expect("read").map(|n| n.body), Some("committed".into()));
    assert_eq!(two.expect("read"), None, "the open write is not visible");
    assert_eq!(rows.expect("rows").len(), 1);

    commit.send(()).expect("commit");
    writer.join().expect("writer");
    assert_eq!(
        db.get::<Note>(&2).expect("read").map(|n| n.body),
        Some("uncommitted".into())
    );
}

#[test]
fn with_a_pool_of_one_connection_a_read_waits_for_the_writer() {
    let options = SqliteOptions::default().pool(PoolOptions::default().max_connections(1));
    let db = file_database("single", options);
    db.insert(&Note {
        id: 1,
        body: "committed".into(),
    })
    .expect("insert");
    let (commit, writer) = hold_a_write(&db);

    let reader = db.clone();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(reader.get::<Note>(&2));
    });
    assert!(
        done_rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "one connection: the read queues behind the write"
    );
    commit.send(()).expect("commit");
    let seen = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the read after the commit");
    assert_eq!(
        seen.expect("read").map(|n| n.body),
        Some("uncommitted".into())
    );
    writer.join().expect("writer");
}

#[test]
fn concurrent_reads_open_readers_up_to_the_pool_size_and_no_more() {
    // Three connections: the writer and at most two readers. Eight threads
    // reading at once share them; all finish.
    let options = SqliteOptions::default().pool(PoolOptions::default().max_connections(3));
    let (db, store) = file_store("bounded", options);
    for id in 0..50 {
        db.insert(&Note {
            id,
            body: format!("note {id}"),
        })
        .expect("insert");
    }
    assert_eq!(
        store.open_readers(),
        0,
        "writes take the writer's connection"
    );
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    assert_eq!(db.rows("notes").expect("rows").len(), 50);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("reader");
    }
    let readers = store.open_readers();
    assert!(
        (1..=2).contains(&readers),
        "{readers} readers for a pool of 3"
    );
}

#[test]
fn a_read_that_finds_no_free_reader_in_time_fails_with_a_connection_error() {
    let options = SqliteOptions::default().pool(
        PoolOptions::default()
            .max_connections(2)
            .connection_timeout(Duration::from_millis(100)),
    );
    let (db, _store) = file_store("timeout", options);
    db.insert(&Note {
        id: 1,
        body: "one".into(),
    })
    .expect("insert");
    // Hold the one reader in a long read transaction.
    let (inside_tx, inside_rx) = mpsc::channel();
    let (end_tx, end_rx) = mpsc::channel::<()>();
    let holder = db.clone();
    let thread = std::thread::spawn(move || {
        holder
            .read(|tx| {
                let _ = tx.get::<Note>(&1)?;
                inside_tx.send(()).expect("signal");
                end_rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("end signal");
                Ok::<_, Error>(())
            })
            .expect("the long read");
    });
    inside_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the read started");
    let start = Instant::now();
    let error = db.get::<Note>(&1).expect_err("no reader is free");
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert!(
        matches!(
            error,
            Error::Store {
                kind: StoreErrorKind::Connection,
                ..
            }
        ),
        "{error}"
    );
    // Writes do not need a reader.
    db.insert(&Note {
        id: 2,
        body: "two".into(),
    })
    .expect("a write meanwhile");
    end_tx.send(()).expect("end");
    thread.join().expect("holder");
    assert_eq!(
        db.get::<Note>(&2).expect("read").map(|n| n.body),
        Some("two".into())
    );
}

#[test]
fn an_in_memory_database_keeps_one_connection() {
    let db = Database::new(
        SqliteStore::open_in_memory(SCHEMA.clone(), SqliteOptions::default()).expect("open"),
    );
    db.insert(&Note {
        id: 1,
        body: "here".into(),
    })
    .expect("insert");
    // A reader of its own would see an empty database of its own.
    assert_eq!(
        db.get::<Note>(&1).expect("read").map(|n| n.body),
        Some("here".into())
    );
    assert!(!db.store().capabilities().concurrent_readers);
    let _ = Worker::new(db.clone()).run_until_idle().expect("worker");
}
