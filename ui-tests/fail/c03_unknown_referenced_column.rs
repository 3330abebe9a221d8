// C3: a referenced column must exist on the referenced table.

use cascadia::Table;

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub slug: String,
}

#[derive(Table)]
#[index(columns(team_slug))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(slg))]
    pub team_slug: String,
}

fn main() {}
