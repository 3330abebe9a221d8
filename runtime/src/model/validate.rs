//! Schema validation at run time: the rules `#[derive(Table)]` and
//! `schema![...]` check at compile time, for metadata built or loaded at run
//! time. Every problem is collected, none stops the check; each names its
//! table and columns.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::model::error::SchemaProblem;
use crate::model::metadata::{Action, ColumnDefault, ForeignKeyMeta, IndexRef, Name, TableMeta};
use crate::model::value::{Value, ValueType};

/// Every problem of `tables`, in table order; empty when the schema is valid.
pub(crate) fn validate(tables: &[&TableMeta]) -> Vec<SchemaProblem> {
    let mut problems = Problems::default();
    // two tables with one SQL name: `schema![Team, Team2]` where both are "teams"
    let mut seen = HashSet::new();
    for table in tables {
        if !seen.insert(&*table.name) {
            problems.push(table, &[], "two tables share this name".into());
        }
    }
    let by_name: HashMap<&str, &TableMeta> = tables.iter().map(|t| (&*t.name, *t)).collect();
    for table in tables {
        check_table(table, &mut problems);
        let mut targets = HashSet::new();
        for fk in table.foreign_keys.iter() {
            // one FK per (columns, target): two declarations of members(team_id) → teams
            let columns: BTreeSet<&str> = fk.columns.iter().map(|c| &**c).collect();
            if !targets.insert((columns, &*fk.referenced_table)) {
                problems.push(
                    table,
                    &fk.columns,
                    format!(
                        "two foreign keys on these columns reference `{}`; keep one",
                        fk.referenced_table
                    ),
                );
            }
            check_foreign_key(table, fk, &by_name, &mut problems);
            check_native(table, fk, tables, &mut problems);
        }
    }
    problems.0
}

/// Whether an action writes the referencing rows (the others only refuse).
fn writes_rows(action: Action) -> bool {
    matches!(
        action,
        Action::Cascade | Action::SetNull | Action::SetDefault
    )
}

// a `native` key whose ON UPDATE rewrites columns that another key
// references: albums(artist_id) native ON UPDATE CASCADE, and
// tracks(album_id, artist_id) → albums(id, artist_id). The database
// rewrites those rows without the engine: it could neither count nor
// follow the keys that reference them.
fn check_native(
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    tables: &[&TableMeta],
    problems: &mut Problems,
) {
    if !fk.native || !writes_rows(fk.on_update) {
        return;
    }
    for child in tables {
        for other in child.foreign_keys.iter() {
            if other.referenced_table != table.name {
                continue;
            }
            let shared: Vec<&Name> = fk
                .columns
                .iter()
                .filter(|c| other.referenced_columns.contains(c))
                .collect();
            if !shared.is_empty() {
                problems.push(
                    table,
                    &fk.columns,
                    format!(
                        "the `native` key to `{}` rewrites {} on update, which `{}`({}) references: the database would change keys the engine does not see; let cascadia run this key (drop `native`)",
                        fk.referenced_table,
                        names(&shared),
                        child.name,
                        other.columns.join(", ")
                    ),
                );
                return;
            }
        }
    }
}

#[derive(Default)]
struct Problems(Vec<SchemaProblem>);

impl Problems {
    fn push(&mut self, table: &TableMeta, columns: &[Name], message: String) {
        self.0.push(SchemaProblem {
            table: table.name.clone(),
            columns: columns.to_vec(),
            message,
        });
    }
}

/// Names in `columns` that `table` does not have.
fn missing<'a>(table: &TableMeta, columns: &'a [Name]) -> Vec<&'a Name> {
    columns
        .iter()
        .filter(|c| table.column(c).is_none())
        .collect()
}

fn has_duplicates(columns: &[Name]) -> bool {
    let set: HashSet<&str> = columns.iter().map(|c| &**c).collect();
    set.len() != columns.len()
}

