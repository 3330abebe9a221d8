// The type-level mistakes of a struct (a `#[soft_delete]` field that is not
// an `Option<i64>`, a default of another type than its field, a reference to
// a column of another type) are reported in the same build as its attribute
// mistakes, each on the field's type or the token to change.

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
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team(slug), on_delet = cascade)]
    pub team_slug: i64,
    #[soft_delete]
    pub deleted: Option<bool>,
    #[column(default = 1.5)]
    pub rank: i32,
}

fn main() {}
