//! The options of deletes and updates: the delete modes, `max_rows`, the
//! frame size, the budget, the observer.

use std::time::Duration;

use crate::engine::policy::PolicyContext;
use crate::engine::progress::Observer;
use crate::model::budget::Budget;
use crate::model::metadata::{Deletion, TableMeta};
use crate::model::planner::FullScan;

/// How a delete runs. `#[non_exhaustive]`: match with a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeleteMode {
    /// The default. A read-only check pass, itself batched, refuses the
    /// delete before anything is written if a RESTRICT or NO ACTION row, or
    /// a missing SET DEFAULT parent, stands in the way. Then a bottom-up
    /// pass deletes leaves before their parents, one transaction per
    /// [`Budget`], the job's position persisted in the same transaction: no
    /// committed state holds an orphan, and a crash loses nothing (a
    /// [`Worker`](crate::Worker) resumes the job). See
    /// [`semantics`](crate::semantics#modes) for the exceptions (key-changing
    /// actions run in one transaction).
    #[default]
    Batched,
    /// One transaction: counts first and fails fast, changing nothing, past
    /// `max_rows`.
    Sync,
    /// Sets the `#[soft_delete]` column of each root to now (milliseconds
    /// since the Unix epoch; a row already soft-deleted keeps its time).
    /// Nothing else changes: no action runs, nothing is deleted.
    Soft,
    /// Soft now, and a job due after the delay that deletes the roots in
    /// batched mode — only if their deletion time still matches: restoring
    /// a root ([`Database::restore_rows`](crate::Database::restore_rows)),
    /// or scheduling it again, cancels the job. The check pass runs when
    /// the job is due.
    Scheduled(Duration),
    /// A soft delete of the roots and of every row a CASCADE would delete,
    /// each row's `#[soft_delete]` column set to the root's deletion time
    /// (now, or the time the root already carries), in bounded batches as
    /// the batched delete runs (one write transaction per [`Budget`]).
    /// Refused, before anything is written, where the batched delete would
    /// be (RESTRICT, NO ACTION, SET DEFAULT, `max_rows`), and by
    /// [`Error::NoSoftDelete`](crate::Error::NoSoftDelete) when a table the
    /// cascade reaches has no `#[soft_delete]` column. SET NULL and SET
    /// DEFAULT rows are left as they are (their parent still exists). Rows
    /// already soft-deleted keep their time, so
    /// [`Database::restore_rows`](crate::Database::restore_rows) of the root
    /// restores exactly the rows this delete marked. Running it again after
    /// a failure finishes the marking with the root's time.
    SoftCascade,
}

/// Options of a delete.
#[derive(Clone)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// How the delete runs. `None` (the default): the table's own
    /// [`Deletion`] (`#[table(deletion = ...)]`), which is
    /// [`DeleteMode::Batched`] unless the table says otherwise. An explicit
    /// mode always wins ([`DeleteOptions::hard`] deletes for good).
    pub mode: Option<DeleteMode>,
    /// Most rows the delete may write (deleted plus updated rows). Counted
    /// before anything is written (the plan in `sync` mode, the check pass
    /// in batched mode): past it the delete fails with
    /// [`Error::TooManyRows`](crate::Error::TooManyRows) and changes nothing. Default: unlimited.
    ///
    /// It also bounds memory: to count each row once, the count keeps the
    /// keys of the rows counted.
    pub max_rows: Option<u64>,
    /// Most rows per frame of the bottom-up executor (default 1,000): memory
    /// is bounded by depth × `batch_rows`.
    pub batch_rows: usize,
    /// The budget of each transaction in batched mode (default: the
    /// schema's, [`Schema::budget`](crate::Schema::budget)).
    pub budget: Option<Budget>,
    /// Called after each committed batch and when the job ends.
    pub observer: Option<Observer>,
    /// For the deletes by condition (`delete_where`): whether a filter no
    /// index serves may read the whole table (default [`FullScan::Refuse`]).
    pub full_scan: FullScan,
    /// The value row [policies](crate::Policy) see as the operation's
    /// context (default: the database's, [`Database::with_context`](crate::Database::with_context)
    ///). Not persisted with a job.
    pub context: Option<PolicyContext>,
}

impl std::fmt::Debug for DeleteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteOptions")
            .field("mode", &self.mode)
            .field("max_rows", &self.max_rows)
            .field("batch_rows", &self.batch_rows)
            .field("budget", &self.budget)
            .field("observer", &self.observer.is_some())
            .field("full_scan", &self.full_scan)
            .field("context", &self.context.is_some())
            .finish()
    }
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            mode: None,
            max_rows: None,
            batch_rows: 1_000,
            budget: None,
            observer: None,
            full_scan: FullScan::Refuse,
            context: None,
        }
    }
}

