// C9: `index = "..."` must name an index of the table.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Member, on_delete = set_null, index = "by_mentor")]
    pub mentor_id: Option<Id<Member>>,
}

fn main() {}
