// `#[derive(Table)]` takes a struct with named fields, without generics.

use cascadia::Table;

#[derive(Table)]
pub enum Team {
    A,
}

#[derive(Table)]
pub struct Pair(i64, i64);

#[derive(Table)]
pub struct Wrapper<T> {
    #[primary_key]
    pub id: T,
}

fn main() {}
