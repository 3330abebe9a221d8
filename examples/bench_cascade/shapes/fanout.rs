//! `fanout`: 1 team → 100k members → 500k posts, ON DELETE CASCADE, and a
//! second team with a hundredth of that, whose rows survive.

use cascadia::{Database, DeleteOptions, Id, Outcome, Schema, Table, schema};
use rusqlite::{Connection, Transaction};

use super::data::{Filler, scaled};
use super::{Change, Level, LoopStats, Shape, ceiling};

/// A team: the root of the delete.
#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
    pub name: String,
    pub payload: String,
}

/// A member of a team; deleted with its team.
#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub name: String,
    pub payload: String,
}

/// A post by a member; deleted with its member.
#[derive(Table)]
#[table(name = "posts")]
#[index(name = "by_member", columns(member_id))]
pub struct Post {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Member, on_delete = cascade)]
    pub member_id: Id<Member>,
    pub title: String,
    pub body: String,
}

/// The three tables, as cascadia sees them.
pub static SCHEMA: Schema = schema![Team, Member, Post];

/// Posts per member.
const POSTS: u64 = 5;

/// The tree the ceiling deletes.
const LEVELS: [Level; 3] = [
    Level {
        table: "teams",
        parent: None,
    },
    Level {
        table: "members",
        parent: Some("team_id"),
    },
    Level {
        table: "posts",
        parent: Some("member_id"),
    },
];

/// The shape at one scale.
pub struct Fanout {
    /// Members of team 1 (deleted); team 2 has a hundredth.
    members: u64,
}

impl Fanout {
    /// 100,000 × `scale` members.
    pub fn new(scale: f64) -> Self {
        Fanout {
            members: scaled(100_000, scale),
        }
    }
}

impl Shape for Fanout {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn fill(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut teams = Filler::new(tx, "teams", &["id", "name", "payload"])?;
        let mut members = Filler::new(tx, "members", &["id", "team_id", "name", "payload"])?;
        let mut posts = Filler::new(tx, "posts", &["id", "member_id", "title", "body"])?;
        let others = (self.members / 100).max(1);
        let (mut member, mut post) = (0i64, 0i64);
        for (team, count) in [(1, self.members), (2, others)] {
            teams.root(team)?;
            for _ in 0..count {
                members.child(member, team)?;
                for _ in 0..POSTS {
                    posts.child(post, member)?;
                    post += 1;
                }
                member += 1;
            }
        }
        Ok(())
    }

    fn expected(&self) -> Vec<Change> {
        vec![
            Change::deleted("teams", 1),
            Change::deleted("members", self.members),
            Change::deleted("posts", self.members * POSTS),
        ]
    }

    fn native(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("DELETE FROM teams WHERE id = 1", []).map(drop)
    }

    fn ceiling(&self, conn: &mut Connection, batch: u64) -> rusqlite::Result<LoopStats> {
        ceiling::cascade(conn, &LEVELS, &[1], POSTS, batch)
    }

    fn cascadia(&self, db: &Database, options: &DeleteOptions) -> Result<Outcome, cascadia::Error> {
        db.delete_with::<Team>(&[1], options)
    }

    fn min_batch(&self) -> u64 {
        1 + POSTS
    }
}
