// `Id<T>` is one column holding `T`'s primary key: `T`'s key must be a single
// column. A composite key is referenced from the struct with one field per
// key column.

use cascadia::{Id, Table};

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[index(columns(team))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team: Id<Team>,
}

fn main() {}
