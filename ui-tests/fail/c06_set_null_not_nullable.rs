// C6: `set_null` needs every column of the foreign key to be an `Option<_>`.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = set_null)]
    pub team_id: Id<Team>,
}

fn main() {}