impl DeleteOptions {
    /// Sets [`mode`](Self::mode).
    pub fn mode(mut self, mode: DeleteMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets [`context`](Self::context): the value row policies see, e.g.
    /// the acting user (read back with [`PolicyRow::context`](crate::PolicyRow::context)
    ///).
    pub fn context(mut self, context: impl std::any::Any + Send + Sync) -> Self {
        self.context = Some(std::sync::Arc::new(context));
        self
    }

    /// [`DeleteMode::Batched`], whatever the table's default
    /// [`Deletion`]: the rows are deleted for good.
    pub fn hard(self) -> Self {
        self.mode(DeleteMode::Batched)
    }

    /// [`DeleteMode::SoftCascade`].
    pub fn soft_cascade(self) -> Self {
        self.mode(DeleteMode::SoftCascade)
    }

    /// The mode a delete of `table`'s rows runs in: the options' mode, else
    /// the table's [`Deletion`].
    pub(crate) fn mode_for(&self, table: &TableMeta) -> DeleteMode {
        self.mode.unwrap_or(match table.deletion {
            Deletion::Hard => DeleteMode::Batched,
            Deletion::Soft => DeleteMode::Soft,
            Deletion::SoftCascade => DeleteMode::SoftCascade,
            Deletion::Scheduled { after_ms } => {
                DeleteMode::Scheduled(Duration::from_millis(after_ms))
            }
        })
    }

    /// [`DeleteMode::Sync`].
    pub fn sync(self) -> Self {
        self.mode(DeleteMode::Sync)
    }

    /// [`DeleteMode::Soft`].
    pub fn soft(self) -> Self {
        self.mode(DeleteMode::Soft)
    }

    /// [`DeleteMode::Scheduled`] after `delay`.
    pub fn scheduled(self, delay: Duration) -> Self {
        self.mode(DeleteMode::Scheduled(delay))
    }

    /// Sets [`max_rows`](Self::max_rows).
    pub fn max_rows(mut self, max_rows: u64) -> Self {
        self.max_rows = Some(max_rows);
        self
    }

    /// Sets [`batch_rows`](Self::batch_rows) (at least 1).
    pub fn batch_rows(mut self, batch_rows: usize) -> Self {
        self.batch_rows = batch_rows.max(1);
        self
    }

    /// Sets [`budget`](Self::budget).
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Sets [`observer`](Self::observer): a closure called with each
    /// [`Progress`](crate::Progress), e.g. `|p| bar.set_position(p.rows_deleted())`.
    pub fn observer(
        mut self,
        observer: impl FnMut(&crate::engine::progress::Progress) + Send + 'static,
    ) -> Self {
        self.observer = Some(Observer::new(observer));
        self
    }

    /// Sets [`observer`](Self::observer) to an [`Observer`] shared with
    /// other deletes or workers.
    pub fn shared_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sets [`full_scan`](Self::full_scan).
    pub fn full_scan(mut self, scan: FullScan) -> Self {
        self.full_scan = scan;
        self
    }

    /// The budget in force: the options', else the schema's.
    pub(crate) fn effective_budget(&self, schema: &crate::model::schema::Schema) -> Budget {
        self.budget.unwrap_or_else(|| schema.budget())
    }
}

/// Options of an update.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct UpdateOptions {
    /// Most rows the update may write (the updated rows and the rows its ON
    /// UPDATE actions write). Counted before anything is written (a
    /// read-only walk of the actions): past it the update fails with
    /// [`Error::TooManyRows`](crate::Error::TooManyRows) and changes nothing. Default: unlimited.
    ///
    /// It also bounds memory: to count each row once, the count keeps the
    /// keys of the rows counted.
    pub max_rows: Option<u64>,
    /// The value row [policies](crate::Policy) see as the operation's
    /// context (default: the database's, [`Database::with_context`](crate::Database::with_context)
    ///).
    pub context: Option<PolicyContext>,
}

impl std::fmt::Debug for UpdateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateOptions")
            .field("max_rows", &self.max_rows)
            .field("context", &self.context.is_some())
            .finish()
    }
}

impl UpdateOptions {
    /// Sets [`context`](Self::context): the value row policies see.
    pub fn context(mut self, context: impl std::any::Any + Send + Sync) -> Self {
        self.context = Some(std::sync::Arc::new(context));
        self
    }

    /// Sets [`max_rows`](Self::max_rows).
    pub fn max_rows(mut self, max_rows: u64) -> Self {
        self.max_rows = Some(max_rows);
        self
    }
}
