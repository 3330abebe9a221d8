// C10: an explicit foreign key on an `Id<T>` field replaces the implicit one
// only if it references the same `T`; another target is a conflict.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns(mentor_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = set_null)]
    pub mentor_id: Option<Id<Member>>,
}

fn main() {}
