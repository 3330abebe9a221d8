//! The shapes: what each one's schema and rows are, and its action run
//! three ways (SQLite's own, the ceiling loop, cascadia). One module each.

use cascadia::{Database, DeleteOptions, Outcome, Schema};
use rusqlite::{Connection, Transaction};

// What the shapes' modules use of their siblings.
use super::ceiling::{self, Level, LoopStats};
use super::data;

mod chain;
pub mod fanout;
mod key_update;
mod many_roots;
mod set_null;

/// The rows an action changes in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The table.
    pub table: &'static str,
    /// Rows deleted.
    pub deleted: u64,
    /// Rows updated.
    pub updated: u64,
}

impl Change {
    /// `rows` rows of `table` deleted.
    pub fn deleted(table: &'static str, rows: u64) -> Self {
        Change {
            table,
            deleted: rows,
            updated: 0,
        }
    }

    /// `rows` rows of `table` updated.
    pub fn updated(table: &'static str, rows: u64) -> Self {
        Change {
            table,
            deleted: 0,
            updated: rows,
        }
    }
}

/// One benchmark shape: a schema, its rows, and one action run three ways.
pub trait Shape {
    /// The tables of both databases.
    fn schema(&self) -> &'static Schema;

    /// Inserts the rows, parents first, into an empty database.
    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()>;

    /// What the action changes, every table it touches: the exact outcome.
    fn expected(&self) -> Vec<Change>;

    /// SQLite's own action, on a database whose foreign keys carry their
    /// actions: one statement, one transaction.
    fn native(&self, conn: &Connection) -> rusqlite::Result<()>;

    /// The hand-written set-based loop, at most `batch` rows per
    /// transaction (see [`ceiling`]).
    fn ceiling(&self, conn: &mut Connection, batch: u64) -> rusqlite::Result<LoopStats>;

    /// cascadia's run, with `options` for a delete.
    fn cascadia(&self, db: &Database, options: &DeleteOptions) -> Result<Outcome, cascadia::Error>;

    /// Whether cascadia runs the action in one transaction (sync).
    fn one_transaction(&self) -> bool {
        false
    }

    /// The smallest batch the ceiling keeps to: one parent and its leaves.
    fn min_batch(&self) -> u64 {
        1
    }
}

/// The shapes, by their `--shape` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeName {
    /// 1 team → 100k members → 500k posts, ON DELETE CASCADE.
    Fanout,
    /// 6 levels of fan-out 10, ON DELETE CASCADE.
    Chain,
    /// 1 parent → 500k children, ON DELETE SET NULL.
    SetNull,
    /// 10,000 roots × 10 children deleted by one multi-key delete.
    ManyRoots,
    /// ON UPDATE CASCADE of one key with 100k children, in one transaction.
    KeyUpdate,
}

impl ShapeName {
    /// Every shape, in the order `--shape all` runs them.
    pub const ALL: [ShapeName; 5] = [
        ShapeName::Fanout,
        ShapeName::Chain,
        ShapeName::SetNull,
        ShapeName::ManyRoots,
        ShapeName::KeyUpdate,
    ];

    /// The `--shape` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ShapeName::Fanout => "fanout",
            ShapeName::Chain => "chain",
            ShapeName::SetNull => "set-null",
            ShapeName::ManyRoots => "many-roots",
            ShapeName::KeyUpdate => "key-update",
        }
    }

    /// The shape with its data size multiplied by `scale`.
    pub fn build(self, scale: f64) -> Box<dyn Shape> {
        match self {
            ShapeName::Fanout => Box::new(fanout::Fanout::new(scale)),
            ShapeName::Chain => Box::new(chain::Chain::new(scale)),
            ShapeName::SetNull => Box::new(set_null::SetNull::new(scale)),
            ShapeName::ManyRoots => Box::new(many_roots::ManyRoots::new(scale)),
            ShapeName::KeyUpdate => Box::new(key_update::KeyUpdate::new(scale)),
        }
    }
}
