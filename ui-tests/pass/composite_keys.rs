// Composite primary keys, a composite foreign key to a composite primary key
// (named or implied), and a composite unique key.

use cascadia::{IndexRef, Table};

#[derive(Table)]
#[table(name = "teams", primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
    #[unique]
    pub slug: String,
}

#[derive(Table)]
#[table(name = "projects", primary_key(org_id, team_code, number))]
#[foreign_key(columns(org_id, team_code), references = Team, on_delete = cascade)]
pub struct Project {
    pub org_id: i64,
    pub team_code: String,
    pub number: i32,
}

#[derive(Table)]
#[table(name = "tasks")]
#[foreign_key(columns(org_id, team_code), references = Team(org_id, code), on_delete = restrict)]
#[foreign_key(columns(org_id, team_code, project), references = Project, on_delete = cascade)]
#[index(columns(org_id, team_code, project))]
pub struct Task {
    #[primary_key]
    pub id: i64,
    pub org_id: i64,
    pub team_code: String,
    pub project: Option<i32>,
}

fn main() {
    assert_eq!(Team::META.primary_key[..], ["org_id", "code"]);
    let project = &Project::META.foreign_keys[0];
    assert_eq!(project.referenced_columns[..], ["org_id", "code"]);
    // The primary key (org_id, team_code, number) starts with the key's columns.
    assert_eq!(project.index, IndexRef::PrimaryKey);
    let task = &Task::META.foreign_keys;
    // Both keys are served by the one index: the shortest serving index.
    assert_eq!(task[0].index, IndexRef::Index("by_org_id_team_code_project".into()));
    assert_eq!(task[1].referenced_columns[..], ["org_id", "team_code", "number"]);
}
