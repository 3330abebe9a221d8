// A table that references itself, through `Id<Self>`, a named column, and
// the primary key; and two tables that reference each other.

use cascadia::{Id, Table};

#[derive(Table)]
#[table(name = "employees")]
#[index(columns(manager_id))]
#[index(columns(mentor_code))]
pub struct Employee {
    #[primary_key]
    pub id: i64,
    #[unique]
    pub code: String,
    #[foreign_key(references = Self, on_delete = set_null)]
    pub manager_id: Option<Id<Self>>,
    #[foreign_key(references = Employee(code), on_update = cascade)]
    pub mentor_code: Option<String>,
}

#[derive(Table)]
#[index(columns(owner))]
pub struct Team {
    #[primary_key]
    pub id: i64,
    pub owner: Option<Id<User>>,
}

#[derive(Table)]
#[index(columns(team))]
pub struct User {
    #[primary_key]
    pub id: i64,
    pub team: Id<Team>,
}

fn main() {
    let fks = &Employee::META.foreign_keys;
    assert_eq!(fks.len(), 2);
    assert!(fks.iter().all(|fk| fk.referenced_table == "employees"));
    assert_eq!(fks[1].referenced_columns[..], ["code"]);
    assert_eq!(Team::META.foreign_keys[0].referenced_table, "user");
    assert_eq!(User::META.foreign_keys[0].referenced_table, "team");
}
