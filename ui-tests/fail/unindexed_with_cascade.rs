// `unindexed` (a full scan instead of an index) only fits `restrict` and
// `no_action`, which check for referencing rows without changing them.

use cascadia::{Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade, unindexed)]
    pub team_id: Id<Team>,
}

fn main() {}
