// `#[soft_delete]` marks the deletion-time column: an `Option<i64>`
// (milliseconds since the Unix epoch, `None` while the row is live).

use cascadia::Table;

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[soft_delete]
    pub deleted: bool,
}

fn main() {}
