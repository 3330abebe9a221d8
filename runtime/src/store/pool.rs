//! `PoolOptions`: how a store pools its connections, in terms any backend
//! can use: the PostgreSQL store's r2d2 pool, and the SQLite store's reader
//! connections beside its one writer (`SqliteOptions::pool`).

use std::time::Duration;

/// How a store keeps connections to its database.
///
/// A transaction holds one connection from the pool until it ends, so
/// `max_connections` bounds how many transactions run at once in the
/// process (workers, readers and writers together); `begin` waits up to
/// `connection_timeout` for a free one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolOptions {
    /// Most connections open at once (default 8).
    pub max_connections: u32,
    /// Idle connections the pool opens ahead of need and keeps open
    /// (default `Some(0)`: connections open as transactions need them, and
    /// stay open while used). `None`: keep `max_connections` open.
    pub min_idle: Option<u32>,
    /// How long `begin` waits for a free connection, or for a new one to
    /// connect, before failing with a connection error (default 30 s).
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 8,
            min_idle: Some(0),
            connection_timeout: Duration::from_secs(30),
        }
    }
}

impl PoolOptions {
    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`min_idle`](Self::min_idle).
    pub fn min_idle(mut self, min_idle: Option<u32>) -> Self {
        self.min_idle = min_idle;
        self
    }

    /// Sets [`connection_timeout`](Self::connection_timeout).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }
}
