// C2: `Id<T>` names a table: `T` must derive `Table`. rustc repeats the
// error at each place the derive uses the field's type; the first one is at
// the field.

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
