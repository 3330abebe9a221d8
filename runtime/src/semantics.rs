//! How cascadia runs referential actions: the rules, their source, and the
//! one place where cascadia deliberately differs from SQLite.
//!
//! The source is SQL's referential actions as SQLite implements them
//! (<https://sqlite.org/foreignkeys.html>, section 4.3 "ON DELETE and ON
//! UPDATE Actions"); SQLite with `PRAGMA foreign_keys=ON` is the oracle of
//! cascadia's conformance and differential tests. One operation (a delete of
//! one or many rows of a table, or an update of one or many rows) behaves as
//! one SQL statement:
//!
//! - **CASCADE**: deleting a parent deletes its referencing rows; changing a
//!   referenced key copies the new values into them. **SET NULL** sets all
//!   the foreign key's columns to NULL; **SET DEFAULT** sets them to their
//!   defaults, evaluating a computed default once per row. Rows written by an
//!   action fire their own actions in turn (SET NULL on a column that is part
//!   of a referenced key is a key change).
//! - **MATCH SIMPLE**: a child key with a NULL column references nothing —
//!   it is neither checked nor acted on — and a parent key with a NULL column
//!   is referenced by nothing.
//! - **ON UPDATE** fires only when a referenced value really changes (by
//!   value: `1` and `1.0` are equal, as in SQLite).
//! - **Each row once**: a row reached along two paths (a diamond) is deleted
//!   once; self-references and cycles terminate.
//! - **NO ACTION** is SQL's end-of-statement check: the operation is refused
//!   if, once every action has run, a row still references a deleted or
//!   changed key. A NO ACTION child of a deleted row is therefore fine when
//!   the same operation deletes it through a cascade path.
//! - **RESTRICT** is decided on the state *before* the operation (cascadia's
//!   rule, independent of the order actions run in): a row referencing,
//!   through a RESTRICT foreign key, a row the operation deletes (or whose
//!   referenced key it changes) refuses the operation — even if that
//!   referencing row would be deleted through another path. A row
//!   referencing itself does not restrict its own deletion (as in SQLite).
//!   SQLite fires actions in an order (most recently declared child first),
//!   so its result when RESTRICT is reached through a diamond depends on
//!   declaration order; cascadia's does not.
//! - **SET DEFAULT** is refused when no row has the default key once the
//!   operation is done — including when this same operation deletes it. A
//!   default key with a NULL column references nothing and needs no parent.
//! - **Unique keys**: a CASCADE, SET NULL or SET DEFAULT that makes two rows
//!   share a primary or unique key is refused, as SQLite's UNIQUE constraint.
//! - **Atomic**: on any refusal nothing changes, and the error names the
//!   foreign key (child table and columns → parent table), the row's key and
//!   the action.
//!
//! # Differences from SQLite
//!
//! - RESTRICT is decided on the state before the operation (above).
//! - No recursion limit: SQLite stops at 1,000 levels of trigger recursion;
//!   cascadia's explicit stack deletes a chain of any length.
//! - No deferred constraints (`DEFERRABLE INITIALLY DEFERRED`): every
//!   operation is checked when it ends, as an immediate constraint.
//! - `set_null` on a non-nullable column and `set_default` on a column with
//!   no declared default are refused by the schema (compile-time checks C6,
//!   C7; [`Schema::new`](crate::Schema::new) at run time) rather than when a
//!   row is deleted. SQLite's implicit default is NULL: declare
//!   `default = None` for that behaviour.
//! - Values are strictly typed: a value must have its column's storage class
//!   (an integer stored in a REAL column becomes a real, as REAL affinity
//!   does); there is no other affinity conversion, and text compares by
//!   bytes (SQLite's BINARY collation).
//! - When an operation fails for two reasons at once (a SET DEFAULT to a key
//!   it deletes and a UNIQUE collision further on), cascadia may name a
//!   different one than SQLite: it decides the foreign-key refusals it can
//!   before writing anything.
//!
//! # Modes
//!
//! `sync` (this release): one transaction per operation. A delete is planned
//! first — a read-only walk of the rows it deletes that counts them, fails
//! fast past [`DeleteOptions::max_rows`](crate::DeleteOptions::max_rows)
//! before anything is written, and decides RESTRICT, NO ACTION and SET
//! DEFAULT — then executed bottom-up: a row is deleted only after every row
//! referencing it has been deleted, set to NULL or set to its default, from
//! an explicit stack whose memory is bounded by depth ×
//! [`batch_rows`](crate::DeleteOptions::batch_rows). Key updates run in the
//! same transaction, depth first. An end check then refuses the operation
//! if any row still references a key that no longer exists.
//!
//! # Conformance
//!
//! The conformance suite runs SQLite's printed results for the cases of
//! `shared/semantics/` on every backend, and a differential property test
//! compares thousands of random schemas, rows and operations with SQLite's
//! native actions (see the repository's `tests/`).
