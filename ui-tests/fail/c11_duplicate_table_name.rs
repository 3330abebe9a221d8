// C11: no two tables of a schema share a SQL name.

use cascadia::{Table, schema};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "teams")]
pub struct OldTeam {
    #[primary_key]
    pub id: i64,
}

fn main() {
    let _ = schema![Team, OldTeam];
}
