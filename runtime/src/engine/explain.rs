//! `explain_delete`: what a delete would do, without doing it.
//!
//! The walk of the check pass ([`Walk`](crate::engine::execute::check::Walk)) in
//! counting mode: read-only, one read transaction per `rows_read` budget,
//! each row counted once (up to a row cap, past which the report says it is
//! truncated), and every foreign key that would refuse the delete reported
//! once, with the first row that refuses — rather than stopping at the
//! first.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::context::Ctx;
use crate::engine::execute::check::{Purpose, Walk};
use crate::engine::execute::delete::Progress;
use crate::engine::execute::roots::Start;
use crate::engine::policy::PolicyContext;
use crate::model::budget::Budget;
use crate::model::error::{Error, ForeignKeyName, RowChange};
use crate::model::graph::TableId;
use crate::model::metadata::{Action, Name};
use crate::model::planner::FullScan;
use crate::model::value::Key;
use crate::store::{Access, Store};

/// Options of [`Database::explain_delete_rows`](crate::Database::explain_delete_rows).
#[derive(Clone)]
#[non_exhaustive]
pub struct ExplainOptions {
    /// Most rows (deleted plus updated) to count (default 100,000). Memory
    /// grows with it (each counted row's key is kept, to count it once);
    /// past it the report is [`truncated`](Explain::truncated).
    pub max_rows: u64,
    /// Rows per frame of the walk (default 1,000).
    pub batch_rows: usize,
    /// Rows read per read transaction (default: the schema's budget's
    /// `rows_read`).
    pub rows_read: Option<u64>,
    /// For `explain_delete_*_where`: whether a filter no index serves may
    /// read the whole table (default [`FullScan::Refuse`]).
    pub full_scan: FullScan,
    /// The value row [policies](crate::Policy) see as the operation's
    /// context (default: the database's).
    pub context: Option<PolicyContext>,
}

impl std::fmt::Debug for ExplainOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExplainOptions")
            .field("max_rows", &self.max_rows)
            .field("batch_rows", &self.batch_rows)
            .field("rows_read", &self.rows_read)
            .field("full_scan", &self.full_scan)
            .field("context", &self.context.is_some())
            .finish()
    }
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            max_rows: 100_000,
            batch_rows: 1_000,
            rows_read: None,
            full_scan: FullScan::Refuse,
            context: None,
        }
    }
}

impl ExplainOptions {
    /// Sets [`max_rows`](Self::max_rows).
    pub fn max_rows(mut self, rows: u64) -> Self {
        self.max_rows = rows;
        self
    }

    /// Sets [`batch_rows`](Self::batch_rows) (at least 1).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Sets [`context`](Self::context): the value row policies see.
    pub fn context(mut self, context: impl std::any::Any + Send + Sync) -> Self {
        self.context = Some(Arc::new(context));
        self
    }
}

/// Rows of one table a delete would touch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableCounts {
    /// Rows it would delete.
    pub deleted: u64,
    /// Rows it would update (SET NULL / SET DEFAULT), each counted once.
    pub updated: u64,
}

/// A foreign key that would refuse the delete, with the first row found
/// that refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The foreign key.
    pub foreign_key: Arc<ForeignKeyName>,
    /// Its action on delete (RESTRICT, NO ACTION, or SET DEFAULT without a
    /// default parent).
    pub action: Action,
    /// SQL name of the table of the deleted row it refuses.
    pub table: Name,
    /// Primary key of that row.
    pub key: Key,
    /// Primary key of the referencing row that refuses.
    pub child_key: Key,
    /// The error the delete would fail with.
    pub message: String,
}

/// A row [policy](crate::Policy) that would refuse the delete: the first
/// row it refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyRefusal {
    /// SQL name of the refused row's table.
    pub table: Name,
    /// Primary key of the refused row.
    pub key: Key,
    /// How the delete would change it.
    pub change: RowChange,
    /// The name the policy was registered under.
    pub policy: Name,
    /// The policy's reason.
    pub reason: String,
    /// The error the delete would fail with.
    pub message: String,
}

