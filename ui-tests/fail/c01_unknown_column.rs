// An index, a primary key or a foreign key may only name columns the struct
// has: columns are named after the struct's fields.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(primary_key(id))]
#[index(columns(team, joined_at))]
#[foreign_key(columns(teamid), references = Team)]
pub struct Member {
    pub id: i64,
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

fn main() {}
