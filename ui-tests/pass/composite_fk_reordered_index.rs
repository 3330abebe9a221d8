// An index serves a foreign key whose columns are its first columns in any
// order: `(team_code, org_id)` serves the key on `(org_id, team_code)`, and
// the key may list the referenced columns in another order than the target's
// primary key.

use cascadia::{IndexRef, Table};

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[foreign_key(columns(team_code, org_id), references = Team(code, org_id), on_delete = cascade)]
#[index(name = "by_team", columns(team_code, org_id, created_at))]
pub struct Project {
    #[primary_key]
    pub id: i64,
    pub org_id: i64,
    pub team_code: String,
    pub created_at: i64,
}

fn main() {
    let fk = &Project::META.foreign_keys[0];
    assert_eq!(fk.index, IndexRef::Index("by_team".into()));
    assert_eq!(fk.columns[..], ["team_code", "org_id"]);
    assert_eq!(fk.referenced_columns[..], ["code", "org_id"]);
}