/// What a delete would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explain {
    /// Per table (SQL name), rows it would delete and update; tables it
    /// does not touch are absent.
    pub tables: BTreeMap<Name, TableCounts>,
    /// Each foreign key that would refuse the delete, once.
    pub refusals: Vec<Refusal>,
    /// The first row a [policy](crate::Policy) would refuse, if any.
    pub denied: Option<PolicyRefusal>,
    /// Whether counting stopped at [`ExplainOptions::max_rows`]: the counts
    /// are lower bounds, and refusals further on were not looked for.
    pub truncated: bool,
    /// Whether a batched delete would run in one transaction (its SET NULL
    /// / SET DEFAULT actions change keys). The ON UPDATE refusals such a
    /// key change may meet are not predicted here.
    pub single_transaction: bool,
}

impl Explain {
    /// Rows it would delete, in every table.
    pub fn rows_deleted(&self) -> u64 {
        self.tables.values().map(|c| c.deleted).sum()
    }

    /// Rows it would update, in every table.
    pub fn rows_updated(&self) -> u64 {
        self.tables.values().map(|c| c.updated).sum()
    }

    /// Whether the delete would go through (no refusal found).
    pub fn would_succeed(&self) -> bool {
        self.refusals.is_empty() && self.denied.is_none()
    }
}

/// Explains the delete of the rows of table `id` that `roots` names.
pub(crate) fn explain(
    store: &dyn Store,
    ctx: Ctx<'_>,
    id: TableId,
    roots: Start,
    options: &ExplainOptions,
) -> Result<Explain, Error> {
    let rows_read = options
        .rows_read
        .or(store.schema().budget().rows_read)
        .or(Budget::DEFAULT.rows_read);
    let mut walk = Walk::new(
        ctx,
        Purpose::Explain,
        id,
        roots,
        options.batch_rows,
        Some(options.max_rows),
    );
    loop {
        let mut tx = store.begin(Access::Read)?;
        let mut usage = crate::engine::execute::Usage::default();
        let budget = Budget {
            rows_read,
            ..Budget::UNLIMITED
        };
        let progress = walk.run(ctx, &mut *tx, &budget, &mut usage)?;
        drop(tx);
        if progress == Progress::Done {
            break;
        }
    }
    let mut tables = BTreeMap::new();
    for t in 0..ctx.graph.tables.len() {
        let (deleted, updated) = (walk.deletes[t], walk.updates[t]);
        if deleted > 0 || updated > 0 {
            tables.insert(ctx.meta(t).name.clone(), TableCounts { deleted, updated });
        }
    }
    // Each refusal's message names the cascade that reached its row.
    let mut tx = store.begin(Access::Read)?;
    let found: Vec<_> = walk.refusals.drain(..).collect();
    let refusals = found
        .into_iter()
        .map(|(f, error)| {
            let error = walk.with_cascade_path(ctx, &mut *tx, error);
            let fk = ctx.fk(f);
            let message = error.to_string();
            let (table, key, child_key) = match error {
                Error::Restricted {
                    table,
                    key,
                    child_key,
                    ..
                }
                | Error::StillReferenced {
                    table,
                    key,
                    child_key,
                    ..
                }
                | Error::MissingDefault {
                    table,
                    key,
                    child_key,
                    ..
                } => (table, key, child_key),
                _ => (ctx.meta(fk.parent).name.clone(), Key::new(), Key::new()),
            };
            Refusal {
                foreign_key: fk.name.clone(),
                action: fk.on_delete,
                table,
                key,
                child_key,
                message,
            }
        })
        .collect();
    let denied =
        walk.denied
            .take()
            .and_then(|error| match walk.with_cascade_path(ctx, &mut *tx, error) {
                error @ Error::PolicyDenied { .. } => {
                    let message = error.to_string();
                    let Error::PolicyDenied {
                        table,
                        key,
                        change,
                        policy,
                        reason,
                        ..
                    } = error
                    else {
                        return None;
                    };
                    Some(PolicyRefusal {
                        table,
                        key,
                        change,
                        policy,
                        reason,
                        message,
                    })
                }
                _ => None,
            });
    let reachable = ctx.graph.cascade_reachable(id);
    Ok(Explain {
        tables,
        refusals,
        denied,
        truncated: walk.truncated,
        single_transaction: ctx.graph.delete_changes_keys(&reachable),
    })
}
