// C8: an index serves a foreign key through its first columns only. When an
// index holds the key's columns later, the error points at that index and
// says how to reorder it.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "members")]
#[index(columns(joined_at, team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

fn main() {}
