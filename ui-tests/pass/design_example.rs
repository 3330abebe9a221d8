// The attribute language of DESIGN.md, as written there, with two additions
// the checks require: `Member` declares the index `by_mentor` that its
// `mentor_id` key names, and `Project` has fields.

use cascadia::{Id, IndexRef, Table};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub slug: String,
    #[soft_delete]
    pub deletion_time: Option<i64>,
    pub org_id: i64,
    #[unique]
    pub code: String,
}

#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id, joined_at))]
#[index(name = "by_mentor", columns(mentor_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub joined_at: i64,
    #[foreign_key(references = Member, on_delete = set_null, index = "by_mentor")]
    pub mentor_id: Option<Id<Member>>,
    #[column(name = "role_code", default = 0)]
    pub role: i32,
}

#[derive(Table)]
#[table(primary_key(org_id, code))]
#[index(unique, columns(org_id, team_code))]
pub struct Org {
    pub org_id: i64,
    pub code: String,
    pub team_code: String,
}

#[derive(Table)]
#[table(primary_key(org_id, code))]
#[foreign_key(columns(org_id, team_code), references = Org(org_id, team_code),
              on_delete = cascade, on_update = cascade)]
#[index(columns(org_id, team_code))]
pub struct Project {
    pub org_id: i64,
    pub code: String,
    pub team_code: String,
}

fn main() {
    let member = Member::META;
    assert_eq!(member.name, "members");
    assert_eq!(member.foreign_keys.len(), 2);
    assert_eq!(member.foreign_keys[0].referenced_table, "teams");
    assert_eq!(member.foreign_keys[0].index, IndexRef::Index("by_team".into()));
    assert_eq!(member.foreign_keys[1].index, IndexRef::Index("by_mentor".into()));
    assert_eq!(member.column("role_code").unwrap().default.as_ref().unwrap().value(), 0.into());
    assert_eq!(Team::META.soft_delete.as_deref(), Some("deletion_time"));
    assert_eq!(Project::META.foreign_keys[0].referenced_columns[..], ["org_id", "team_code"]);
}
