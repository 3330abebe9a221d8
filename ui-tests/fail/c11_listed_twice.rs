// C11: a schema lists each table once.

use cascadia::{Table, schema};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

const SCHEMA: cascadia::Schema = schema![Team, Team];

fn main() {
    let _ = SCHEMA;
}
