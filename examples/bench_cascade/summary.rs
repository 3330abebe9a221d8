//! What one shape's three runs measured, whether they agree, and the lines
//! printed.

use cascadia::Outcome;

use super::Failure;
use super::ceiling::LoopStats;
use super::measure::Measured;
use super::shapes::Change;
use super::verify::TableState;

/// One thing per side: SQLite's own action, the ceiling loop, cascadia.
#[derive(Debug, Clone)]
pub struct Sides<T> {
    /// SQLite's own action.
    pub native: T,
    /// The hand-written set-based loop.
    pub ceiling: T,
    /// cascadia.
    pub cascadia: T,
}

impl<T> Sides<T> {
    /// `f` of each side, or the first error.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<Sides<U>, E> {
        Ok(Sides {
            native: f(&self.native)?,
            ceiling: f(&self.ceiling)?,
            cascadia: f(&self.cascadia)?,
        })
    }
}

/// SQLite's own action.
#[derive(Debug, Clone)]
pub struct NativeRun {
    /// Its cost.
    pub measured: Measured,
    /// Rows it changed, FK actions included (`sqlite3_total_changes`).
    pub rows: u64,
    /// Rows it deleted per table (counts before and after).
    pub deleted: Vec<(String, u64)>,
}

/// The ceiling loop.
#[derive(Debug, Clone)]
pub struct CeilingRun {
    /// Its cost.
    pub measured: Measured,
    /// Rows, transactions, the largest transaction.
    pub stats: LoopStats,
}

/// cascadia's run.
#[derive(Debug, Clone)]
pub struct CascadiaRun {
    /// Its cost.
    pub measured: Measured,
    /// What it reported.
    pub outcome: Outcome,
    /// Most rows written by one committed transaction.
    pub max_tx_rows: u64,
    /// Transactions committed (batched deletes).
    pub batches: u64,
    /// Most rows the executor held in memory after a batch.
    pub max_held_rows: usize,
}

/// What one shape's runs measured.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The shape's `--shape` name.
    pub shape: &'static str,
    /// Rows per transaction asked for.
    pub batch: u64,
    /// What the action must change, per table.
    pub expected: Vec<Change>,
    /// Whether cascadia runs the action in one transaction.
    pub one_transaction: bool,
    /// SQLite's own action.
    pub native: NativeRun,
    /// The ceiling loop.
    pub ceiling: CeilingRun,
    /// cascadia.
    pub cascadia: CascadiaRun,
    /// Every table at the end, per side.
    pub end_states: Sides<Vec<TableState>>,
    /// `PRAGMA foreign_key_check` rows at the end, per side.
    pub orphans: Sides<u64>,
}

impl Summary {
    /// Rows the action changes (deleted plus updated).
    pub fn rows(&self) -> u64 {
        self.expected.iter().map(|c| c.deleted + c.updated).sum()
    }

    /// The one line on standard output.
    pub fn line(&self) -> String {
        let rows = self.rows();
        let (native, ceiling, ours) = (
            self.native.measured.rate(rows),
            self.ceiling.measured.rate(rows),
            self.cascadia.measured.rate(rows),
        );
        format!(
            "shape={} native_rows_per_s={native:.0} cascadia_rows_per_s={ours:.0} ratio={:.2} ceiling_ratio={:.2} max_tx_rows={} peak_rss_mib={:.1}",
            self.shape,
            ours / native,
            ours / ceiling,
            self.cascadia.max_tx_rows,
            self.cascadia.measured.peak_rss_mib
        )
    }

    /// The line on standard error: seconds and CPU seconds of each side,
    /// the ceiling's rate and transactions, cascadia's batches and memory.
    pub fn details(&self) -> String {
        let (native, ceiling, ours) = (
            &self.native.measured,
            &self.ceiling.measured,
            &self.cascadia.measured,
        );
        format!(
            "shape={} rows={} native_s={:.3} (cpu {:.2}) ceiling_s={:.3} (cpu {:.2}) cascadia_s={:.3} (cpu {:.2}) \
             ceiling_rows_per_s={:.0} ceiling_tx={} ceiling_max_tx_rows={} cascadia_batches={} max_held_rows={} \
             cascadia_start_rss_mib={:.1} native_peak_rss_mib={:.1} ceiling_peak_rss_mib={:.1}",
            self.shape,
            self.rows(),
            native.seconds,
            native.cpu_seconds,
            ceiling.seconds,
            ceiling.cpu_seconds,
            ours.seconds,
            ours.cpu_seconds,
            ceiling.rate(self.rows()),
            self.ceiling.stats.transactions,
            self.ceiling.stats.max_tx_rows,
            self.cascadia.batches,
            self.cascadia.max_held_rows,
            ours.start_rss_mib,
            native.peak_rss_mib,
            ceiling.peak_rss_mib,
        )
    }

    /// Fails, naming every difference, unless the three end states are
    /// identical and free of orphans, every side changed exactly the rows
    /// expected (cascadia per table), and no transaction of the ceiling or
    /// of a batched cascadia wrote more than the batch.
    pub fn check(&self) -> Result<(), Failure> {
        let mut problems = self.state_problems();
        problems.extend(self.count_problems());
        problems.extend(self.size_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("shape {}: {}", self.shape, problems.join("; ")).into())
        }
    }

    /// End states that differ from SQLite's, and orphans.
    fn state_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let native = &self.end_states.native;
        for (side, state) in [
            ("ceiling", &self.end_states.ceiling),
            ("cascadia", &self.end_states.cascadia),
        ] {
            if state != native {
                problems.push(format!(
                    "{side}'s end state differs from SQLite's: {state:?} vs {native:?}"
                ));
            }
        }
        for (side, orphans) in [
            ("native", self.orphans.native),
            ("ceiling", self.orphans.ceiling),
            ("cascadia", self.orphans.cascadia),
        ] {
            if orphans > 0 {
                problems.push(format!("{side} left {orphans} orphans"));
            }
        }
        problems
    }

    /// Rows changed that differ from the expected counts.
    fn count_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let rows = self.rows();
        for (side, counted) in [
            ("native", self.native.rows),
            ("ceiling", self.ceiling.stats.rows),
            ("cascadia", self.cascadia.outcome.rows_written()),
        ] {
            if counted != rows {
                problems.push(format!("{side} changed {counted} rows, not {rows}"));
            }
        }
        let outcome = &self.cascadia.outcome;
        for change in &self.expected {
            let got = (
                outcome.rows_deleted(change.table),
                outcome.rows_updated(change.table),
            );
            if got != (change.deleted, change.updated) {
                problems.push(format!(
                    "cascadia reports {got:?} rows (deleted, updated) in {}, not {:?}",
                    change.table,
                    (change.deleted, change.updated)
                ));
            }
        }
        for (table, deleted) in &self.native.deleted {
            let expected = self
                .expected
                .iter()
                .find(|c| c.table == table)
                .map_or(0, |c| c.deleted);
            if *deleted != expected {
                problems.push(format!(
                    "native deleted {deleted} rows of {table}, not {expected}"
                ));
            }
        }
        problems
    }

    /// Transactions bigger than the batch.
    fn size_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.ceiling.stats.max_tx_rows > self.batch && !self.one_transaction {
            problems.push(format!(
                "a ceiling transaction wrote {} rows, past the batch of {}",
                self.ceiling.stats.max_tx_rows, self.batch
            ));
        }
        if self.cascadia.max_tx_rows > self.batch && !self.one_transaction {
            problems.push(format!(
                "a cascadia transaction wrote {} rows, past the batch of {}",
                self.cascadia.max_tx_rows, self.batch
            ));
        }
        problems
    }
}
