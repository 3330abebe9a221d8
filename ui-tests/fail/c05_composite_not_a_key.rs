// C5: the referenced columns must form the whole primary key or a whole
// unique key; part of a composite key is not a key.

use cascadia::Table;

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[index(columns(team_code))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(code))]
    pub team_code: String,
}

fn main() {}
