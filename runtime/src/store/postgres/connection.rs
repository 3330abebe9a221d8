//! Pooled connections: the `r2d2_postgres` manager, wrapped so that each
//! connection sets its session up once (`search_path`) and keeps the
//! statements prepared on it.

use std::collections::HashMap;
use std::sync::Arc;

use postgres::{Client, NoTls, Statement};
use r2d2::ManageConnection;
use r2d2_postgres::PostgresConnectionManager;

use super::ddl::quote;

/// One pooled connection: the client and every statement prepared on it,
/// by SQL text.
pub(crate) struct Connected {
    /// The client.
    pub(crate) client: Client,
    statements: HashMap<Arc<str>, Statement>,
}

impl Connected {
    /// The statement of `sql`, prepared on this connection the first time.
    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(Arc::from(sql), statement.clone());
        Ok(statement)
    }
}

/// Opens connections for the pool.
pub(crate) struct Manager {
    inner: PostgresConnectionManager<NoTls>,
    /// The schema every connection works in (`SET search_path`), if any.
    search_path: Option<String>,
}

impl Manager {
    pub(crate) fn new(config: postgres::Config, search_path: Option<String>) -> Self {
        Manager {
            inner: PostgresConnectionManager::new(config, NoTls),
            search_path,
        }
    }

    /// The session setup every connection runs once.
    fn setup(&self) -> String {
        match &self.search_path {
            Some(schema) => format!("SET search_path TO {}", quote(schema)),
            None => String::new(),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Connected;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connected, postgres::Error> {
        let mut client = self.inner.connect()?;
        let setup = self.setup();
        if !setup.is_empty() {
            client.batch_execute(&setup)?;
        }
        Ok(Connected {
            client,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Connected) -> Result<(), postgres::Error> {
        self.inner.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Connected) -> bool {
        conn.client.is_closed()
    }
}

/// The one thread the pools of every store of the process share for their
/// upkeep (r2d2 otherwise starts three per pool).
pub(crate) fn shared_threads() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    static THREADS: std::sync::OnceLock<Arc<scheduled_thread_pool::ScheduledThreadPool>> =
        std::sync::OnceLock::new();
    THREADS
        .get_or_init(|| Arc::new(scheduled_thread_pool::ScheduledThreadPool::new(1)))
        .clone()
}
