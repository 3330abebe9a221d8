// C2: `Id<T>` names a table: `T` must derive `Table`.

use cascadia::{Id, Table};

pub struct Team {
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id))]
pub struct Member {
    pub team_id: Id<Team>,
    #[primary_key]
    pub id: i64,
}

fn main() {}
