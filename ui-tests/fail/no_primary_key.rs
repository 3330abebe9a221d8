// Every table has a primary key.

use cascadia::Table;

#[derive(Table)]
pub struct Team {
    pub id: i64,
    pub name: String,
}

fn main() {}
