//! The `IndexRange`s that typed index queries yield: the index, the equality
//! prefix in index order, and the range on the next column, for every range
//! operator, on indexes and primary keys, and the rows they match.

use std::ops::Bound::{self, Excluded, Included, Unbounded};

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
#[table(name = "members", primary_key(team_id, number))]
#[index(name = "by_joined", columns(joined_at, role, score))]
pub struct Member {
    pub team_id: Id<Team>,
    pub number: i32,
    pub joined_at: i64,
    pub role: Option<String>,
    pub score: f64,
}

fn range(lower: Bound<Value>, upper: Bound<Value>) -> Option<ColumnRange> {
    Some(ColumnRange { lower, upper })
}

#[test]
fn each_range_operator_bounds_the_column_after_the_prefix() {
    let query = || {
        Member::indexes()
            .by_joined()
            .joined_at()
            .eq(1_700_000_000_000)
            .role()
    };
    let cases: [(IndexRange, Option<ColumnRange>); 5] = [
        (
            query().gt("b").into(),
            range(Excluded("b".into()), Unbounded),
        ),
        (
            query().ge("b").into(),
            range(Included("b".into()), Unbounded),
        ),
        (
            query().lt("b").into(),
            range(Unbounded, Excluded("b".into())),
        ),
        (
            query().le("b").into(),
            range(Unbounded, Included("b".into())),
        ),
        (
            query().between("a", "c").into(),
            range(Included("a".into()), Included("c".into())),
        ),
    ];
    for (built, expected) in cases {
        assert_eq!(built.table, "members");
        assert_eq!(built.index, IndexRef::Index("by_joined".into()));
        assert_eq!(built.prefix, [Value::Integer(1_700_000_000_000)]);
        assert_eq!(built.range, expected);
    }
}

#[test]
fn equality_on_every_column_is_a_full_prefix_without_range() {
    let built: IndexRange = Member::indexes()
        .by_joined()
        .joined_at()
        .eq(5)
        .role()
        .eq("admin")
        .score()
        .eq(0.5)
        .into();
    assert_eq!(
        built.prefix,
        [
            Value::Integer(5),
            Value::Text("admin".into()),
            Value::Real(0.5)
        ]
    );
    assert_eq!(built.range, None);
}

#[test]
fn a_query_may_stop_anywhere_before_its_range() {
    let whole: IndexRange = Member::indexes().by_joined().into();
    assert!(whole.prefix.is_empty());
    assert_eq!(whole.range, None);
    let first: IndexRange = Member::indexes().by_joined().joined_at().lt(10).into();
    assert!(first.prefix.is_empty());
    assert_eq!(first.range, range(Unbounded, Excluded(Value::Integer(10))));
}

#[test]
fn primary_keys_and_unique_columns_are_indexes_too() {
    let key: IndexRange = Member::indexes()
        .by_primary_key()
        .team_id()
        .eq(Id::new(3))
        .number()
        .between(1, 9)
        .into();
    assert_eq!(key.index, IndexRef::PrimaryKey);
    assert_eq!(key.prefix, [Value::Integer(3)]);
    assert_eq!(
        key.range,
        range(Included(Value::Integer(1)), Included(Value::Integer(9)))
    );

    let slug: IndexRange = Team::indexes()
        .by_slug()
        .slug()
        .eq(String::from("core"))
        .into();
    assert_eq!(slug.index, IndexRef::Index("by_slug".into()));
    assert_eq!(slug.prefix, [Value::Text("core".into())]);
}

#[test]
fn the_range_matches_the_rows_it_describes() {
    let built: IndexRange = Member::indexes()
        .by_joined()
        .joined_at()
        .eq(5)
        .role()
        .ge("m")
        .into();
    let row = |joined: i64, role: Option<&str>| {
        vec![
            Value::Integer(joined),
            role.map_or(Value::Null, Value::from),
            Value::Real(0.0),
        ]
    };
    assert!(built.matches(&row(5, Some("member"))));
    assert!(built.matches(&row(5, Some("m"))));
    assert!(!built.matches(&row(5, Some("admin"))));
    assert!(!built.matches(&row(6, Some("member"))));
    assert!(!built.matches(&row(5, None)), "NULL is in no range");
    assert_eq!(
        built.index_columns(Member::META).unwrap()[..],
        ["joined_at", "role", "score"]
    );
}
