// C8: a foreign key needs an index whose leading columns are its columns (the
// primary key and unique columns count), so that deleting or updating a
// referenced row finds the referencing rows without scanning the table.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "members")]
#[index(columns(joined_at))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

fn main() {}
