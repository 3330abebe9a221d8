//! `set-null`: 1 parent → 500k children, ON DELETE SET NULL (a nullable,
//! indexed foreign key); deleting the parent nulls its children. A second
//! parent's children (a hundredth as many) keep their parent.

use cascadia::{Database, DeleteOptions, Id, Outcome, Schema, Table, schema};
use rusqlite::{Connection, Transaction};

use super::data::{Filler, scaled};
use super::{Change, LoopStats, Shape, ceiling};

/// A parent: the row deleted.
#[derive(Table)]
#[table(name = "parents")]
pub struct Parent {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

/// A child: loses its parent, and survives.
#[derive(Table)]
#[table(name = "children")]
#[index(name = "by_parent", columns(parent_id))]
pub struct Child {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Parent, on_delete = set_null)]
    pub parent_id: Option<Id<Parent>>,
    pub name: String,
    pub payload: String,
}

static SCHEMA: Schema = schema![Parent, Child];

/// The shape at one scale.
pub struct SetNull {
    /// Children of parent 1; parent 2 has a hundredth.
    children: u64,
}

impl SetNull {
    /// 500,000 × `scale` children.
    pub fn new(scale: f64) -> Self {
        SetNull {
            children: scaled(500_000, scale),
        }
    }
}

impl Shape for SetNull {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut parents = Filler::new(tx, "parents", &["id", "name", "payload"])?;
        let mut children = Filler::new(tx, "children", &["id", "parent_id", "name", "payload"])?;
        let others = (self.children / 100).max(1);
        let mut child = 0i64;
        for (parent, count) in [(1, self.children), (2, others)] {
            parents.root(parent)?;
            for _ in 0..count {
                children.child(child, parent)?;
                child += 1;
            }
        }
        Ok(())
    }

    fn expected(&self) -> Vec<Change> {
        vec![
            Change::deleted("parents", 1),
            Change::updated("children", self.children),
        ]
    }

    fn native(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("DELETE FROM parents WHERE id = 1", [])
            .map(drop)
    }

    fn ceiling(&self, conn: &mut Connection, batch: u64) -> rusqlite::Result<LoopStats> {
        ceiling::set_null(conn, ("children", "parent_id"), "parents", 1, batch)
    }

    fn cascadia(&self, db: &Database, options: &DeleteOptions) -> Result<Outcome, cascadia::Error> {
        db.delete_with::<Parent>(&[1], options)
    }
}
