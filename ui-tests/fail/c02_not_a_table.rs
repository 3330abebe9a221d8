// C2: `references` names a type that is not a table.

use cascadia::Table;

pub struct Team {
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(id))]
    pub team_id: i64,
}

fn main() {}
