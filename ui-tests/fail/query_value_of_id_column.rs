// A typed index query takes values of the column's type: an `Id<T>` column
// takes an `Id<T>` (`Id::new(1)`), not the bare key.

use cascadia::{Id, IndexRange, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Id<Team>,
}

fn main() {
    let _: IndexRange = Member::indexes().by_team_id().team_id().eq(1).into();
}