fn names(columns: &[&Name]) -> String {
    columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_table(table: &TableMeta, problems: &mut Problems) {
    if table.columns.is_empty() {
        problems.push(table, &[], "a table needs at least one column".into());
    }
    // duplicate column names: two fields renamed to "id"
    let mut seen = HashSet::new();
    for column in table.columns.iter() {
        if !seen.insert(&*column.name) {
            problems.push(
                table,
                std::slice::from_ref(&column.name),
                "two columns share this name".into(),
            );
        }
        if let Some(default) = &column.default {
            check_default(table, column, default, problems);
        }
    }
    // primary_key(a, zz) where zz is not a column; primary_key() empty
    if table.primary_key.is_empty() {
        problems.push(table, &[], "the primary key has no columns".into());
    }
    let absent = missing(table, &table.primary_key);
    if !absent.is_empty() {
        problems.push(
            table,
            &table.primary_key,
            format!("primary key column(s) {} do not exist", names(&absent)),
        );
    }
    if has_duplicates(&table.primary_key) {
        problems.push(
            table,
            &table.primary_key,
            "the primary key lists a column twice".into(),
        );
    }
    for name in table.primary_key.iter() {
        if table.column(name).is_some_and(|c| c.nullable) {
            problems.push(
                table,
                std::slice::from_ref(name),
                "a primary-key column cannot be nullable (an `Option<_>` field)".into(),
            );
        }
    }
    // #[index(name = "x", columns(...))] twice, or over unknown columns
    let mut index_names = HashSet::new();
    for index in table.indexes.iter() {
        if !index_names.insert(&*index.name) {
            problems.push(
                table,
                &index.columns,
                format!("two indexes are named `{}`", index.name),
            );
        }
        if index.columns.is_empty() {
            problems.push(table, &[], format!("index `{}` has no columns", index.name));
        }
        let absent = missing(table, &index.columns);
        if !absent.is_empty() {
            problems.push(
                table,
                &index.columns,
                format!(
                    "index `{}` lists column(s) {} that do not exist",
                    index.name,
                    names(&absent)
                ),
            );
        }
        if has_duplicates(&index.columns) {
            problems.push(
                table,
                &index.columns,
                format!("index `{}` lists a column twice", index.name),
            );
        }
    }
    if let Some(soft) = &table.soft_delete {
        match table.column(soft) {
            None => problems.push(
                table,
                std::slice::from_ref(soft),
                "the soft-delete column does not exist".into(),
            ),
            Some(column) if !column.nullable || column.value_type != ValueType::Integer => problems
                .push(
                    table,
                    std::slice::from_ref(soft),
                    "the soft-delete column must be an `Option<i64>` (nullable INTEGER)".into(),
                ),
            Some(_) => {}
        }
    }
}

/// Whether a value of class `value` may be stored in a column of class `column`.
pub(crate) fn class_fits(column: ValueType, value: ValueType) -> bool {
    column == value || (column == ValueType::Real && value == ValueType::Integer)
}

// #[column(default = "x")] on an i64 column; default = None on a non-Option column
fn check_default(
    table: &TableMeta,
    column: &crate::model::metadata::ColumnMeta,
    default: &ColumnDefault,
    problems: &mut Problems,
) {
    let value = default.value();
    match value.value_type() {
        None if !column.nullable => problems.push(
            table,
            std::slice::from_ref(&column.name),
            "the default is NULL but the column is not nullable".into(),
        ),
        Some(class) if !class_fits(column.value_type, class) => problems.push(
            table,
            std::slice::from_ref(&column.name),
            format!(
                "the default {value} is {class:?} but the column holds {:?}",
                column.value_type
            ),
        ),
        _ => {}
    }
    if let Value::Real(real) = value {
        if real.is_nan() {
            problems.push(
                table,
                std::slice::from_ref(&column.name),
                "the default is NaN, which SQL stores as NULL".into(),
            );
        }
    }
}

fn check_foreign_key(
    table: &TableMeta,
    fk: &ForeignKeyMeta,
    by_name: &HashMap<&str, &TableMeta>,
    problems: &mut Problems,
) {
    let columns = &fk.columns;
    if columns.is_empty() {
        problems.push(
            table,
            &[],
            format!("a foreign key to `{}` has no columns", fk.referenced_table),
        );
        return;
    }
    let absent = missing(table, columns);
    if !absent.is_empty() {
        problems.push(
            table,
            columns,
            format!(
                "foreign key to `{}`: column(s) {} do not exist",
                fk.referenced_table,
                names(&absent)
            ),
        );
    }
    if has_duplicates(columns) {
        problems.push(
            table,
            columns,
            format!(
                "foreign key to `{}` lists a column twice",
                fk.referenced_table
            ),
        );
    }
    check_actions(table, fk, problems);
    check_index(table, fk, problems);

    // references = Missing: the target is not in the schema
    let Some(parent) = by_name.get(&*fk.referenced_table) else {
        problems.push(
            table,
            columns,
            format!(
                "foreign key references table `{}`, which is not in the schema",
                fk.referenced_table
            ),
        );
        return;
    };
    let referenced = &fk.referenced_columns;
    // references = Team(id, code) where Team has no `code`
    let absent = missing(parent, referenced);
    if !absent.is_empty() {
        problems.push(
            table,
            columns,
            format!(
                "foreign key references column(s) {} that `{}` does not have",
                names(&absent),
                parent.name
            ),
        );
        return;
    }
    if referenced.len() != columns.len() {
        problems.push(
            table,
            columns,
            format!(
                "foreign key has {} column(s) but references {} column(s) of `{}`",
                columns.len(),
                referenced.len(),
                parent.name
            ),
        );
        return;
    }
    // references = Team(name) where `name` is neither the primary key nor unique
    let wanted: BTreeSet<&str> = referenced.iter().map(|c| &**c).collect();
    let is_key = parent
        .unique_keys()
        .any(|key| key.len() == wanted.len() && key.iter().all(|c| wanted.contains(&**c)));
    if !is_key {
        problems.push(
            table,
            columns,
            format!(
                "foreign key references `{}`({}), which is not a primary or unique key",
                parent.name,
                referenced.join(", ")
            ),
        );
    }
    // team_id: String referencing teams.id: i64
    for (child, parent_column) in columns.iter().zip(referenced.iter()) {
        let (Some(c), Some(p)) = (table.column(child), parent.column(parent_column)) else {
            continue;
        };
        if c.value_type != p.value_type {
            problems.push(
                table,
                std::slice::from_ref(child),
                format!(
                    "column holds {:?} but references `{}.{}`, which holds {:?}",
                    c.value_type, parent.name, parent_column, p.value_type
                ),
            );
        }
    }
}

// on_delete = set_null on a non-Option column; set_default without a default
fn check_actions(table: &TableMeta, fk: &ForeignKeyMeta, problems: &mut Problems) {
    for (event, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
        match action {
            Action::SetNull => {
                let not_null: Vec<&Name> = fk
                    .columns
                    .iter()
                    .filter(|c| table.column(c).is_some_and(|c| !c.nullable))
                    .collect();
                if !not_null.is_empty() {
                    problems.push(
                        table,
                        &fk.columns,
                        format!(
                            "{event} = set_null on non-nullable column(s) {}; make them `Option<_>`",
                            names(&not_null)
                        ),
                    );
                }
            }
            Action::SetDefault => {
                let no_default: Vec<&Name> = fk
                    .columns
                    .iter()
                    .filter(|c| table.column(c).is_some_and(|c| c.default.is_none()))
                    .collect();
                if !no_default.is_empty() {
                    problems.push(
                        table,
                        &fk.columns,
                        format!(
                            "{event} = set_default on column(s) {} with no default; add `#[column(default = ...)]`",
                            names(&no_default)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

// index = "by_joined" whose first column is not the FK's; unindexed with cascade
fn check_index(table: &TableMeta, fk: &ForeignKeyMeta, problems: &mut Problems) {
    let serves = |index_columns: &[Name]| cascadia_rules::serves(index_columns, &fk.columns);
    match &fk.index {
        IndexRef::PrimaryKey => {
            if !serves(&table.primary_key) {
                problems.push(
                    table,
                    &fk.columns,
                    format!(
                        "foreign key to `{}` is served by the primary key ({}), whose first columns are not the foreign key's",
                        fk.referenced_table,
                        table.primary_key.join(", ")
                    ),
                );
            }
        }
        IndexRef::Index(name) => match table.index(name) {
            None => problems.push(
                table,
                &fk.columns,
                format!(
                    "foreign key to `{}` names index `{name}`, which does not exist",
                    fk.referenced_table
                ),
            ),
            Some(index) if !serves(&index.columns) => problems.push(
                table,
                &fk.columns,
                format!(
                    "index `{name}` ({}) cannot serve the foreign key to `{}`: its first columns must be the foreign key's",
                    index.columns.join(", "),
                    fk.referenced_table
                ),
            ),
            Some(_) => {}
        },
        IndexRef::Unindexed => {
            let checks_only = |a: Action| matches!(a, Action::Restrict | Action::NoAction);
            if !checks_only(fk.on_delete) || !checks_only(fk.on_update) {
                problems.push(
                    table,
                    &fk.columns,
                    format!(
                        "foreign key to `{}` is unindexed but its actions (on_delete = {}, on_update = {}) must find the referencing rows; add an index",
                        fk.referenced_table,
                        fk.on_delete.attribute(),
                        fk.on_update.attribute()
                    ),
                );
            }
        }
    }
}
