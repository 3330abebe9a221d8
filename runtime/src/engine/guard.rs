//! Refusing a child under a parent that cascadia is deleting.
//!
//! A row being written (inserted, or updated with a changed foreign key) may
//! not reference a parent that is soft-deleted, or that a delete job is
//! removing. "Being deleted" is decided by an upward search from the parent
//! through ON DELETE CASCADE foreign keys (the same rule as a batched
//! delete's membership, [`Upward`](crate::engine::execute::membership::Upward)): the
//! parent or a CASCADE ancestor is soft-deleted, or is a root of an active
//! job (a scheduled job's root only while it still carries the job's
//! deletion time). A job's rows that are already gone are never reached: a
//! row is deleted only after every row referencing it.
//!
//! Cost: one listing of the active jobs (their ids and generations, no
//! state) per written row with a foreign key; the active jobs' roots are
//! cached per [`Database`] and reloaded when that list changes. The search
//! itself only runs when a soft-delete column or an active job's table lies
//! above the parent.
//!
//! [`Database`]: crate::Database

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::engine::context::Ctx;
use crate::engine::execute::delete::SoftCheck;
use crate::engine::execute::roots::RootQuery;
use crate::engine::jobs::{self, JobId};
use crate::model::error::{BeingDeleted, Error, Operation};
use crate::model::graph::{FkId, TableId, has_null};
use crate::model::metadata::Action;
use crate::model::value::{Key, Value};
use crate::store::Transaction;

/// A root of an active job.
#[derive(Debug, Clone, Copy)]
struct ActiveRoot {
    job: JobId,
    soft: Option<SoftCheck>,
}

/// The active jobs' roots, for one list of active jobs.
#[derive(Debug, Default)]
struct Cache {
    /// The active jobs (id, generation) the roots were read for.
    jobs: Vec<(JobId, u64)>,
    roots: HashMap<(TableId, Key), ActiveRoot>,
    /// The active jobs whose roots are the rows matching a condition.
    queries: Vec<(TableId, RootQuery, JobId)>,
    /// Tables from which an upward search can meet a soft-delete column or
    /// an active job's root.
    relevant: Vec<bool>,
}

/// The per-database guard (its cache).
#[derive(Debug, Default)]
pub(crate) struct Guard {
    cache: Mutex<Option<Cache>>,
}

impl Guard {
    fn rebuild(
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        active: Vec<(JobId, u64)>,
    ) -> Result<Cache, Error> {
        let mut roots = HashMap::new();
        let mut queries = Vec::new();
        let mut interesting: HashSet<TableId> = (0..ctx.graph.tables.len())
            .filter(|&t| ctx.graph.tables[t].soft_delete.is_some())
            .collect();
        for &(id, _) in &active {
            let Some(state) = jobs::read_state(tx, id)? else {
                continue;
            };
            let Some(table) = ctx.graph.table_id(state.stack.root_table()) else {
                continue;
            };
            interesting.insert(table);
            let root = ActiveRoot {
                job: id,
                soft: state.stack.soft_check(),
            };
            match state.stack.root_query() {
                Some(query) => queries.push((table, query, id)),
                None => {
                    for key in jobs::read_roots(tx, &state)? {
                        roots.insert((table, key), root);
                    }
                }
            }
        }
        let mut relevant: Vec<bool> = (0..ctx.graph.tables.len())
            .map(|t| interesting.contains(&t))
            .collect();
        loop {
            let mut changed = false;
            for edge in &ctx.graph.fks {
                if edge.on_delete == Action::Cascade
                    && relevant[edge.parent]
                    && !relevant[edge.child]
                {
                    relevant[edge.child] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Ok(Cache {
            jobs: active,
            roots,
            queries,
            relevant,
        })
    }

    /// Whether any row may be being deleted: a job is active, or a table
    /// has a soft-delete column.
    pub(crate) fn may_refuse(&self, ctx: Ctx<'_>, tx: &mut dyn Transaction) -> Result<bool, Error> {
        Ok(ctx.graph.tables.iter().any(|t| t.soft_delete.is_some())
            || !jobs::active(tx)?.is_empty())
    }

    /// Refuses `row` (of `table`, key `key`) referencing `parent` through
    /// `fk` if the parent is being deleted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &self,
        ctx: Ctx<'_>,
        tx: &mut dyn Transaction,
        operation: Operation,
        table: TableId,
        key: &[Value],
        fk: FkId,
        parent: &[Value],
    ) -> Result<(), Error> {
        let edge = ctx.fk(fk);
        let any_soft = ctx.graph.tables.iter().any(|t| t.soft_delete.is_some());
        let active: Vec<(JobId, u64)> = jobs::active(tx)?
            .into_iter()
            .map(|row| (row.id, row.generation))
            .collect();
        if active.is_empty() && !any_soft {
            return Ok(());
        }
        let mut guard = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.as_ref().is_none_or(|c| c.jobs != active) {
            *guard = Some(Self::rebuild(ctx, tx, active)?);
        }
        let Some(cache) = guard.as_ref() else {
            return Ok(());
        };
        if !cache.relevant[edge.parent] {
            return Ok(());
        }
        let mut visited: HashSet<(TableId, Key)> = HashSet::new();
        let mut stack = vec![(edge.parent, parent.to_vec())];
        visited.insert((edge.parent, ctx.pk_of(edge.parent, parent)));
        while let Some((t, row)) = stack.pop() {
            let row_key = ctx.pk_of(t, &row);
            let soft_at = ctx.graph.tables[t]
                .soft_delete
                .and_then(|c| match row.get(c) {
                    Some(Value::Integer(at)) => Some(*at),
                    _ => None,
                });
            let job = cache
                .roots
                .get(&(t, row_key.clone()))
                .filter(|root| root.soft.is_none_or(|soft| soft_at == Some(soft.at)))
                .map(|root| root.job)
                .or_else(|| {
                    cache
                        .queries
                        .iter()
                        .find(|(table, query, _)| *table == t && query.matches(ctx.meta(t), &row))
                        .map(|(_, _, job)| *job)
                });
            if job.is_some() || soft_at.is_some() {
                return Err(Error::ParentBeingDeleted {
                    operation,
                    table: ctx.meta(table).name.clone(),
                    key: key.to_vec(),
                    foreign_key: edge.name.clone(),
                    parent_key: edge.parent_values(parent),
                    deleting: Box::new(BeingDeleted {
                        table: ctx.meta(t).name.clone(),
                        key: row_key,
                        job,
                        soft_deleted_at: soft_at,
                    }),
                });
            }
            for &f in &ctx.graph.tables[t].outgoing {
                let up = ctx.fk(f);
                if up.on_delete != Action::Cascade || !cache.relevant[up.parent] {
                    continue;
                }
                let values = up.child_values(&row);
                if has_null(&values) {
                    continue;
                }
                if let Some(above) = ctx.parent(tx, up, &values)? {
                    if visited.insert((up.parent, ctx.pk_of(up.parent, &above))) {
                        stack.push((up.parent, above));
                    }
                }
            }
        }
        Ok(())
    }
}
