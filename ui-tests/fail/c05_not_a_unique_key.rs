// C5: referenced columns must be the primary key or a unique key of the
// referenced table (in any column order).

use cascadia::Table;

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Table)]
#[index(columns(team_name))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(name))]
    pub team_name: String,
}

fn main() {}
