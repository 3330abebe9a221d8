//! `many-roots`: 10,000 roots × 10 children, ON DELETE CASCADE, deleted by
//! one multi-key delete (cascadia: one `delete_with` of 10,000 keys;
//! SQLite: `DELETE FROM roots WHERE id BETWEEN 1 AND 10000`). A tenth as
//! many roots more, with their children, survive.

use cascadia::{Database, DeleteOptions, Id, Outcome, Schema, Table, schema};
use rusqlite::{Connection, Transaction};

use super::data::{Filler, scaled};
use super::{Change, Level, LoopStats, Shape, ceiling};

/// A root: 10,000 of them are deleted at once.
#[derive(Table)]
#[table(name = "roots")]
pub struct Root {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

/// A child of a root; deleted with it.
#[derive(Table)]
#[table(name = "children")]
#[index(name = "by_root", columns(root_id))]
pub struct Child {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Root, on_delete = cascade)]
    pub root_id: Id<Root>,
    pub name: String,
    pub payload: String,
}

static SCHEMA: Schema = schema![Root, Child];

/// Children per root.
const CHILDREN: u64 = 10;

/// The tree the ceiling deletes.
const LEVELS: [Level; 2] = [
    Level {
        table: "roots",
        parent: None,
    },
    Level {
        table: "children",
        parent: Some("root_id"),
    },
];

/// The shape at one scale.
pub struct ManyRoots {
    /// Roots deleted (keys 1..=roots); a tenth as many more survive.
    roots: u64,
}

impl ManyRoots {
    /// 10,000 × `scale` roots to delete.
    pub fn new(scale: f64) -> Self {
        ManyRoots {
            roots: scaled(10_000, scale),
        }
    }

    /// The keys deleted.
    fn keys(&self) -> Vec<i64> {
        (1..=self.roots as i64).collect()
    }
}

impl Shape for ManyRoots {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut roots = Filler::new(tx, "roots", &["id", "name", "payload"])?;
        let mut children = Filler::new(tx, "children", &["id", "root_id", "name", "payload"])?;
        let all = self.roots + (self.roots / 10).max(1);
        for root in 1..=all as i64 {
            roots.root(root)?;
            for k in 0..CHILDREN as i64 {
                children.child((root - 1) * CHILDREN as i64 + k, root)?;
            }
        }
        Ok(())
    }

    fn expected(&self) -> Vec<Change> {
        vec![
            Change::deleted("roots", self.roots),
            Change::deleted("children", self.roots * CHILDREN),
        ]
    }

    fn native(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute(
            "DELETE FROM roots WHERE id BETWEEN 1 AND ?1",
            [self.roots as i64],
        )
        .map(drop)
    }

    fn ceiling(&self, conn: &mut Connection, batch: u64) -> rusqlite::Result<LoopStats> {
        ceiling::cascade(conn, &LEVELS, &self.keys(), CHILDREN, batch)
    }

    fn cascadia(&self, db: &Database, options: &DeleteOptions) -> Result<Outcome, cascadia::Error> {
        db.delete_with::<Root>(&self.keys(), options)
    }

    fn min_batch(&self) -> u64 {
        1 + CHILDREN
    }
}
