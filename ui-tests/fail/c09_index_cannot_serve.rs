// C9: `index = "..."` must name an index whose first columns are the foreign
// key's columns (in any order).

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(name = "by_joined", columns(joined_at, team_id))]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade, index = "by_joined")]
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

fn main() {}
