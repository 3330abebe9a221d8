// `schema![...]` accepts a self-referencing table, works in a `static`, a
// `const` and a function body, and keeps the listed order.

use cascadia::{Id, Schema, Table, schema};

#[derive(Table)]
#[table(name = "categories")]
#[index(columns(parent))]
pub struct Category {
    #[primary_key]
    pub id: i64,
    #[foreign_key(references = Category, on_delete = cascade)]
    pub parent: Option<Id<Category>>,
}

#[derive(Table)]
#[table(name = "products")]
#[index(columns(category))]
pub struct Product {
    #[primary_key]
    pub id: i64,
    pub category: Id<Category>,
}

static SCHEMA: Schema = schema![Category, Product];
const ALONE: Schema = schema![Category];

fn main() {
    let local = schema![Product, Category,];
    let names: Vec<&str> = SCHEMA.tables().map(|table| &*table.name).collect();
    assert_eq!(names, ["categories", "products"]);
    assert_eq!(local.tables().count(), 2);
    assert_eq!(ALONE.table("categories").unwrap().foreign_keys.len(), 1);
}
