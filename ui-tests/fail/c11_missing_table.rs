// C11: `schema![...]` lists every table a foreign key references.

use cascadia::{Id, Schema, Table, schema};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "members")]
#[index(columns(team_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Id<Team>,
}

static SCHEMA: Schema = schema![Member];

fn main() {
    let _ = &SCHEMA;
}
