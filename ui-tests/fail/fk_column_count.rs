// A foreign key pairs its columns one to one with the referenced columns.

use cascadia::Table;

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[foreign_key(columns(org_id, team_code), references = Team(code))]
#[index(columns(org_id, team_code))]
pub struct Project {
    #[primary_key]
    pub id: i64,
    pub org_id: i64,
    pub team_code: String,
}

fn main() {}
