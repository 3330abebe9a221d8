//! Names in SQL text, shared by the SQL stores: identifier quoting and the
//! names of the indexes cascadia creates.

/// Quotes an SQL identifier: `"name"`, with `"` doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The name a SQL database knows index `index` of table `table` by:
/// `table__index` (index names are global to a SQLite database and to a
/// PostgreSQL schema).
pub fn index_name(table: &str, index: &str) -> String {
    format!("{table}__{index}")
}

/// The name a SQL database knows `index` of `table` by when cascadia
/// creates it: its `sql_name`, else [`index_name`].
pub fn index_sql_name(
    table: &crate::model::metadata::TableMeta,
    index: &crate::model::metadata::IndexMeta,
) -> String {
    index
        .sql_name
        .as_deref()
        .map_or_else(|| index_name(&table.name, &index.name), str::to_owned)
}
