// C12: a range (`gt`, `ge`, `lt`, `le`, `between`) ends an index query:
// nothing can follow it, and no column can follow the index's last one.

use cascadia::{Id, IndexRange, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(name = "by_team", columns(team_id, joined_at))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

fn main() {
    let team = Id::new(1);
    let _: IndexRange = Member::indexes().by_team().team_id().gt(team).joined_at().eq(5).into();
    let _: IndexRange = Member::indexes().by_team()
        .team_id()
        .eq(team)
        .joined_at()
        .eq(5)
        .team_id()
        .eq(team)
        .into();
}
