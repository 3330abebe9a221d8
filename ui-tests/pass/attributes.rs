// The rest of the attribute language: renamed columns, defaults (any
// expression of the field's type), `unindexed` with `restrict`/`no_action`,
// `set_default`, raw identifiers. A default converts into the field's type
// (`"member"` into a `String`).

use cascadia::{Action, Id, IndexRef, Table, ValueType};

const DEFAULT_TEAM: i64 = 1;

fn default_label() -> String {
    "new".to_owned()
}

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    #[column(name = "team_id")]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team, r#type))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = set_default, on_update = cascade)]
    #[column(default = Id::new(DEFAULT_TEAM))]
    pub team: Id<Team>,
    #[foreign_key(references = Team, on_delete = restrict, unindexed)]
    pub audited_by: Option<Id<Team>>,
    #[column(name = "kind", default = "member")]
    pub r#type: String,
    #[column(default = default_label())]
    pub label: String,
    #[column(default = Some(3.5))]
    pub score: Option<f64>,
    pub avatar: Vec<u8>,
    pub active: bool,
}

fn main() {
    let meta = Member::META;
    let team = &meta.foreign_keys[0];
    assert_eq!(team.referenced_columns[..], ["team_id"]);
    assert_eq!(team.on_delete, Action::SetDefault);
    assert_eq!(meta.foreign_keys[1].index, IndexRef::Unindexed);
    let kind = meta.column("kind").unwrap();
    assert_eq!(kind.field, "type");
    assert_eq!(kind.default.as_ref().unwrap().value(), "member".into());
    assert_eq!(meta.column("label").unwrap().default.as_ref().unwrap().value(), "new".into());
    assert_eq!(meta.column("team").unwrap().default.as_ref().unwrap().value(), 1.into());
    assert_eq!(meta.column("avatar").unwrap().value_type, ValueType::Blob);
    assert_eq!(meta.column("score").unwrap().rust_type, "Option<f64>");
    assert_eq!(meta.indexes[0].columns[..], ["team", "kind"]);
}
