// `Option<Id<T>>` and `Id<T>` fields are implicit foreign keys to `T`'s
// primary key (`no_action`); an `Option` column may reference a plain one.

use cascadia::{Action, Id, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub slug: String,
}

#[derive(Table)]
#[index(columns(team_id))]
#[index(columns(previous_team))]
#[index(columns(team_slug))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Option<Id<Team>>,
    #[foreign_key(references = Team, on_delete = set_null)]
    pub previous_team: Option<Id<Team>>,
    #[foreign_key(references = Team(slug), on_update = cascade, on_delete = set_null)]
    pub team_slug: Option<String>,
}

fn main() {
    let fks = &Member::META.foreign_keys;
    assert_eq!(fks.len(), 3);
    assert!(Member::META.column("team_id").unwrap().nullable);
    let implicit = fks.iter().find(|fk| fk.columns[..] == ["team_id"]).unwrap();
    assert_eq!(implicit.on_delete, Action::NoAction);
    let explicit = fks.iter().find(|fk| fk.columns[..] == ["previous_team"]).unwrap();
    assert_eq!(explicit.on_delete, Action::SetNull);
}
