// C10: a set of columns has at most one foreign key.

use cascadia::Table;

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[foreign_key(columns(team_id), references = Team, on_delete = restrict)]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: i64,
}

fn main() {}
