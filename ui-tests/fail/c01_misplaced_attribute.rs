// C1: an attribute in the wrong place (struct vs field) or with arguments it
// does not take is rejected, saying where it goes.

use cascadia::Table;

#[derive(Table)]
#[primary_key]
pub struct Team {
    #[primary_key(id)]
    pub id: i64,
    #[index(columns(slug))]
    pub slug: String,
}

fn main() {}
