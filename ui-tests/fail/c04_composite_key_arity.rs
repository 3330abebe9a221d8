// C4: a foreign key to a primary key it does not name has as many columns as
// that key, each of the type of the key column it pairs with.

use cascadia::Table;

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[foreign_key(columns(org_id, team_code, extra), references = Team)]
#[foreign_key(columns(team_org, team_code), references = Team)]
#[foreign_key(columns(alone), references = Team)]
#[index(columns(org_id, team_code, extra))]
#[index(columns(team_org, team_code))]
#[index(columns(alone))]
pub struct Project {
    #[primary_key]
    pub id: i64,
    pub org_id: i64,
    pub team_code: String,
    pub extra: i64,
    pub team_org: String,
    pub alone: i64,
}

fn main() {}
