//! The ceiling of a cascade: deleting trees of tables bottom-up, depth
//! first, with a stack of key sets bounded by depth × batch (as cascadia's).
//!
//! A frame holds keys of one level whose subtrees go, in key order, and a
//! cursor: the keys before it have had all their children found. With the
//! frame on top of the stack:
//!
//! - if its level is the leaves' parents (only roots can be): one
//!   transaction deletes the leaves of k of its keys and those keys;
//! - if the level below is the leaves' parents: one transaction reads k
//!   keys of that level referencing the frame (`SELECT id, parent FROM …
//!   WHERE parent IN (…) ORDER BY parent, id LIMIT k`), deletes their leaves
//!   (`DELETE FROM <leaves> WHERE parent IN (k keys)`) and them (`DELETE FROM
//!   … WHERE id IN (k keys)`); finding none, it deletes the frame's own keys
//!   instead, and the frame is done;
//! - otherwise up to `batch` keys of the level below are read into a new
//!   frame on top; finding none, one transaction deletes the frame's keys.
//!
//! k = batch ÷ (1 + fan-out), so no transaction writes more than `batch`
//! rows, and no committed state holds an orphan.

use rusqlite::{Connection, params_from_iter};

use super::{IN_CHUNK, Level, LoopStats, delete_where_in, placeholders};

/// Keys of one level whose subtrees go, ascending.
struct Frame {
    /// The level, 0 for the roots.
    depth: usize,
    /// The keys, ascending.
    keys: Vec<i64>,
    /// The keys before this one have had all their children found.
    next: usize,
}

impl Frame {
    fn new(depth: usize, mut keys: Vec<i64>) -> Self {
        keys.sort_unstable();
        Frame {
            depth,
            keys,
            next: 0,
        }
    }
}

/// Up to `limit` keys of `child` rows referencing keys of `frame` whose
/// children are not all found yet, by (parent, key); moves the frame's
/// cursor past the parents whose children are all returned. Each query
/// binds at most `limit` parents: every parent has a child or is skipped.
fn children(
    conn: &Connection,
    child: Level,
    frame: &mut Frame,
    limit: u64,
) -> rusqlite::Result<Vec<i64>> {
    let mut found = Vec::new();
    while (found.len() as u64) < limit && frame.next < frame.keys.len() {
        let want = limit - found.len() as u64;
        let end = (frame.next + IN_CHUNK.min(want as usize)).min(frame.keys.len());
        let parents = &frame.keys[frame.next..end];
        let rows = referencing(conn, child, parents, want)?;
        frame.next = match rows.last() {
            // The last parent may have more children: it stays.
            Some(&(_, last)) if rows.len() as u64 == want => {
                frame.next + parents.partition_point(|&key| key < last)
            }
            _ => end,
        };
        found.extend(rows.into_iter().map(|(key, _)| key));
    }
    Ok(found)
}

