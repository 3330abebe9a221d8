//! The database files of a run: where they go, creating them through
//! cascadia's store (so every side has the same DDL), copying one after a
//! checkpoint, and reading one through the page cache before it is timed.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use cascadia::{Schema, SqliteOptions, SqliteStore};
use rusqlite::Connection;

use super::Failure;

/// The suffixes of a database's files: the database, its WAL, its shared
/// memory.
const SUFFIXES: [&str; 3] = ["", "-wal", "-shm"];

/// The directory the databases go in; a temporary one is removed when
/// dropped.
pub struct Workspace {
    dir: PathBuf,
    temporary: bool,
}

impl Workspace {
    /// `dir`, or a fresh directory under the system's temp dir.
    pub fn new(dir: Option<&Path>) -> io::Result<Self> {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let workspace = match dir {
            Some(dir) => Workspace {
                dir: dir.to_owned(),
                temporary: false,
            },
            None => Workspace {
                dir: std::env::temp_dir().join(format!(
                    "cascadia-bench-{}-{}",
                    std::process::id(),
                    RUNS.fetch_add(1, Ordering::Relaxed)
                )),
                temporary: true,
            },
        };
        std::fs::create_dir_all(&workspace.dir)?;
        Ok(workspace)
    }

    /// The database `<shape>-<side>.db`, its files removed if it existed.
    pub fn fresh(&self, shape: &str, side: &str) -> io::Result<PathBuf> {
        let path = self.dir.join(format!("{shape}-{side}.db"));
        for file in files(&path) {
            match std::fs::remove_file(file) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(path)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The files of the database at `path`.
fn files(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    SUFFIXES
        .iter()
        .map(move |suffix| PathBuf::from(format!("{}{suffix}", path.display())))
}

/// Creates the database at `path` with `schema`'s tables, through
/// cascadia's store: foreign keys declared with their actions
/// (`native_actions`) or without.
pub fn create(path: &Path, schema: &Schema, native_actions: bool) -> Result<(), Failure> {
    let options = SqliteOptions::default().native_actions(native_actions);
    drop(SqliteStore::open(path, schema.clone(), options)?);
    Ok(())
}

/// A plain connection as the runs use it: foreign keys enforced, WAL,
/// `synchronous=NORMAL`.
pub fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
    )?;
    Ok(conn)
}

/// Moves everything in the WAL into the database file.
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
}

/// Copies the database at `from` (checkpointed first) to `to`, with its
/// WAL and shared memory if it has them.
pub fn copy(from: &Path, to: &Path) -> Result<(), Failure> {
    checkpoint(&Connection::open(from)?)?;
    for (source, target) in files(from).zip(files(to)) {
        if source.exists() {
            std::fs::copy(source, target)?;
        }
    }
    Ok(())
}

/// Reads every file of the database at `path`, so that the timed run
/// finds its pages in the operating system's cache.
pub fn warm(path: &Path) -> io::Result<()> {
    for file in files(path).filter(|file| file.exists()) {
        io::copy(&mut std::fs::File::open(file)?, &mut io::sink())?;
    }
    Ok(())
}
