//! `Error`: the one error type of the crate.
//!
//! Every variant about data names the table and the key of the row it is
//! about; the variants about referential actions also name the foreign key
//! (child table and columns → parent table) and the action, so that a refusal
//! reads as "cannot delete teams 1: RESTRICT on members(team_id) → teams:
//! members 7 references it". When the refused row is not one the caller
//! named, the refusal opens with the row the caller named and the cascade
//! that reached it: "cannot delete Artist 1 (it cascades to Album 1, then
//! Track 1): RESTRICT on InvoiceLine(TrackId) → Track: InvoiceLine 579
//! references Track 1".

use std::fmt;
use std::sync::Arc;

use crate::model::job::JobId;
use crate::model::metadata::{Action, Name};
use crate::model::serde_value::ConversionError;
use crate::model::value::{Key, Value, ValueType, display_key};

/// What the refused operation was doing to the row an error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Inserting a row.
    Insert,
    /// Updating a row (its key, or other columns).
    Update,
    /// Deleting a row.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        })
    }
}

/// How an operation changes a row that a [policy](crate::Policy) is asked
/// about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RowChange {
    /// The row is deleted: a root of a delete, or a row an ON DELETE CASCADE
    /// reaches (a soft cascade is checked as the delete it stands in for).
    Delete,
    /// The row is the one an update names.
    Update,
    /// An ON DELETE or ON UPDATE SET NULL sets the row's referencing columns
    /// to NULL.
    SetNull,
    /// An ON DELETE or ON UPDATE SET DEFAULT sets the row's referencing
    /// columns to their defaults.
    SetDefault,
    /// An ON UPDATE CASCADE rewrites the row's referencing columns to the
    /// parent's new key.
    KeyRewrite,
}

impl fmt::Display for RowChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RowChange::Delete => "delete",
            RowChange::Update => "update",
            RowChange::SetNull => "set null",
            RowChange::SetDefault => "set default",
            RowChange::KeyRewrite => "key rewrite",
        })
    }
}

/// A foreign key as messages name it: `members(team_id) → teams`, or
/// `members(team_slug) → teams(slug)` when it references a unique key rather
/// than the primary key. Errors hold it behind an `Arc` (shared with the
/// schema's graph, cheap to clone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyName {
    /// SQL name of the referencing (child) table.
    pub table: Name,
    /// SQL names of the referencing columns.
    pub columns: Vec<Name>,
    /// SQL name of the referenced (parent) table.
    pub referenced_table: Name,
    /// SQL names of the referenced columns.
    pub referenced_columns: Vec<Name>,
    /// Whether the referenced columns are the parent's primary key (then
    /// they are left out of the display).
    pub references_primary_key: bool,
    /// The constraint's name (`#[foreign_key(name = "...")]`), shown first
    /// when there is one: `fk_film_language film(language_id) → language`.
    pub constraint: Option<Name>,
}

impl fmt::Display for ForeignKeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(constraint) = &self.constraint {
            write!(f, "{constraint} ")?;
        }
        write!(
            f,
            "{}({}) → {}",
            self.table,
            self.columns.join(", "),
            self.referenced_table
        )?;
        if !self.references_primary_key {
            write!(f, "({})", self.referenced_columns.join(", "))?;
        }
        Ok(())
    }
}

/// A foreign key whose action the database runs itself, in a way the
/// schema does not say ([`Error::NativeActions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeConflict {
    /// The foreign key.
    pub foreign_key: ForeignKeyName,
    /// `Delete` (`ON DELETE`) or `Update` (`ON UPDATE`).
    pub event: Operation,
    /// The action the database declares.
    pub database: crate::model::metadata::Action,
    /// The action the schema declares; `None` when the schema does not
    /// declare the key at all.
    pub schema: Option<crate::model::metadata::Action>,
    /// Whether the schema marks the key `native` (the database must then
    /// declare the schema's actions).
    pub native: bool,
}

impl fmt::Display for NativeConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = match self.event {
            Operation::Update => "ON UPDATE",
            _ => "ON DELETE",
        };
        match self.schema {
            None => write!(
                f,
                "{} has {event} {} in the database and is not in the schema",
                self.foreign_key, self.database
            ),
            Some(schema) if self.native => write!(
                f,
                "{} is `native` with {event} {schema} in the schema, but the database declares {event} {}",
                self.foreign_key, self.database
            ),
            Some(schema) => write!(
                f,
                "{} has {event} {} in the database, and {event} {schema} run by cascadia in the schema",
                self.foreign_key, self.database
            ),
        }
    }
}

