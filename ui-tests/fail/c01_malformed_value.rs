// C1: a value of the wrong shape is rejected, saying what is expected.

use cascadia::{Id, Table};

#[derive(Table)]
#[table(name = teams, crate = "cascadia")]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns("team_id"))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = "Team", on_delete = "cascade")]
    pub team_id: Id<Team>,
    #[foreign_key(references = Team, on_delete = cascde, unindexed = true)]
    pub other_team: Id<Team>,
}

fn main() {}
