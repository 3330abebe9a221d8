//! The metadata `#[derive(Table)]` generates, asserted on the values: names,
//! columns, keys, indexes, and one foreign key per (columns, target) when an
//! explicit `#[foreign_key]` replaces the implicit key of an `Id<T>` field.

use cascadia::{
    Action, ColumnDefault, Id, IndexMeta, IndexRef, Schema, Table, TableMeta, Value, ValueType,
    schema,
};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub slug: String,
    #[soft_delete]
    pub deletion_time: Option<i64>,
}

#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id, joined_at))]
#[index(name = "by_mentor", columns(mentor_id))]
#[index(columns(previous_team))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team_id: Id<Team>,
    pub joined_at: i64,
    #[foreign_key(references = Member, on_delete = set_null, index = "by_mentor")]
    pub mentor_id: Option<Id<Member>>,
    #[column(name = "role_code", default = 0)]
    pub role: i32,
    pub previous_team: Option<Id<Team>>,
}

#[derive(Table)]
#[table(name = "orgs", primary_key(org_id, code))]
pub struct Org {
    pub org_id: i64,
    pub code: String,
}

#[derive(Table)]
#[table(name = "projects", primary_key(org_id, code, number))]
#[foreign_key(columns(org_id, code), references = Org(org_id, code), on_delete = cascade, on_update = cascade)]
pub struct Project {
    pub org_id: i64,
    pub code: String,
    pub number: i64,
}

static SCHEMA: Schema = schema![Team, Member, Org, Project];

fn names<'a>(list: impl IntoIterator<Item = &'a std::borrow::Cow<'static, str>>) -> Vec<&'a str> {
    list.into_iter().map(|name| &**name).collect()
}

#[test]
fn an_explicit_key_on_an_id_field_replaces_the_implicit_one() {
    let fks = &Member::META.foreign_keys;
    // team_id (explicit, replacing Id<Team>), mentor_id (explicit, replacing
    // Id<Member>), previous_team (implicit): one per (columns, target).
    assert_eq!(fks.len(), 3);
    let mut pairs: Vec<(Vec<&str>, &str)> = fks
        .iter()
        .map(|fk| (names(fk.columns.iter()), &*fk.referenced_table))
        .collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 3, "no two keys on the same columns and target");

    let team = fks.iter().find(|fk| fk.columns[..] == ["team_id"]).unwrap();
    assert_eq!(team.referenced_table, "teams");
    assert_eq!(names(team.referenced_columns.iter()), ["id"]);
    assert_eq!(
        team.on_delete,
        Action::Cascade,
        "the explicit key's action wins"
    );
    assert_eq!(team.on_update, Action::NoAction);
    assert_eq!(team.index, IndexRef::Index("by_team".into()));

    let mentor = fks
        .iter()
        .find(|fk| fk.columns[..] == ["mentor_id"])
        .unwrap();
    assert_eq!(mentor.referenced_table, "members");
    assert_eq!(mentor.on_delete, Action::SetNull);
    assert_eq!(mentor.index, IndexRef::Index("by_mentor".into()));

    let previous = fks
        .iter()
        .find(|fk| fk.columns[..] == ["previous_team"])
        .unwrap();
    assert_eq!(previous.on_delete, Action::NoAction);
    assert_eq!(previous.on_update, Action::NoAction);
    assert_eq!(previous.index, IndexRef::Index("by_previous_team".into()));
}

#[test]
fn columns_carry_sql_name_field_type_and_default() {
    let member: &TableMeta = Member::META;
    assert_eq!(member.name, "members");
    assert_eq!(member.type_name, "Member");
    let columns: Vec<(&str, &str, &str, ValueType, bool)> = member
        .columns
        .iter()
        .map(|c| (&*c.name, &*c.field, &*c.rust_type, c.value_type, c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "id", "i64", ValueType::Integer, false),
            ("team_id", "team_id", "Id<Team>", ValueType::Integer, false),
            ("joined_at", "joined_at", "i64", ValueType::Integer, false),
            (
                "mentor_id",
                "mentor_id",
                "Option<Id<Member>>",
                ValueType::Integer,
                true
            ),
            ("role_code", "role", "i32", ValueType::Integer, false),
            (
                "previous_team",
                "previous_team",
                "Option<Id<Team>>",
                ValueType::Integer,
                true
            ),
        ]
    );
    let role = member.column("role_code").unwrap();
    assert!(matches!(role.default, Some(ColumnDefault::Computed(_))));
    assert_eq!(role.default.as_ref().unwrap().value(), Value::Integer(0));
    assert_eq!(member.primary_key[..], ["id"]);
}

#[test]
fn unique_columns_are_unique_indexes_and_keys() {
    let team = Team::META;
    assert_eq!(
        team.indexes[..],
        [IndexMeta {
            name: "by_slug".into(),
            columns: vec!["slug".into()].into(),
            unique: true,
            sql_name: None,
        }]
    );
    let keys: Vec<Vec<&str>> = team.unique_keys().map(names).collect();
    assert_eq!(keys, [vec!["id"], vec!["slug"]]);
    assert_eq!(team.soft_delete.as_deref(), Some("deletion_time"));
    assert!(team.foreign_keys.is_empty());
}

#[test]
fn composite_keys_reference_by_sql_names_and_use_the_primary_key_as_index() {
    assert_eq!(Org::META.primary_key[..], ["org_id", "code"]);
    let fk = &Project::META.foreign_keys[0];
    assert_eq!(fk.referenced_table, "orgs");
    assert_eq!(names(fk.referenced_columns.iter()), ["org_id", "code"]);
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (Action::Cascade, Action::Cascade)
    );
    assert_eq!(fk.index, IndexRef::PrimaryKey);
    let _: <Project as Table>::PrimaryKey = (1_i64, String::new(), 2_i64);
}

#[test]
fn metadata_serialises_as_plain_data() {
    let json = serde_json::to_value(Member::META).unwrap();
    assert_eq!(json["name"], "members");
    assert_eq!(json["columns"][4]["name"], "role_code");
    assert_eq!(
        json["columns"][4]["default"],
        serde_json::json!({ "integer": 0 })
    );
    assert_eq!(json["foreign_keys"][0]["on_delete"], "cascade");
    assert_eq!(
        json["foreign_keys"][0]["index"],
        serde_json::json!({ "index": "by_team" })
    );
    let back: TableMeta = serde_json::from_value(json).unwrap();
    assert_eq!(&back, Member::META);
}

#[test]
fn schema_lists_the_tables_in_order() {
    let names: Vec<&str> = SCHEMA.tables().map(|table| &*table.name).collect();
    assert_eq!(names, ["teams", "members", "orgs", "projects"]);
    assert_eq!(SCHEMA.table("projects").unwrap().type_name, "Project");
}