/// One problem found while validating a schema: the table, the columns
/// concerned (possibly none) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    /// SQL name of the table the problem is in.
    pub table: Name,
    /// SQL names of the columns concerned, if any.
    pub columns: Vec<Name>,
    /// What is wrong, and how to fix it where that is not obvious.
    pub message: String,
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.columns.is_empty() {
            write!(f, "table `{}`: {}", self.table, self.message)
        } else {
            write!(
                f,
                "table `{}` ({}): {}",
                self.table,
                self.columns.join(", "),
                self.message
            )
        }
    }
}

/// A row that cascadia is deleting, as [`Error::ParentBeingDeleted`] names
/// it: the referenced parent itself, or a row it depends on through ON
/// DELETE CASCADE foreign keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeingDeleted {
    /// SQL name of the row's table.
    pub table: Name,
    /// Primary-key values of the row.
    pub key: Key,
    /// The delete job deleting it (it is one of the job's roots), if any.
    pub job: Option<JobId>,
    /// Its soft-delete time, in milliseconds since the Unix epoch, if it is
    /// soft-deleted.
    pub soft_deleted_at: Option<i64>,
}

impl fmt::Display for BeingDeleted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = format!("{} {}", self.table, display_key(&self.key));
        match (self.job, self.soft_deleted_at) {
            (Some(job), Some(at)) => write!(
                f,
                "{row} is soft-deleted (at {at} ms) and delete job {job} deletes it"
            ),
            (Some(job), None) => write!(f, "delete job {job} deletes {row}"),
            (None, Some(at)) => write!(f, "{row} is soft-deleted (at {at} ms)"),
            (None, None) => f.write_str(&row),
        }
    }
}

/// A row as messages name it: its table and primary key, `Album 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowRef {
    /// SQL name of the row's table.
    pub table: Name,
    /// Primary-key values of the row.
    pub key: Key,
}

impl fmt::Display for RowRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.table, display_key(&self.key))
    }
}

/// The rows through which a delete reached the row a refusal names, along
/// ON DELETE CASCADE foreign keys: first the row the caller named, then each
/// row its delete cascaded to, down to (without) the refused row. Derefs to
/// a slice of [`RowRef`]s; empty when the caller named the refused row.
/// (One pointer wide, so that [`Error`] stays small.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CascadePath(Option<Box<PathRows>>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct PathRows(Vec<RowRef>);

impl From<Vec<RowRef>> for CascadePath {
    fn from(rows: Vec<RowRef>) -> Self {
        if rows.is_empty() {
            CascadePath(None)
        } else {
            CascadePath(Some(Box::new(PathRows(rows))))
        }
    }
}

impl std::ops::Deref for CascadePath {
    type Target = [RowRef];

    fn deref(&self) -> &[RowRef] {
        self.0.as_deref().map_or(&[], |rows| &rows.0)
    }
}

/// Most rows of a cascade path a message shows; longer paths are elided in
/// the middle.
const PATH_SHOWN: usize = 4;

/// The row a refusal is about, as its message opens: `Track 1` when the
/// caller named it, else the row the caller named and the cascade that
/// reached it, `Artist 1 (it cascades to Album 1, then Track 1)`.
fn refused_row(table: &Name, key: &Key, via: &[RowRef]) -> String {
    let row = format!("{table} {}", display_key(key));
    let Some((root, hops)) = via.split_first() else {
        return row;
    };
    let mut shown: Vec<String> = if hops.len() <= PATH_SHOWN {
        hops.iter().map(ToString::to_string).collect()
    } else {
        let mut shown = vec![hops[0].to_string()];
        shown.push(format!("{} more", hops.len() - PATH_SHOWN + 1));
        shown.extend(
            hops[hops.len() - PATH_SHOWN + 2..]
                .iter()
                .map(ToString::to_string),
        );
        shown
    };
    shown.push(row);
    format!("{root} (it cascades to {})", shown.join(", then "))
}

