//! How cascadia runs referential actions: the rules, their source, the
//! one place where cascadia deliberately differs from SQLite, and where
//! PostgreSQL differs from both.
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
//! # Differences from PostgreSQL
//!
//! PostgreSQL 15 is the second oracle (the PostgreSQL store's conformance
//! and differential tests). Where it and SQLite part, cascadia keeps the
//! rules above, SQLite's; the differences, each tested (the conformance
//! test `conformance_postgres.rs` lists the cases, the differential test
//! `differential_postgres.rs` counts them):
//!
//! - **NO ACTION timing.** PostgreSQL checks an immediate (not deferred)
//!   NO ACTION key when that key's trigger fires, in creation order, which
//!   may come before another action of the same statement removed the
//!   referencing row (a NO ACTION key reached through a cascade diamond):
//!   its answer then depends on the order the keys were created in.
//!   cascadia checks once every action has run — SQLite's timing, and
//!   PostgreSQL's own result when the key is deferred to `COMMIT` (the
//!   differential test re-runs such cases deferred and compares).
//! - **RESTRICT timing.** PostgreSQL checks RESTRICT when the row's trigger
//!   fires, on the state at that moment: it accepts a statement that
//!   deletes a restricting row together with its parent, or whose cascade
//!   removed the restricting row first. cascadia refuses both (the state
//!   before the operation), as SQLite does in some orders and not others.
//! - **SET DEFAULT whose default is the deleted key.** PostgreSQL re-checks
//!   the key at once (not deferred) after its SET DEFAULT wrote the same
//!   value back, and refuses as the parent's delete ("update or delete on
//!   table ..."): also when a cascade of the same statement would remove
//!   the row the default went to, where cascadia and SQLite, checking once
//!   every action has run, succeed. When the row stays, all three refuse
//!   and change nothing; cascadia words it as SQLite's child-side failure,
//!   [`Error::MissingDefault`](crate::Error::MissingDefault) ("... which
//!   this operation deletes"). With the default parent missing altogether,
//!   all three refuse the same way.
//! - Not in cascadia (PostgreSQL only): column lists on `SET NULL (col)` /
//!   `SET DEFAULT (col)`, `MATCH FULL`, deferred constraints, triggers,
//!   nondeterministic (case-insensitive) collations — cascadia's keys are
//!   equal only when their bytes are.
//!
//! # Modes
//!
//! A delete runs in one of four modes
//! ([`DeleteMode`](crate::DeleteMode)); key updates always run in one
//! transaction.
//!
//! - **`batched`** (the default). Without concurrent writers it gives
//!   exactly `sync`'s result — the same rows, the same counts, the same
//!   refusals, refused before anything is written (a differential test holds
//!   it to `sync` batch by batch). How:
//!   - a **check pass** decides RESTRICT, NO ACTION, SET DEFAULT and
//!     `max_rows` with `sync`'s rules, on the state before the delete,
//!     read-only, one read transaction per `rows_read` budget, in memory
//!     bounded by depth × [`batch_rows`](crate::DeleteOptions::batch_rows):
//!     whether the delete removes a row is answered by an upward search
//!     through its CASCADE foreign keys to a root (or a row on the stack),
//!     not by a set of the rows it removes;
//!   - a **bottom-up pass** then deletes, one transaction per
//!     [`Budget`](crate::Budget): a row is deleted only after every row
//!     referencing it was deleted, set to NULL or set to its default, so no
//!     committed state ever holds an orphan. The job's position is written
//!     in the same transaction as each batch; a crash loses nothing, and a
//!     [`Worker`](crate::Worker) resumes. Each batch ends with a check that
//!     nothing references a row it deleted;
//!   - two foreign keys sharing a column: a NO ACTION row that the delete
//!     frees by a SET NULL / SET DEFAULT on the shared column is updated
//!     before its NO ACTION parent goes.
//!
//!   Exceptions, where one transaction holds more: a delete whose SET NULL /
//!   SET DEFAULT writes a primary or unique key column is a key update (ON
//!   UPDATE actions, unique checks) and runs in one transaction, planned as
//!   `sync`; rows on a data cycle (rows referencing each other through
//!   foreign keys) are deleted in one transaction whatever the budget.
//!
//!   With concurrent writers: a child inserted under a row being deleted
//!   through cascadia is refused
//!   ([`Error::ParentBeingDeleted`](crate::Error::ParentBeingDeleted));
//!   one written behind cascadia's back between batches is found by the
//!   end check of the batch that deletes its parent. Through CASCADE, SET
//!   NULL or SET DEFAULT the job rescans and deletes or updates it too; a
//!   RESTRICT row, or a NO ACTION row the delete does not remove, stops
//!   the job as failed, with that error — its batch rolled back, the
//!   batches before it committed, no orphan anywhere.
//!
//!   Inside a caller's transaction ([`Tx`](crate::Tx)) a batched delete
//!   runs as `sync`: a transaction cannot be split.
//! - **`sync`**: one transaction. A delete is planned first — a read-only
//!   walk of the rows it deletes that counts them, fails fast past
//!   [`DeleteOptions::max_rows`](crate::DeleteOptions::max_rows) before
//!   anything is written, and decides RESTRICT, NO ACTION and SET DEFAULT —
//!   then executed bottom-up by the same executor with no budget. Key
//!   updates run in the same way, depth first; with
//!   [`UpdateOptions::max_rows`](crate::UpdateOptions::max_rows) they are
//!   counted first too, read-only. An end check then refuses
//!   the operation if any row still references a key that no longer exists.
//! - **`soft`**: sets the root's `#[soft_delete]` column (milliseconds
//!   since the Unix epoch); nothing else changes and no action runs.
//! - **`scheduled(delay)`**: soft now, and a job that deletes the roots in
//!   batched mode once the delay is over — only while their deletion time
//!   still matches: restoring a root cancels the job before its next batch.
//!
//! A row that is soft-deleted, or a root of an active delete job, is "being
//! deleted", and so is every row a chain of CASCADE foreign keys leads from
//! to it: inserting a row that references one, or changing a row's foreign
//! key to reference one, is refused.
//!
//! # Conformance
//!
//! The conformance suite runs SQLite's printed results for the cases of
//! `shared/semantics/` on every backend, and PostgreSQL's printed results
//! on the PostgreSQL store; differential property tests compare thousands
//! of random schemas, rows and operations with SQLite's and PostgreSQL's
//! native actions (see the repository's `tests/`).
