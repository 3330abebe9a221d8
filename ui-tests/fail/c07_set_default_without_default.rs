// C7: `set_default` needs a `#[column(default = ...)]` on every column of the
// foreign key.

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
    #[foreign_key(references = Team, on_delete = cascade, on_update = set_default)]
    pub team_id: Id<Team>,
}

fn main() {}
