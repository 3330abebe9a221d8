// Tables of any visibility: private ones, and `pub(crate)` / `pub(super)` ones
// referenced from other modules. The generated items share the struct's
// visibility, so they never expose a private type.

use cascadia::{Id, IndexRange, Table};

#[derive(Table)]
struct Local {
    #[primary_key]
    id: i64,
    #[unique]
    code: String,
}

mod teams {
    use cascadia::{Id, Table};

    #[derive(Table)]
    pub(crate) struct Team {
        #[primary_key]
        pub(crate) id: i64,
    }

    pub mod inner {
        use cascadia::{Id, Table};

        #[derive(Table)]
        #[index(columns(team))]
        pub(super) struct Squad {
            #[primary_key]
            id: i64,
            team: Id<super::Team>,
        }

        #[derive(Table)]
        #[index(columns(team))]
        pub(in crate::teams) struct Crew {
            #[primary_key]
            id: i64,
            team: Id<crate::teams::Team>,
        }
    }

    #[derive(Table)]
    #[index(columns(squad))]
    pub(crate) struct Seat {
        #[primary_key]
        pub(crate) id: i64,
        squad: Id<inner::Squad>,
    }
}

#[derive(Table)]
#[index(columns(team))]
#[index(columns(local_code))]
struct Member {
    #[primary_key]
    id: i64,
    team: Id<teams::Team>,
    #[foreign_key(references = Local(code))]
    local_code: String,
}

fn main() {
    let _: IndexRange = Member::indexes().by_team().team().eq(Id::new(1)).into();
    let _: IndexRange = Local::indexes().by_code().code().eq("a").into();
    assert_eq!(Member::META.foreign_keys.len(), 2);
    assert_eq!(teams::Seat::META.foreign_keys[0].referenced_table, "squad");
}
