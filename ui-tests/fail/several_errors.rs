// All the errors of a struct are reported in one build: an unknown key, an
// unknown column, `set_null` on a non-`Option` column and a foreign key
// without an index, together. The table still implements `Table`, so the
// code using it adds no errors of its own.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id, joined))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = set_null, on_updte = cascade)]
    pub team_id: Id<Team>,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub previous_team: Id<Team>,
    pub joined_at: i64,
}

// A table whose derive failed still implements `Table`: references to it add
// no errors of their own.
#[derive(Table)]
#[index(columns(member))]
#[index(columns(member_joined_at))]
pub struct Badge {
    #[primary_key]
    pub id: i64,
    pub member: Id<Member>,
    #[foreign_key(references = Member(joined_at))]
    pub member_joined_at: i64,
}

fn main() {
    let _ = <Member as Table>::META;
}
