//! Rust names for SQL names: `Order Items` → struct `OrderItems`,
//! `CustomerId` → field `customer_id`, each a valid identifier, distinct
//! within its scope.

use std::collections::BTreeSet;

use cascadia::store::sqlite::introspect::KEYWORDS;
use heck::{ToSnakeCase, ToUpperCamelCase};

/// Names the generated file imports or defines besides the structs.
const TAKEN_TYPES: &[&str] = &[
    "Schema",
    "Table",
    "Serialize",
    "Deserialize",
    "Option",
    "String",
    "Vec",
    "SCHEMA",
];

/// `name` with every character that cannot be in an identifier replaced
/// by `_`, never starting with a digit, never a keyword.
fn identifier(name: &str, prefix: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out == "_" {
        out.insert_str(0, prefix);
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Makes `name` distinct from every name in `taken` (appending `2`, `3`,
/// ...), and takes it.
fn distinct(name: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Struct names for tables, distinct and never one of the file's imports.
pub fn struct_names<'a>(tables: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken: BTreeSet<String> = TAKEN_TYPES.iter().map(|s| (*s).to_owned()).collect();
    tables
        .into_iter()
        .map(|table| distinct(identifier(&table.to_upper_camel_case(), "T"), &mut taken))
        .collect()
}

/// Field names for a table's columns, distinct within the struct.
pub fn field_names<'a>(columns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = BTreeSet::new();
    columns
        .into_iter()
        .map(|column| distinct(identifier(&column.to_snake_case(), "c_"), &mut taken))
        .collect()
}

/// The SQL name the derive gives a struct named `name` by default.
pub fn default_table_name(name: &str) -> String {
    name.to_snake_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_and_distinct() {
        assert_eq!(
            struct_names(["Order Items", "order_items", "2fa", "Schema"]),
            ["OrderItems", "OrderItems2", "T2fa", "Schema2"]
        );
        assert_eq!(
            field_names(["CustomerId", "customer id", "type", "1st"]),
            ["customer_id", "customer_id2", "type_", "c_1st"]
        );
    }
}
