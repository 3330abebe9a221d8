//! The PostgreSQL server the tests use, and one schema (namespace) per
//! test: created, then dropped, so that tests run in parallel on one server.
//!
//! The server is `CASCADIA_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`. A test that needs it fails
//! loudly when it cannot connect, saying how to start one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cascadia::{
    Access, Capabilities, Database, PostgresOptions, PostgresStore, Schema, Store, Transaction,
};

/// The default server: the one CI starts (`.ci/run`).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server's URL.
pub fn url() -> String {
    std::env::var("CASCADIA_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A plain client to the server, or a panic that says how to get one.
pub fn connect() -> postgres::Client {
    let url = url();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|error| {
        panic!(
            "cannot connect to PostgreSQL at {url}: {error}\n\
             The PostgreSQL tests need a server: start the local one \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
             as `.ci/run` does) or point CASCADIA_POSTGRES_URL at another \
             (postgres://user@host:port/database)."
        )
    })
}

/// The system catalogs that creating and dropping tables churns.
const CHURNED_CATALOGS: &str = "pg_catalog.pg_attribute, pg_catalog.pg_attrdef, \
     pg_catalog.pg_class, pg_catalog.pg_constraint, pg_catalog.pg_depend, \
     pg_catalog.pg_index, pg_catalog.pg_namespace, pg_catalog.pg_statistic, \
     pg_catalog.pg_trigger, pg_catalog.pg_type";

/// `VACUUM`s the catalogs that tests creating and dropping thousands of
/// tables fill with dead rows. A server without autovacuum (CI's runs with
/// `autovacuum = off`) never reclaims them itself, and every `CREATE` and
/// `DROP` then gets slower: a 10,000-case differential run had
/// `pg_attribute` at 2.3 million dead rows and 1–2 s per `DROP SCHEMA`.
/// A role that may not vacuum a catalog gets a warning, not an error.
pub fn vacuum_catalogs() {
    connect()
        .batch_execute(&format!("VACUUM {CHURNED_CATALOGS}"))
        .expect("vacuum the system catalogs");
}

/// A schema name no other test of any process uses.
pub fn fresh_name(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    format!(
        "cascadia_{}_{}_{tag}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A schema of its own for one test, dropped (with everything in it) when
/// the value is dropped.
#[derive(Debug)]
pub struct PgSchema {
    pub name: String,
}

impl PgSchema {
    /// Creates a fresh schema.
    pub fn new(tag: &str) -> Self {
        let name = fresh_name(tag);
        connect()
            .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
            .expect("create schema");
        PgSchema { name }
    }

    /// A client whose `search_path` is this schema.
    pub fn client(&self) -> postgres::Client {
        let mut client = connect();
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.name))
            .expect("search_path");
        client
    }

    /// Store options that work in this schema.
    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::default().schema(self.name.clone())
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ =
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

/// A PostgreSQL store in a schema of its own, dropped with the last clone.
#[derive(Clone, Debug)]
pub struct TestStore {
    pub store: PostgresStore,
    pub schema: Arc<PgSchema>,
}

impl TestStore {
    /// A store for `schema` in a fresh PostgreSQL schema, with `options`
    /// (their `schema` is replaced).
    pub fn with_options(schema: Schema, options: PostgresOptions, tag: &str) -> Self {
        let namespace = Arc::new(PgSchema::new(tag));
        let mut options = options;
        options.schema = Some(namespace.name.clone());
        let store = PostgresStore::open(&url(), schema, options).expect("postgres store");
        TestStore {
            store,
            schema: namespace,
        }
    }

    /// A store for `schema` in a fresh PostgreSQL schema.
    pub fn new(schema: Schema) -> Self {
        Self::with_options(schema, PostgresOptions::default(), "t")
    }
}

impl Store for TestStore {
    fn schema(&self) -> &Schema {
        self.store.schema()
    }

    fn capabilities(&self) -> Capabilities {
        self.store.capabilities()
    }

    fn begin(&self, access: Access) -> cascadia::Result<Box<dyn Transaction + '_>> {
        self.store.begin(access)
    }
}

/// A database on a PostgreSQL store in a fresh schema.
pub fn database(schema: Schema) -> Database {
    Database::new(TestStore::new(schema))
}
