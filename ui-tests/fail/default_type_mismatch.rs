// A `#[column(default = ...)]` converts into the field's type.

use cascadia::Table;

#[derive(Table)]
pub struct Team {
    #[primary_key]
    pub id: i64,
    #[column(default = 1.5)]
    pub size: i32,
}

fn main() {}
