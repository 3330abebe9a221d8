//! `chain`: a tree 6 levels deep, fan-out 10 at every level (1 → 10 → 100
//! → 1k → 10k → 100k → 1M, 1,111,111 rows), ON DELETE CASCADE at every
//! level, and a sibling root with fan-out 2 (127 rows) that survives.
//! `--scale` scales the fan-out (10 × scale^(1/6), rounded, at least 2), so
//! the row count scales by about `scale` and the depth stays 6.
//!
//! Keys: level i holds the deleted tree's rows 1..=f^i, the row j's parent
//! being (j - 1) / f + 1, then the sibling tree's rows.

use cascadia::{Database, DeleteOptions, Id, Outcome, Schema, Table, schema};
use rusqlite::{Connection, Transaction};

use super::data::Filler;
use super::{Change, Level, LoopStats, Shape, ceiling};

/// A table of one level below the root: a row referencing the level above.
macro_rules! level {
    ($(#[$doc:meta])* $name:ident, $table:tt, $parent:ident) => {
        $(#[$doc])*
        #[derive(Table)]
        #[table(name = $table)]
        #[index(name = "by_parent", columns(parent_id))]
        pub struct $name {
            #[primary_key]
            pub id: i64,
            #[foreign_key(references = $parent, on_delete = cascade)]
            pub parent_id: Id<$parent>,
            pub name: String,
            pub payload: String,
        }
    };
}

/// The root level.
#[derive(Table)]
#[table(name = "level0")]
pub struct Level0 {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

level!(/** Level 1. */ Level1, "level1", Level0);
level!(/** Level 2. */ Level2, "level2", Level1);
level!(/** Level 3. */ Level3, "level3", Level2);
level!(/** Level 4. */ Level4, "level4", Level3);
level!(/** Level 5. */ Level5, "level5", Level4);
level!(/** Level 6: the leaves. */ Level6, "level6", Level5);

static SCHEMA: Schema = schema![Level0, Level1, Level2, Level3, Level4, Level5, Level6];

/// The tables, root first.
const TABLES: [&str; 7] = [
    "level0", "level1", "level2", "level3", "level4", "level5", "level6",
];

/// The sibling tree's fan-out.
const SIBLING_FANOUT: u64 = 2;

/// The shape at one scale.
pub struct Chain {
    /// Children per row of the deleted tree.
    fanout: u64,
}

impl Chain {
    /// Fan-out 10 × `scale`^(1/6).
    pub fn new(scale: f64) -> Self {
        let fanout = (10.0 * scale.powf(1.0 / 6.0)).round() as u64;
        Chain {
            fanout: fanout.max(2),
        }
    }

    /// Rows of the deleted tree at `depth`.
    fn width(&self, depth: u32) -> u64 {
        self.fanout.pow(depth)
    }

    /// Inserts level `depth` (> 0): the deleted tree's rows, then the
    /// sibling's.
    fn fill_level(&self, tx: &Transaction<'_>, depth: u32) -> rusqlite::Result<()> {
        let table = TABLES[depth as usize];
        let mut rows = Filler::new(tx, table, &["id", "parent_id", "name", "payload"])?;
        let (width, above) = (self.width(depth), self.width(depth - 1));
        for j in 1..=width {
            rows.child(j as i64, ((j - 1) / self.fanout + 1) as i64)?;
        }
        for k in 0..SIBLING_FANOUT.pow(depth) {
            rows.child(
                (width + 1 + k) as i64,
                (above + 1 + k / SIBLING_FANOUT) as i64,
            )?;
        }
        Ok(())
    }
}

impl Shape for Chain {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut roots = Filler::new(tx, TABLES[0], &["id", "name", "payload"])?;
        roots.root(1)?;
        roots.root(2)?;
        (1..TABLES.len() as u32).try_for_each(|depth| self.fill_level(tx, depth))
    }

    fn expected(&self) -> Vec<Change> {
        (0..TABLES.len() as u32)
            .map(|depth| Change::deleted(TABLES[depth as usize], self.width(depth)))
            .collect()
    }

    fn native(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("DELETE FROM level0 WHERE id = 1", [])
            .map(drop)
    }

    fn ceiling(&self, conn: &mut Connection, batch: u64) -> rusqlite::Result<LoopStats> {
        let levels: Vec<Level> = TABLES
            .iter()
            .enumerate()
            .map(|(depth, &table)| Level {
                table,
                parent: (depth > 0).then_some("parent_id"),
            })
            .collect();
        ceiling::cascade(conn, &levels, &[1], self.fanout, batch)
    }

    fn cascadia(&self, db: &Database, options: &DeleteOptions) -> Result<Outcome, cascadia::Error> {
        db.delete_with::<Level0>(&[1], options)
    }

    fn min_batch(&self) -> u64 {
        1 + self.fanout
    }
}
