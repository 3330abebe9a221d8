// C4: a foreign-key column has the type of the column it references: `T`,
// `Option<T>`, or `Id<Target>` / `Option<Id<Target>>` for the target's
// primary key.

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
#[index(columns(team_code))]
#[index(columns(other_team))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(slug))]
    pub team_slug: i64,
    #[foreign_key(references = Team)]
    pub team_code: String,
    #[foreign_key(references = Team(id))]
    pub other_team: Option<String>,
}

fn main() {}
