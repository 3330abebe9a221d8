// A string default (`default = "..."`) fits a column whose type converts
// from `&str`, such as `String`; any other column takes an expression of its
// type.

use cascadia::Table;

#[derive(Table)]
pub struct Member {
    #[primary_key]
    pub id: i64,
    #[column(default = "abc")]
    pub role: i64,
}

fn main() {}