/// Up to `limit` (key, parent) of `child` rows referencing `parents`, by
/// (parent, key).
fn referencing(
    conn: &Connection,
    child: Level,
    parents: &[i64],
    limit: u64,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    let column = child.parent.expect("a child level has a parent column");
    let sql = format!(
        "SELECT id, {column} FROM {} WHERE {column} IN ({}) ORDER BY {column}, id LIMIT ?",
        child.table,
        placeholders(parents.len())
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let params = params_from_iter(parents.iter().copied().chain([limit as i64]));
    statement
        .query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Deletes the trees under `roots` (keys of `levels[0]`), bottom-up, at
/// most `batch` rows per transaction; `fanout` is the number of leaves per
/// parent of leaves.
pub fn cascade(
    conn: &mut Connection,
    levels: &[Level],
    roots: &[i64],
    fanout: u64,
    batch: u64,
) -> rusqlite::Result<LoopStats> {
    let tree = Tree {
        levels,
        per_batch: (batch / (1 + fanout)).max(1),
        batch,
    };
    let leaf_parents = levels.len() - 2;
    let root_chunk = if leaf_parents == 0 {
        tree.per_batch
    } else {
        batch
    };
    let mut stack: Vec<Frame> = roots
        .chunks(root_chunk as usize)
        .rev()
        .map(|chunk| Frame::new(0, chunk.to_vec()))
        .collect();
    let mut stats = LoopStats::default();
    while let Some(frame) = stack.last_mut() {
        match tree.step(conn, &mut stats, frame)? {
            Step::Done => drop(stack.pop()),
            Step::Descend(frame) => stack.push(frame),
            Step::Again => {}
        }
    }
    Ok(stats)
}

/// What [`Tree::step`] leaves to do with the frame it was given.
enum Step {
    /// The frame's keys are deleted: pop it.
    Done,
    /// Delete this frame's trees first.
    Descend(Frame),
    /// Step the same frame again.
    Again,
}

/// The tree being deleted, and the batch sizes.
struct Tree<'l> {
    levels: &'l [Level],
    /// Leaves' parents per transaction.
    per_batch: u64,
    /// Rows per transaction.
    batch: u64,
}

impl Tree<'_> {
    /// One step of the frame on top of the stack.
    fn step(
        &self,
        conn: &mut Connection,
        stats: &mut LoopStats,
        frame: &mut Frame,
    ) -> rusqlite::Result<Step> {
        let leaf_parents = self.levels.len() - 2;
        if frame.depth == leaf_parents {
            self.delete_with_leaves(conn, stats, frame.depth, &frame.keys)?;
            return Ok(Step::Done);
        }
        if frame.depth + 1 == leaf_parents {
            return self.leaf_parents_batch(conn, stats, frame);
        }
        let found = children(conn, self.levels[frame.depth + 1], frame, self.batch)?;
        if found.is_empty() {
            self.delete_keys(conn, stats, frame)?;
            return Ok(Step::Done);
        }
        Ok(Step::Descend(Frame::new(frame.depth + 1, found)))
    }

    /// One transaction: the next leaves' parents under `frame`, with their
    /// leaves; or, with none left, the frame's own keys.
    fn leaf_parents_batch(
        &self,
        conn: &mut Connection,
        stats: &mut LoopStats,
        frame: &mut Frame,
    ) -> rusqlite::Result<Step> {
        let (depth, child) = (frame.depth + 1, self.levels[frame.depth + 1]);
        let job = job_state(self.levels[frame.depth], frame);
        let mut step = Step::Again;
        stats.batch(conn, Some(&job), |tx| {
            let found = children(tx, child, frame, self.per_batch)?;
            if found.is_empty() {
                step = Step::Done;
                return delete_where_in(tx, self.levels[frame.depth].table, "id", &frame.keys);
            }
            self.delete_leaves_and(tx, depth, &found)
        })?;
        Ok(step)
    }

    /// One transaction: the leaves of `keys` (of level `depth`) and `keys`.
    fn delete_with_leaves(
        &self,
        conn: &mut Connection,
        stats: &mut LoopStats,
        depth: usize,
        keys: &[i64],
    ) -> rusqlite::Result<()> {
        let job = format!("{} {}", self.levels[depth].table, keys[0]);
        stats.batch(conn, Some(&job), |tx| {
            self.delete_leaves_and(tx, depth, keys)
        })?;
        Ok(())
    }

    /// Deletes the leaves of `keys` (of level `depth`), then `keys`.
    fn delete_leaves_and(
        &self,
        tx: &Connection,
        depth: usize,
        keys: &[i64],
    ) -> rusqlite::Result<u64> {
        let leaves = self.levels[depth + 1];
        let column = leaves.parent.expect("leaves have a parent column");
        Ok(delete_where_in(tx, leaves.table, column, keys)?
            + delete_where_in(tx, self.levels[depth].table, "id", keys)?)
    }

    /// One transaction: the frame's keys, whose trees are gone.
    fn delete_keys(
        &self,
        conn: &mut Connection,
        stats: &mut LoopStats,
        frame: &Frame,
    ) -> rusqlite::Result<()> {
        let level = self.levels[frame.depth];
        let job = job_state(level, frame);
        stats.batch(conn, Some(&job), |tx| {
            delete_where_in(tx, level.table, "id", &frame.keys)
        })?;
        Ok(())
    }
}

/// The job record of a transaction working under `frame`: its table, first
/// key and cursor.
fn job_state(level: Level, frame: &Frame) -> String {
    format!("{} {} {}", level.table, frame.keys[0], frame.next)
}
