// C12: each column of the index is fixed once, in order; the primary key is
// queried like any index.

use cascadia::{IndexRange, Table};

#[derive(Table)]
#[table(primary_key(org_id, code))]
pub struct Team {
    pub org_id: i64,
    pub code: String,
}

fn main() {
    let _: IndexRange = Team::indexes().by_primary_key().org_id().eq(1).org_id().eq(2).into();
    let _: IndexRange = Team::indexes().by_primary_key().code().eq("a").into();
}