/// How a refusal's message names its row after the first mention: `it`
/// when the caller named the row, else the row itself.
fn refused_again(table: &Name, key: &Key, via: &[RowRef]) -> String {
    if via.is_empty() {
        "it".to_owned()
    } else {
        format!("{table} {}", display_key(key))
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Everything that can go wrong in cascadia's runtime.
///
/// Variants about rows name the table and the key (primary-key values) of the
/// row; variants about referential actions also name the foreign key and the
/// action. When an operation returns an error, it has changed nothing: its
/// writes are rolled back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema breaks one or more of the rules that `#[derive(Table)]`
    /// checks at compile time (returned by [`Schema::new`](crate::Schema::new)
    /// and by stores opened over an unchecked schema). Lists every problem.
    #[error("invalid schema: {}", list(problems))]
    InvalidSchema {
        /// Every problem found, each naming its table and columns.
        problems: Vec<SchemaProblem>,
    },

    /// A table name that the schema does not hold.
    #[error("no table `{table}` in the schema")]
    UnknownTable {
        /// The name asked for.
        table: String,
    },

    /// An [`IndexRange`](crate::IndexRange) that cannot be executed: unknown
    /// index, too many prefix values, a range where the index has no column
    /// left, or `Unindexed`.
    #[error("invalid index range on `{table}`: {reason}")]
    InvalidRange {
        /// SQL name of the table.
        table: Name,
        /// What is wrong with the range.
        reason: String,
    },

    /// A row with the wrong number of values for its table.
    #[error("a row of `{table}` needs {expected} values (one per column), got {found}")]
    RowShape {
        /// SQL name of the table.
        table: Name,
        /// Number of columns of the table.
        expected: usize,
        /// Number of values given.
        found: usize,
    },

    /// A key with the wrong number of values for the key it is used as.
    #[error("a key of `{table}` needs {expected} values, got {found}")]
    KeyShape {
        /// SQL name of the table.
        table: Name,
        /// Number of key columns.
        expected: usize,
        /// Number of values given.
        found: usize,
    },

    /// A value of the wrong storage class for its column.
    #[error("column `{table}.{column}` holds {expected:?} values, got {value}")]
    TypeMismatch {
        /// SQL name of the table.
        table: Name,
        /// SQL name of the column.
        column: Name,
        /// The column's storage class.
        expected: ValueType,
        /// The value given.
        value: Value,
    },

    /// NULL given for a column that is not nullable.
    #[error("column `{table}.{column}` is not nullable, got NULL")]
    NotNull {
        /// SQL name of the table.
        table: Name,
        /// SQL name of the column.
        column: Name,
    },

    /// The row to update does not exist.
    #[error("{table} {} not found", display_key(key))]
    NotFound {
        /// SQL name of the table.
        table: Name,
        /// Primary-key values asked for.
        key: Key,
    },

    /// A write would give two rows the same primary or unique key (SQLite's
    /// "UNIQUE constraint failed"). NULLs never collide, as in SQL.
    #[error(
        "cannot {operation} {table} {}: UNIQUE key {table}({}) = {} already exists",
        display_key(key),
        columns.join(", "),
        display_key(values)
    )]
    Duplicate {
        /// What was being done to the row.
        operation: Operation,
        /// SQL name of the table.
        table: Name,
        /// Primary-key values of the row being written.
        key: Key,
        /// SQL names of the unique key's columns.
        columns: Vec<Name>,
        /// The key's values that already exist.
        values: Key,
    },

    /// A written row references a parent row that does not exist (SQLite's
    /// "FOREIGN KEY constraint failed" on INSERT or UPDATE of the child).
    #[error(
        "cannot {operation} {table} {}: {foreign_key} has no {} row with {}",
        display_key(key),
        foreign_key.referenced_table,
        display_key(parent_key)
    )]
    MissingParent {
        /// What was being done to the child row.
        operation: Operation,
        /// SQL name of the child table.
        table: Name,
        /// Primary-key values of the child row.
        key: Key,
        /// The foreign key.
        foreign_key: Arc<ForeignKeyName>,
        /// The referenced values that no parent row has.
        parent_key: Key,
    },

    /// `RESTRICT`: a row references, through a RESTRICT foreign key, a row the
    /// operation deletes or whose referenced key it changes. Decided on the
    /// state before the operation.
    #[error(
        "cannot {operation} {}: RESTRICT on {foreign_key}: {} {} references {}",
        refused_row(table, key, via),
        foreign_key.table,
        display_key(child_key),
        refused_again(table, key, via)
    )]
    Restricted {
        /// Deleting or updating the parent row.
        operation: Operation,
        /// SQL name of the parent table.
        table: Name,
        /// Primary-key values of the parent row.
        key: Key,
        /// The RESTRICT foreign key.
        foreign_key: Arc<ForeignKeyName>,
        /// Primary-key values of the referencing row.
        child_key: Key,
        /// The rows through which the operation reached the parent row,
        /// along ON DELETE CASCADE foreign keys: first the row the caller
        /// named, then each row its delete cascaded to, down to (without)
        /// the parent row. Empty when the caller named the parent row, and
        /// when a batch met the refusal after the check pass (a referencing
        /// row written while the delete ran).
        via: CascadePath,
    },

    /// A row still references a deleted or changed key once every action has
    /// run (`NO ACTION`, SQL's end-of-statement check; also reported for a
    /// key that an action leaves referenced).
    #[error(
        "cannot {operation} {}: {action} on {foreign_key}: {} {} still references {}",
        refused_row(table, key, via),
        foreign_key.table,
        display_key(child_key),
        refused_again(table, key, via)
    )]
    StillReferenced {
        /// Deleting or updating the parent row.
        operation: Operation,
        /// SQL name of the parent table.
        table: Name,
        /// Primary-key values of the parent row.
        key: Key,
        /// The foreign key.
        foreign_key: Arc<ForeignKeyName>,
        /// The foreign key's action for this operation.
        action: Action,
        /// Primary-key values of the referencing row.
        child_key: Key,
        /// The rows through which the operation reached the parent row,
        /// along ON DELETE CASCADE foreign keys: first the row the caller
        /// named, then each row its delete cascaded to, down to (without)
        /// the parent row. Empty when the caller named the parent row, and
        /// when a batch met the refusal after the check pass (a referencing
        /// row written while the delete ran).
        via: CascadePath,
    },

    /// `SET DEFAULT` would make a row reference a key that no parent row has
    /// once the operation is done (the default parent is missing, or this same
    /// operation deletes it).
    #[error(
        "cannot {operation} {}: SET DEFAULT on {foreign_key}: {} {} would reference {} {}, which {}",
        refused_row(table, key, via),
        foreign_key.table,
        display_key(child_key),
        foreign_key.referenced_table,
        display_key(default_key),
        if *deleted { "this operation deletes" } else { "does not exist" }
    )]
    MissingDefault {
        /// Deleting or updating the parent row.
        operation: Operation,
        /// SQL name of the parent table.
        table: Name,
        /// Primary-key values of the parent row.
        key: Key,
        /// The SET DEFAULT foreign key.
        foreign_key: Arc<ForeignKeyName>,
        /// Primary-key values of the referencing row.
        child_key: Key,
        /// The default values of the referencing columns.
        default_key: Key,
        /// Whether the default parent exists but this operation deletes it.
        deleted: bool,
        /// The rows through which the operation reached the parent row,
        /// along ON DELETE CASCADE foreign keys: first the row the caller
        /// named, then each row its delete cascaded to, down to (without)
        /// the parent row. Empty when the caller named the parent row, and
        /// when a batch met the refusal after the check pass (a referencing
        /// row written while the delete ran).
        via: CascadePath,
    },

    /// A [policy](crate::Policy) registered on the table refused a row the
    /// operation would change. Decided before anything is written (the check
    /// pass of a delete; a key update, which is one transaction, is rolled
    /// back).
    #[error(
        "cannot {operation} {}: policy `{policy}` refuses the {change} of {}{}: {reason}",
        refused_row(table, key, via),
        refused_again(table, key, via),
        foreign_key.as_ref().map(|fk| format!(" (through {fk})")).unwrap_or_default()
    )]
    PolicyDenied {
        /// What the caller was doing (deleting or updating its rows).
        operation: Operation,
        /// SQL name of the table of the refused row.
        table: Name,
        /// Primary-key values of the refused row.
        key: Key,
        /// How the operation would change the row.
        change: RowChange,
        /// The foreign key whose action reaches the row (`None` for the rows
        /// the caller named).
        foreign_key: Option<Arc<ForeignKeyName>>,
        /// The name the policy was registered under.
        policy: Name,
        /// The policy's reason.
        reason: String,
        /// The rows through which the operation reached the refused row: first
        /// the row the caller named, then each row its cascade went through,
        /// down to (without) the refused row. Empty when the caller named it.
        via: CascadePath,
    },

    /// The operation would write more rows than its `max_rows` allows;
    /// counted before anything was written.
    #[error(
        "cannot {operation} {table} {}: it would write more than {limit} rows (max_rows)",
        display_key(key)
    )]
    TooManyRows {
        /// The operation.
        operation: Operation,
        /// SQL name of the table of the (first) root row.
        table: Name,
        /// Primary-key values of the (first) root row.
        key: Key,
        /// The `max_rows` limit.
        limit: u64,
    },

    /// A row references, through `foreign_key`, a parent that cascadia is
    /// deleting: the parent — or a row it depends on through ON DELETE
    /// CASCADE foreign keys — is soft-deleted, or is a root of an active
    /// delete job. Refused so that a batched delete never races a new child.
    #[error(
        "cannot {operation} {table} {}: {foreign_key} references {} {}, which is being deleted: {deleting}",
        display_key(key),
        foreign_key.referenced_table,
        display_key(parent_key)
    )]
    ParentBeingDeleted {
        /// Inserting or updating the child row.
        operation: Operation,
        /// SQL name of the child table.
        table: Name,
        /// Primary-key values of the child row.
        key: Key,
        /// The foreign key.
        foreign_key: Arc<ForeignKeyName>,
        /// The referenced values.
        parent_key: Key,
        /// The row being deleted, and by what.
        deleting: Box<BeingDeleted>,
    },

    /// A soft or scheduled delete, or a restore, of a table without a
    /// `#[soft_delete]` column.
    #[error("table `{table}` has no #[soft_delete] column: soft and scheduled deletes need one")]
    NoSoftDelete {
        /// SQL name of the table.
        table: Name,
    },

    /// A new batched delete while `cap` delete jobs are active and none of
    /// them deletes rows of the same table to take the new roots. Nothing
    /// was written.
    #[error(
        "cannot start a delete of `{table}`: {cap} delete jobs are pending and none deletes from `{table}`; run a Worker or raise the cap (Database::with_max_pending_jobs)"
    )]
    TooManyJobs {
        /// SQL name of the table of the new delete's roots.
        table: Name,
        /// The pending-job cap.
        cap: usize,
    },

    /// No job with this id.
    #[error("no delete job {job}")]
    UnknownJob {
        /// The id asked for.
        job: JobId,
    },

    /// An operation that needs a stopped job (forget) on an active one.
    #[error("delete job {job} is still active; cancel it first")]
    JobActive {
        /// The job.
        job: JobId,
    },

    /// A batched delete whose job was cancelled before it finished (a root
    /// of a scheduled delete restored, [`Database::cancel_job`](crate::Database::cancel_job)).
    /// The batches committed before stay committed; no orphan was left.
    #[error("delete job {job} was cancelled: {reason}")]
    JobCancelled {
        /// The job.
        job: JobId,
        /// Why.
        reason: String,
    },

    /// A job that had already failed (its status, when it is run again
    /// without [`Database::retry_job`](crate::Database::retry_job)).
    #[error("delete job {job} failed: {error}")]
    JobFailed {
        /// The job.
        job: JobId,
        /// The refusal that stopped it.
        error: String,
    },

    /// An existing database does not match the schema (found when a store
    /// is opened): every missing table, column or index is listed.
    #[error("the database does not match the schema: {}", missing.join("; "))]
    SchemaMismatch {
        /// One entry per missing item, e.g. "missing column `members.team_id`".
        missing: Vec<String>,
    },

    /// An existing database runs a foreign key's action itself while the
    /// schema has cascadia run it (or declares other actions than the
    /// schema's `native` key): both would act, and cascadia's counts — or
    /// its rows — would be wrong. Found when a store is opened; nothing was
    /// changed. Each conflict names the key, the event, the database's
    /// action and the schema's.
    #[error(
        "the database runs foreign-key actions of its own: {}; fix either side: drop the database's action (SQLite: rebuild the table without it — create the new table, copy the rows, drop the old, rename; PostgreSQL: drop the constraint and add it again without the action), or mark the key `#[foreign_key(..., native)]` (ForeignKeyMeta::native) with the database's actions, so that the database runs them and cascadia only counts",
        conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    NativeActions {
        /// One entry per (key, event) on which the two disagree.
        conflicts: Vec<NativeConflict>,
    },

    /// A write in a transaction opened for reading.
    #[error("cannot write in a read-only transaction")]
    ReadOnly,

    /// A transaction was opened on a store while this thread already holds
    /// one on the same store (it would wait for itself forever).
    #[error(
        "a transaction on this store is already open on this thread; use it instead of opening another"
    )]
    NestedTransaction,

    /// A savepoint was released or rolled back without one being open.
    #[error("no savepoint is open")]
    NoSavepoint,

    /// A typed row or key that does not convert to or from column values.
    #[error(transparent)]
    Conversion(#[from] ConversionError),

    /// No index serves a dynamic filter through a legal prefix, and the
    /// caller did not allow a full scan (see [`planner`](crate::model::planner)).
    #[error(transparent)]
    NoIndexServes(#[from] crate::model::planner::NoIndexServes),

    /// Job state that does not serialise or deserialise.
    #[error("job state: {0}")]
    JobState(#[source] serde_json::Error),

    /// An error from the storage backend: I/O, a lock held too long, a lost
    /// connection, or a constraint the database enforces itself as a safety
    /// net under cascadia's checks. `source` is the backend's own error
    /// (`rusqlite::Error` for SQLite), for callers that need its details.
    #[error("{backend}: {source}")]
    Store {
        /// The backend's short name (`"sqlite"`, `"postgres"`, `"memory"`).
        backend: &'static str,
        /// What kind of failure it is, as far as the backend can tell.
        kind: StoreErrorKind,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// What kind of backend failure an [`Error::Store`] is: decides whether a
/// batched delete's job stays to be resumed (every kind but `Constraint`)
/// or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// A lock or a resource was busy; trying again later may succeed.
    Busy,
    /// The connection to the database was lost or could not be made.
    Connection,
    /// The database refused a write by a constraint of its own (a foreign
    /// key or unique key it enforces).
    Constraint,
    /// The database file or the data is not what the store expects (not a
    /// database, corrupt, a value of an unexpected type).
    Data,
    /// Anything else (I/O errors included).
    Other,
}

impl Error {
    /// An [`Error::Store`] from `backend` of kind `kind`.
    pub fn store(
        backend: &'static str,
        kind: StoreErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Store {
            backend,
            kind,
            source: source.into(),
        }
    }

    /// Whether the error leaves the operation to be tried again (a backend
    /// failure other than a constraint), rather than being a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Store { kind, .. } => *kind != StoreErrorKind::Constraint,
            Error::NestedTransaction | Error::JobState(_) => true,
            _ => false,
        }
    }
}

impl Error {
    /// Whether the error is a refusal by a foreign key (RESTRICT, NO ACTION,
    /// SET DEFAULT without a parent, a missing parent on insert or update):
    /// what SQLite reports as "FOREIGN KEY constraint failed".
    pub fn is_foreign_key(&self) -> bool {
        matches!(
            self,
            Error::MissingParent { .. }
                | Error::Restricted { .. }
                | Error::StillReferenced { .. }
                | Error::MissingDefault { .. }
                | Error::ParentBeingDeleted { .. }
        )
    }

    /// Whether the error is a unique-key collision (SQLite's "UNIQUE
    /// constraint failed").
    pub fn is_unique(&self) -> bool {
        matches!(self, Error::Duplicate { .. })
    }
}

/// `Result` with cascadia's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: &'static str, key: i64) -> RowRef {
        RowRef {
            table: table.into(),
            key: vec![Value::Integer(key)],
        }
    }

    #[test]
    fn a_refused_row_is_named_with_the_cascade_that_reached_it() {
        let table: Name = "Track".into();
        let key = vec![Value::Integer(1)];
        assert_eq!(refused_row(&table, &key, &[]), "Track 1");
        assert_eq!(refused_again(&table, &key, &[]), "it");
        let via = [row("Artist", 1), row("Album", 1)];
        assert_eq!(
            refused_row(&table, &key, &via),
            "Artist 1 (it cascades to Album 1, then Track 1)"
        );
        assert_eq!(refused_again(&table, &key, &via), "Track 1");
    }

    #[test]
    fn a_long_cascade_path_is_elided_in_the_middle() {
        let via: Vec<RowRef> = (1..=10).map(|id| row("employees", id)).collect();
        let table: Name = "employees".into();
        assert_eq!(
            refused_row(&table, &vec![Value::Integer(11)], &via),
            "employees 1 (it cascades to employees 2, then 6 more, then employees 9, \
             then employees 10, then employees 11)"
        );
    }
}
