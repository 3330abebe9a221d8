// C1: an unknown key in an attribute is rejected, naming the attribute and
// the keys it accepts.

use cascadia::{Id, Table};

#[derive(Table)]
#[table(name = "teams", primry_key(id))]
pub struct Team {
    #[primary_key]
    pub id: i64,
}

#[derive(Table)]
#[index(columns(team_id), unqiue)]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Team, on_delet = cascade)]
    pub team_id: Id<Team>,
    #[column(nmae = "role_code")]
    pub role: i32,
}

fn main() {}
