// C2: `Id<T>` names a table: `T` must derive `Table`. The mistake is one
// error, on the field, however often the derive uses the field's type (here
// in the metadata, an explicit foreign key and an index query).

use cascadia::{Id, Table};

pub struct Team {
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id))]
pub struct Member {
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    #[primary_key]
    pub id: i64,
}

fn main() {}
