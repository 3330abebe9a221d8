// Typed index queries: equality on the index's columns in order, then at
// most one range, on every index and the primary key; arguments convert
// into the column's type.

use std::ops::Bound;

use cascadia::{ColumnRange, Id, IndexRange, IndexRef, Table, Value};

#[derive(Table)]
#[table(name = "teams")]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub slug: String,
}

#[derive(Table)]
#[table(name = "members")]
#[index(name = "by_team", columns(team_id, joined_at, role))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Id<Team>,
    pub joined_at: i64,
    pub role: Option<String>,
}

fn main() {
    let range: IndexRange = Member::indexes().by_team()
        .team_id()
        .eq(Id::new(7))
        .joined_at()
        .between(10, 20)
        .into();
    assert_eq!(range.table, "members");
    assert_eq!(range.index, IndexRef::Index("by_team".into()));
    assert_eq!(range.prefix, vec![Value::Integer(7)]);
    assert_eq!(
        range.range,
        Some(ColumnRange {
            lower: Bound::Included(Value::Integer(10)),
            upper: Bound::Included(Value::Integer(20)),
        })
    );

    let all: IndexRange = Member::indexes().by_team()
        .team_id()
        .eq(Id::new(7))
        .joined_at()
        .eq(10)
        .role()
        .eq("admin")
        .into();
    assert_eq!(all.prefix.len(), 3);
    assert_eq!(all.range, None);

    let whole: IndexRange = Member::indexes().by_team().into();
    assert!(whole.prefix.is_empty());

    let slug: IndexRange = Team::indexes().by_slug().slug().ge("m").into();
    assert_eq!(slug.range.unwrap().lower, Bound::Included(Value::Text("m".into())));
    let key: IndexRange = Team::indexes().by_primary_key().id().lt(100).into();
    assert_eq!(key.index, IndexRef::PrimaryKey);
}
