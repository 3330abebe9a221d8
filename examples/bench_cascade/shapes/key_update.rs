//! `key-update`: ON UPDATE CASCADE of one parent's key with 100k children,
//! in one transaction (cascadia's sync `update_key`; SQLite's `UPDATE
//! parents SET id = 3 WHERE id = 1`). A second parent's children (a
//! hundredth as many) are untouched.

use cascadia::{Database, DeleteOptions, Id, Outcome, Schema, Table, schema};
use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::data::{Filler, name, payload, scaled};
use super::{Change, LoopStats, Shape, ceiling};

/// A parent: its key changes.
#[derive(Table, Serialize)]
#[table(name = "parents")]
pub struct Parent {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

/// A child: follows its parent's key.
#[derive(Table)]
#[table(name = "children")]
#[index(name = "by_parent", columns(parent_id))]
pub struct Child {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Parent, on_update = cascade)]
    pub parent_id: Id<Parent>,
    pub name: String,
    pub payload: String,
}

static SCHEMA: Schema = schema![Parent, Child];

/// The parent's key before and after.
const OLD: i64 = 1;
const NEW: i64 = 3;

/// The shape at one scale.
pub struct KeyUpdate {
    /// Children of the parent whose key changes; parent 2 has a hundredth.
    children: u64,
}

impl KeyUpdate {
    /// 100,000 × `scale` children.
    pub fn new(scale: f64) -> Self {
        KeyUpdate {
            children: scaled(100_000, scale),
        }
    }
}

impl Shape for KeyUpdate {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut parents = Filler::new(tx, "parents", &["id", "name", "payload"])?;
        let mut children = Filler::new(tx, "children", &["id", "parent_id", "name", "payload"])?;
        let others = (self.children / 100).max(1);
        let mut child = 0i64;
        for (parent, count) in [(OLD, self.children), (2, others)] {
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
            Change::updated("parents", 1),
            Change::updated("children", self.children),
        ]
    }

    fn native(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("UPDATE parents SET id = ?1 WHERE id = ?2", (NEW, OLD))
            .map(drop)
    }

    fn ceiling(&self, conn: &mut Connection, _batch: u64) -> rusqlite::Result<LoopStats> {
        ceiling::update_key(conn, ("children", "parent_id"), "parents", (OLD, NEW))
    }

    fn cascadia(&self, db: &Database, _: &DeleteOptions) -> Result<Outcome, cascadia::Error> {
        // The same row under its new key: only the key changes.
        let row = Parent {
            id: NEW,
            name: name("parents", OLD),
            payload: payload("parents", OLD),
        };
        db.update_key::<Parent>(&OLD, &row)
    }

    fn one_transaction(&self) -> bool {
        true
    }
}
