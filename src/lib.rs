//! cascadia: foreign-key graphs checked by the compiler, and referential
//! actions run in bounded, resumable batches.
//!
//! Describe tables as structs with [`#[derive(Table)]`](macro@Table): keys,
//! indexes and foreign keys with their referential actions (`cascade`,
//! `restrict`, `no_action`, `set_null`, `set_default`, on delete and on
//! update). A wrong reference, a type mismatch, a `set_null` on a column that
//! is not an `Option`, a foreign key with no index to find its referencing
//! rows, an index query out of column order: each is a compile error on the
//! offending token that says how to fix it. [`schema!`] lists the tables of a
//! database and checks, at compile time, that every foreign key's target is
//! among them.
//!
//! At run time a [`Database`] over a [`Store`] — [`SqliteStore`] (the
//! embedded default) or [`MemoryStore`] — reads and writes the structs
//! through serde, checks foreign keys on every write, and runs the actions
//! with SQLite's semantics ([`semantics`]). Deletes run in batches by
//! default: a read-only check pass, then one bounded transaction per batch,
//! bottom-up so that no committed state ever holds an orphan, with the job's
//! position saved in the same transaction so that a [`Worker`] resumes it
//! after a crash.
//!
//! ```
//! use cascadia::{Database, Id, MemoryStore, Schema, Table, schema};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Table, Serialize, Deserialize)]
//! #[table(name = "teams")]
//! struct Team {
//!     #[primary_key]
//!     id: i64,
//!     name: String,
//! }
//!
//! #[derive(Table, Serialize, Deserialize)]
//! #[table(name = "members")]
//! #[index(columns(team_id))]                    // finds a team's members: required
//! struct Member {
//!     #[primary_key]
//!     id: i64,
//!     #[foreign_key(references = Team, on_delete = cascade)]
//!     team_id: Id<Team>,
//! }
//!
//! static SCHEMA: Schema = schema![Team, Member];
//!
//! let db = Database::new(MemoryStore::new(SCHEMA.clone())?);
//! db.insert(&Team { id: 1, name: "fjord".into() })?;
//! db.insert(&Member { id: 7, team_id: Id::new(1) })?;
//! // A member of a team that does not exist is refused.
//! assert!(db.insert(&Member { id: 8, team_id: Id::new(2) }).is_err());
//!
//! let outcome = db.delete::<Team>(&1)?;         // batched, bottom-up
//! assert_eq!(outcome.rows_deleted("members"), 1);
//! assert!(db.get::<Member>(&7)?.is_none());
//! # Ok::<(), cascadia::Error>(())
//! ```
//!
//! Start with the [`Table`](macro@Table) derive's documentation (the
//! attribute language), then [`Database`] and [`DeleteOptions`].
//!
//! # Async
//!
//! With the cargo feature `tokio`, `cascadia::tokio::Database` runs the same
//! operations as futures, on tokio's blocking pool, and
//! `cascadia::tokio::WorkerTask` runs a [`Worker`] as a task that shuts
//! down gracefully (after the batch under way).
//!
//! # One SQLite per build
//!
//! `libsqlite3-sys` declares `links = "sqlite3"`: a build holds one version
//! of it. The SQLite store (cargo feature `sqlite`, on by default) uses
//! rusqlite 0.41, re-exported as [`rusqlite`]; an application that talks to
//! SQLite itself uses that re-export (or rusqlite 0.41 exactly). A crate
//! that needs another `libsqlite3-sys` (sqlx 0.8's SQLite driver pins 0.30)
//! cannot share the build; build cascadia with `default-features = false`
//! beside it. With the `postgres` feature, the client is re-exported as
//! `postgres`.

#![warn(missing_docs)]

#[doc = include_str!("../docs/table.md")]
pub use cascadia_macros::Table;
pub use cascadia_runtime::*;

/// A [`Schema`] of derived tables, checked at compile time.
///
/// `schema![Team, Member, Project]` lists the tables of one database. During
/// constant evaluation it checks that every foreign key of a listed table
/// references a listed table, and that no two tables share a SQL name (rule
/// C11); a failed check is a compile error naming the tables involved. The
/// value is a `const` expression, so it fits a `static`, a `const`, or a
/// function body.
///
/// ```
/// use cascadia::{Id, Schema, Table, schema};
///
/// #[derive(Table)]
/// #[table(name = "teams")]
/// struct Team {
///     #[primary_key]
///     id: i64,
/// }
///
/// #[derive(Table)]
/// #[table(name = "members")]
/// #[index(columns(team_id))]
/// struct Member {
///     #[primary_key]
///     id: i64,
///     team_id: Id<Team>,
/// }
///
/// static SCHEMA: Schema = schema![Team, Member];
///
/// assert!(SCHEMA.table("members").is_some());
/// ```
///
/// Leaving `Team` out does not compile: `Member`'s foreign key needs it.
///
/// ```compile_fail
/// # use cascadia::{Id, Schema, Table, schema};
/// # #[derive(Table)] #[table(name = "teams")] struct Team { #[primary_key] id: i64 }
/// # #[derive(Table)] #[table(name = "members")] #[index(columns(team_id))]
/// # struct Member { #[primary_key] id: i64, team_id: Id<Team> }
/// static SCHEMA: Schema = schema![Member];
/// ```
#[macro_export]
macro_rules! schema {
    ($($table:ty),* $(,)?) => {{
        const __CASCADIA_TABLES: &[&$crate::TableMeta] = &[$(<$table as $crate::Table>::META),*];
        const _: () = if let ::core::option::Option::Some(error) =
            $crate::__private::check_schema::<{ __CASCADIA_TABLES.len() }>(__CASCADIA_TABLES)
        {
            $crate::__private::concat_panic(&[&error])
        };
        $crate::Schema::from_static(__CASCADIA_TABLES)
    }};
}
