// The generated code passes the lints that strict crates deny.

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    rust_2018_idioms,
    single_use_lifetimes,
    trivial_casts,
    unused_lifetimes
)]
//! A crate with strict lints.

use cascadia::{Id, IndexRange, Table};

/// A team.
#[derive(Debug, Table)]
#[table(name = "teams")]
pub struct Team {
    /// Its key.
    #[primary_key]
    pub id: i64,
    /// Its unique name.
    #[unique]
    pub slug: String,
    /// When it was deleted.
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

/// A member of a team.
#[derive(Debug, Table)]
#[table(primary_key(team, number))]
#[index(name = "by_joined", columns(joined_at, team))]
#[foreign_key(columns(mentor_team, mentor_number), references = Member, on_delete = set_null)]
#[index(columns(mentor_team, mentor_number))]
pub struct Member {
    /// Its team.
    #[foreign_key(references = Team, on_delete = cascade)]
    pub team: Id<Team>,
    /// Its number in the team.
    pub number: i32,
    /// When it joined.
    #[column(default = 0)]
    pub joined_at: i64,
    /// Its mentor's team.
    pub mentor_team: Option<Id<Team>>,
    /// Its mentor's number.
    pub mentor_number: Option<i32>,
    /// A private column.
    note: String,
}

mod private {
    use cascadia::Table;

    #[derive(Debug, Table)]
    pub(crate) struct Hidden {
        #[primary_key]
        id: i64,
    }
}

fn main() {
    let member = Member {
        team: Id::new(1),
        number: 2,
        joined_at: 3,
        mentor_team: None,
        mentor_number: None,
        note: String::new(),
    };
    assert!(member.note.is_empty());
    let _: IndexRange = Member::indexes().by_joined().joined_at().ge(0).into();
    let _ = <private::Hidden as Table>::META;
}
