//! `Readers`: the reader connections of a SQLite file database in WAL mode,
//! so that read transactions do not queue behind the writer.
//!
//! A store keeps one writer connection (every write transaction, `BEGIN
//! IMMEDIATE`, takes it in turn) and up to `PoolOptions::max_connections −
//! 1` reader connections, opened as concurrent reads need them and kept
//! open. A read transaction takes a free reader; when every reader is busy
//! and none may be opened, it waits for one, up to
//! `PoolOptions::connection_timeout`. In WAL mode a reader sees the last
//! committed state and neither blocks the writer nor waits for it. In-memory
//! databases and other journal modes keep the single connection.

use std::sync::{Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{Connected, SqliteOptions, size};
use crate::model::error::{Error, StoreErrorKind};
use crate::store::PoolOptions;

/// Reader connections to one database file, opened on demand.
pub(super) struct Readers {
    /// The file; `None` when reads share the writer's connection.
    path: Option<String>,
    slots: Vec<OnceLock<Mutex<Connected>>>,
    busy_timeout: Duration,
    statement_cache: usize,
    connection_timeout: Duration,
}

impl Readers {
    /// No reader connections: reads use the writer's.
    pub(super) fn none() -> Self {
        Readers {
            path: None,
            slots: Vec::new(),
            busy_timeout: Duration::ZERO,
            statement_cache: 0,
            connection_timeout: Duration::ZERO,
        }
    }

    /// Up to `pool.max_connections − 1` readers of the file at `path`.
    pub(super) fn of_file(path: String, options: &SqliteOptions, pool: &PoolOptions) -> Self {
        let count = pool.max_connections.saturating_sub(1) as usize;
        Readers {
            path: (count > 0).then_some(path),
            slots: (0..count).map(|_| OnceLock::new()).collect(),
            busy_timeout: options.busy_timeout,
            statement_cache: options.statement_cache,
            connection_timeout: pool.connection_timeout,
        }
    }

    /// A reader connection for one read transaction, or `None` when reads
    /// use the writer's connection.
    ///
    /// # Errors
    /// [`Error::Store`] of kind `Connection` when no reader is free within
    /// the pool's connection timeout; SQLite errors opening a reader.
    pub(super) fn lease(&self) -> Result<Option<MutexGuard<'_, Connected>>, Error> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let deadline = Instant::now() + self.connection_timeout;
        let mut pause = Duration::from_micros(200);
        loop {
            for slot in &self.slots {
                let Some(reader) = slot.get() else {
                    // Open a reader for this slot: every open one is busy.
                    let opened = Mutex::new(self.open(path)?);
                    // Another thread may have filled the slot meanwhile:
                    // then this connection is dropped and the slot's used.
                    let _ = slot.set(opened);
                    let Some(reader) = slot.get() else { continue };
                    match reader.try_lock() {
                        Ok(guard) => return Ok(Some(guard)),
                        Err(TryLockError::Poisoned(poisoned)) => {
                            return Ok(Some(poisoned.into_inner()));
                        }
                        Err(TryLockError::WouldBlock) => continue,
                    }
                };
                match reader.try_lock() {
                    Ok(guard) => return Ok(Some(guard)),
                    // A panic mid-transaction rolled back in `Drop`: the
                    // connection is usable.
                    Err(TryLockError::Poisoned(poisoned)) => {
                        return Ok(Some(poisoned.into_inner()));
                    }
                    Err(TryLockError::WouldBlock) => {}
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::store(
                    "sqlite",
                    StoreErrorKind::Connection,
                    format!(
                        "no reader connection free within {:?} ({} readers)",
                        self.connection_timeout,
                        self.slots.len()
                    ),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }

    /// Every reader opened so far, for the statements they prepared.
    pub(super) fn opened(&self) -> impl Iterator<Item = &Mutex<Connected>> {
        self.slots.iter().filter_map(OnceLock::get)
    }

    fn open(&self, path: &str) -> Result<Connected, Error> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        // As the writer: plans never depend on bound values.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.set_prepared_statement_cache_capacity(self.statement_cache);
        size::register(&conn)?;
        Ok(Connected {
            conn,
            sql: Default::default(),
            prepared: Default::default(),
        })
    }
}
