// The derive adds no inherent item to the struct: the typed index queries
// hang off `Table::indexes()`, so a struct may have methods of any name,
// including the queries' own. When it has its own `indexes`, the queries are
// `<Member as Table>::indexes()`.

use cascadia::{Id, IndexRange, IndexRef, Table};

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(name = "by_team", columns(team_id, joined_at))]
pub struct Member {
    #[primary_key]
    pub id: i64,
    pub team_id: Id<Team>,
    pub joined_at: i64,
}

impl Member {
    pub fn by_team(&self) -> i64 {
        self.team_id.into_key()
    }

    pub fn by_primary_key() -> &'static str {
        "the struct's own"
    }
}

impl Team {
    pub fn indexes(&self) -> usize {
        0
    }
}

fn main() {
    let member = Member { id: 1, team_id: Id::new(7), joined_at: 0 };
    assert_eq!(member.by_team(), 7);
    assert_eq!(Member::by_primary_key(), "the struct's own");
    let range: IndexRange = Member::indexes().by_team().team_id().eq(Id::new(7)).into();
    assert_eq!(range.index, IndexRef::Index("by_team".into()));

    assert_eq!(Team { id: 1 }.indexes(), 0);
    let key: IndexRange = <Team as Table>::indexes().by_primary_key().id().eq(1).into();
    assert_eq!(key.index, IndexRef::PrimaryKey);
}
