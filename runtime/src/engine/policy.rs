//! Row policies: an application's rule, per table, consulted for every row
//! an operation would change — the rows a delete names and every row its
//! cascade deletes, the rows a SET NULL or SET DEFAULT sets, the rows an ON
//! UPDATE CASCADE rewrites — with a context value the caller passes (the
//! acting user, a tenant).
//!
//! Deletes consult them in the check pass, before anything is written (a
//! delete with a policy on a table it reaches always runs the check pass,
//! in `sync` mode too); updates consult them as the one transaction of the
//! update runs, and a refusal rolls it back. Without a policy registered,
//! nothing is consulted and nothing costs more.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::model::error::{CascadePath, Error, ForeignKeyName, Operation, RowChange, RowRef};
use crate::model::graph::{FkId, TableId};
use crate::model::metadata::{Name, TableMeta};
use crate::model::serde_value::from_row;
use crate::model::value::{Key, Value};

/// A policy's refusal, with the reason [`Error::PolicyDenied`] shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    reason: String,
}

impl Denied {
    /// A refusal for `reason` (shown after the row in the error message).
    pub fn new(reason: impl Into<String>) -> Self {
        Denied {
            reason: reason.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// An application's rule about which rows an operation may change.
///
/// Register one per table with [`Database::with_policy`](crate::Database::with_policy)
///; a closure
/// `Fn(&PolicyRow<'_>) -> Result<(), Denied>` is a policy. It is called once
/// for each row the operation would change (more than once for a row the
/// cascade reaches by two paths), must not block for long, and sees the
/// database as it was before the operation.
pub trait Policy: Send + Sync {
    /// `Ok(())` lets the operation change `row`; [`Denied`] refuses the
    /// whole operation with [`Error::PolicyDenied`].
    fn check(&self, row: &PolicyRow<'_>) -> Result<(), Denied>;
}

impl<F> Policy for F
where
    F: Fn(&PolicyRow<'_>) -> Result<(), Denied> + Send + Sync,
{
    fn check(&self, row: &PolicyRow<'_>) -> Result<(), Denied> {
        self(row)
    }
}

/// The context value of an operation: what the caller passed with
/// [`DeleteOptions::context`](crate::DeleteOptions::context),
/// [`UpdateOptions::context`](crate::UpdateOptions::context) or
/// [`Database::with_context`](crate::Database::with_context).
pub type PolicyContext = Arc<dyn Any + Send + Sync>;

/// A row a policy is asked about.
pub struct PolicyRow<'a> {
    table: &'a TableMeta,
    row: &'a [Value],
    key: Key,
    change: RowChange,
    foreign_key: Option<&'a ForeignKeyName>,
    context: Option<&'a (dyn Any + Send + Sync)>,
}

impl fmt::Debug for PolicyRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyRow")
            .field("table", &self.table.name)
            .field("key", &self.key)
            .field("change", &self.change)
            .finish_non_exhaustive()
    }
}

impl<'a> PolicyRow<'a> {
    /// SQL name of the row's table.
    pub fn table(&self) -> &str {
        &self.table.name
    }

    /// The row's primary-key values.
    pub fn key(&self) -> &[Value] {
        &self.key
    }

    /// The row as it is before the operation, in column order.
    pub fn row(&self) -> &'a [Value] {
        self.row
    }

    /// The value of the column with SQL name `column`, before the operation
    /// (`None`: no such column).
    pub fn value(&self, column: &str) -> Option<&'a Value> {
        let at = self.table.columns.iter().position(|c| c.name == column)?;
        self.row.get(at)
    }

    /// The row as a `T` (the table's struct, or any type its columns
    /// deserialise into). Fails with [`Error::Conversion`] when they do not.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(from_row(self.table, self.row.to_vec())?)
    }

    /// How the operation would change the row.
    pub fn change(&self) -> RowChange {
        self.change
    }

    /// The foreign key whose referential action reaches the row; `None` for
    /// the rows the caller named.
    pub fn foreign_key(&self) -> Option<&'a ForeignKeyName> {
        self.foreign_key
    }

    /// The operation's context value, if it has one of type `C`. A job that
    /// a [`Worker`](crate::Worker) runs later (a scheduled delete) has none.
    pub fn context<C: Any>(&self) -> Option<&'a C> {
        self.context?.downcast_ref::<C>()
    }
}

/// A policy with the name it was registered under.
type Named = (Name, Arc<dyn Policy>);

/// The policies of a database, by table.
#[derive(Clone, Default)]
pub(crate) struct Policies {
    by_table: HashMap<TableId, Vec<Named>>,
}

impl Policies {
    /// Adds `policy` to `table`'s, consulted after those added before.
    pub(crate) fn add(&mut self, table: TableId, name: Name, policy: Arc<dyn Policy>) {
        self.by_table.entry(table).or_default().push((name, policy));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_table.is_empty()
    }
}

/// The policies of one operation, with its context value.
#[derive(Clone, Copy)]
pub(crate) struct PolicyScope<'a> {
    pub(crate) policies: &'a Policies,
    pub(crate) context: Option<&'a (dyn Any + Send + Sync)>,
}

/// A row to ask the policies of its table about.
pub(crate) struct Asked<'r> {
    pub(crate) table: TableId,
    pub(crate) row: &'r [Value],
    pub(crate) change: RowChange,
    /// The foreign key whose action reaches the row.
    pub(crate) fk: Option<FkId>,
    /// The parent row that action comes from (for the error's path), when
    /// the row itself is not deleted.
    pub(crate) parent: Option<(TableId, Key)>,
}

impl<'r> Asked<'r> {
    /// A row the operation deletes, reached through `fk` (`None`: a root).
    pub(crate) fn deleted(table: TableId, row: &'r [Value], fk: Option<FkId>) -> Self {
        Asked {
            table,
            row,
            change: RowChange::Delete,
            fk,
            parent: None,
        }
    }
}

impl PolicyScope<'_> {
    /// Whether `table` has a policy.
    pub(crate) fn guards(&self, table: TableId) -> bool {
        self.policies.by_table.contains_key(&table)
    }

    /// Asks every policy of `table` about `row` (primary key `key`), which
    /// the operation would change as `change` through `foreign_key`; the
    /// first refusal as [`Error::PolicyDenied`] (its `via` holds `parent`,
    /// if any, for the caller to extend into the cascade path).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &self,
        operation: Operation,
        id: TableId,
        table: &TableMeta,
        row: &[Value],
        key: Key,
        change: RowChange,
        foreign_key: Option<&Arc<ForeignKeyName>>,
        parent: Option<RowRef>,
    ) -> Result<(), Error> {
        let Some(policies) = self.policies.by_table.get(&id) else {
            return Ok(());
        };
        let asked = PolicyRow {
            table,
            row,
            key,
            change,
            foreign_key: foreign_key.map(|name| &**name),
            context: self.context,
        };
        for (name, policy) in policies {
            if let Err(denied) = policy.check(&asked) {
                return Err(Error::PolicyDenied {
                    operation,
                    table: table.name.clone(),
                    key: asked.key,
                    change,
                    foreign_key: foreign_key.cloned(),
                    policy: name.clone(),
                    reason: denied.reason,
                    via: CascadePath::from(parent.into_iter().collect::<Vec<_>>()),
                });
            }
        }
        Ok(())
    }
}
