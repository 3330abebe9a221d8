//! The DB argument: a SQLite path or URL, opened read-only for reading its
//! schema, or as a cascadia [`Database`] for writing.
//!
//! The [`Database`] runs the file's own foreign-key actions with cascadia's
//! engine; it opens SQLite with `foreign_keys` off so that SQLite does not
//! run the same native actions a second time (cascadia checks every key
//! it writes), and leaves the journal mode as it is.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cascadia::store::JournalMode;
use cascadia::store::sqlite::introspect::{Introspection, introspect};
use cascadia::{Database, Schema, SqliteOptions, SqliteStore};
use rusqlite::{Connection, OpenFlags};

/// Where the database is.
#[derive(Debug, Clone)]
pub struct Source {
    /// The SQLite file.
    pub path: PathBuf,
}

impl Source {
    /// Parses a path, a `sqlite://path` or `sqlite:path` URL; refuses other
    /// URLs with what the CLI supports.
    pub fn parse(argument: &str) -> Result<Source> {
        let path = if let Some(rest) = argument.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = argument.strip_prefix("sqlite:") {
            rest
        } else if argument.starts_with("postgres://") || argument.starts_with("postgresql://") {
            bail!(
                "PostgreSQL is not supported yet by the CLI; give a SQLite file path or a sqlite:// URL"
            );
        } else if let Some((scheme, _)) = argument.split_once("://") {
            bail!(
                "unknown database URL scheme `{scheme}`; give a SQLite file path or a sqlite:// URL"
            );
        } else {
            argument
        };
        let path = Path::new(path).to_path_buf();
        if !path.is_file() {
            bail!(
                "no SQLite file at `{}`; check the path (the CLI never creates a database)",
                path.display()
            );
        }
        Ok(Source { path })
    }

    /// A read-only connection: nothing it does can change the file.
    pub fn read_only(&self) -> Result<Connection> {
        Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open `{}` read-only", self.path.display()))
    }

    /// The database's tables, read without changing anything.
    pub fn introspect(&self) -> Result<Introspection> {
        let conn = self.read_only()?;
        introspect(&conn)
            .with_context(|| format!("cannot read the schema of `{}`", self.path.display()))
    }

    /// The database's schema, validated by cascadia's rules.
    pub fn schema(&self) -> Result<Schema> {
        let introspection = self.introspect()?;
        Schema::new(introspection.tables).context(
            "cascadia cannot run this database's foreign keys as they are (`cascadia inspect` lists what to fix)",
        )
    }

    /// The database under cascadia's engine, with the file's own schema.
    pub fn database(&self) -> Result<Database> {
        let schema = self.schema()?;
        let options = SqliteOptions::default()
            .journal_mode(JournalMode::Unchanged)
            .create_tables(false)
            .foreign_keys(false);
        let store = SqliteStore::open(&self.path, schema, options)
            .with_context(|| format!("cannot open `{}` with cascadia", self.path.display()))?;
        Ok(Database::new(store))
    }
}
