// C12: a typed index query takes the index's columns in order.

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
    let _: IndexRange = Member::indexes().by_team().joined_at().gt(1_000).into();
}
