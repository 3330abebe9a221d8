// C1: the attributes for existing schemas — `rename_all`, `sql_name`, a
// foreign key's `name` and `native` — reject malformed values, saying what
// is expected; an index name that is not a Rust identifier points to
// `sql_name`.

use cascadia::{Id, Table};

#[derive(Table)]
#[table(rename_all = "Pascal")]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[table(rename_all = PascalCase)]
pub struct League {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(name = "by_team", sql_name = idx_team, columns(team_id))]
#[index(name = "idx-league", columns(league_id))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade, native = true)]
    pub team_id: Id<Team>,
    #[foreign_key(references = League, name = fk_league)]
    pub league_id: Id<League>,
}

fn main() {}
