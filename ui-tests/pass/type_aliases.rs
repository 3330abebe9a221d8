// Type aliases are resolved before the cross-table checks compare types:
// an alias of the referenced column's type, an alias of the table, an alias
// of an `Option`.

use cascadia::{Id, Table};

type TeamKey = i64;
type Slug = String;
type MaybeSlug = Option<Slug>;
type TeamRef = Id<Team>;

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: TeamKey,
    #[unique]
    pub slug: Slug,
}

type Squad = Team;

#[derive(Table)]
#[index(columns(team_id))]
#[index(columns(team_slug))]
#[index(columns(squad))]
#[index(columns(team_ref))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team)]
    pub team_id: i64,
    #[foreign_key(references = Squad(slug))]
    pub team_slug: MaybeSlug,
    #[foreign_key(references = Squad(id))]
    pub squad: Option<TeamKey>,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_ref: TeamRef,
}

fn main() {
    assert_eq!(Member::META.foreign_keys.len(), 4);
    assert!(Member::META.foreign_keys.iter().all(|fk| fk.referenced_table == "team"));
}
