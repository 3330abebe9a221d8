//! Stage 3, check: the rules the derive can decide from one struct, one
//! function each, with an example of the input it rejects. Rules that need
//! another table (C2–C5) are obligations that [`expand`](super::expand) hands
//! to rustc. Every error is spanned on the most specific token and says how
//! to fix it.

use std::collections::BTreeMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::Errors;
use super::model::{ForeignKey, Serving, Table, option_inner, same_path};
use super::parse::{Action, DeletionKind, did_you_mean, list_keys};

/// The most columns of a foreign key to an unnamed primary key: past that,
/// the referenced columns must be named.
pub const MAX_IMPLIED_KEY_COLUMNS: usize = 8;

/// Runs every rule. Returns, for each of `table.foreign_keys`, whether a rule
/// rejected what it references (its column count, or a conflict with another
/// key): the type-level checks of its reference are then not emitted, so that
/// the mistake is one error.
pub fn all(table: &Table, errors: &mut Errors) -> Vec<bool> {
    primary_key(table, errors);
    index_names(table, errors);
    deletion_needs_soft_delete(table, errors);
    let mut rejected: Vec<bool> = table
        .foreign_keys
        .iter()
        .map(|fk| {
            if fk.superseded {
                return false;
            }
            c06_set_null_not_nullable(table, fk, errors);
            c07_set_default_without_default(table, fk, errors);
            c08_fk_without_index(table, fk, errors);
            c09_index_cannot_serve(table, fk, errors);
            unindexed(fk, errors);
            let mut count = darling::Error::accumulator();
            referenced_column_count(table, fk, &mut count);
            count.finish().map_err(|error| errors.push(error)).is_err()
        })
        .collect();
    for f in c10_duplicate_foreign_keys(table, errors) {
        rejected[f] = true;
    }
    rejected
}

/// A soft or scheduled deletion mode sets the `#[soft_delete]` column.
///
/// ```text
/// #[table(deletion = soft)]
/// struct Post { #[primary_key] id: i64 }   // no #[soft_delete] column
/// ```
fn deletion_needs_soft_delete(table: &Table, errors: &mut Errors) {
    let Some(deletion) = table.deletion else {
        return;
    };
    if deletion.kind == DeletionKind::Hard || table.soft_delete.is_some() {
        return;
    }
    errors.push(err(
        deletion.span,
        format!(
            "this deletion mode marks rows deleted, but `{}` has no `#[soft_delete]` column; \
             add one, e.g. `#[soft_delete] deleted_at: Option<i64>`",
            table.ident
        ),
    ));
}

fn err(span: Span, message: impl std::fmt::Display) -> darling::Error {
    darling::Error::custom(message).with_span(&span)
}

/// `members(team_id)`
fn describe(table: &Table, fk: &ForeignKey) -> String {
    format!("`{}({})`", table.name, table.column_list(&fk.columns))
}

fn target_name(fk: &ForeignKey) -> String {
    fk.target.segments.last().map_or_else(
        || fk.target.to_token_stream().to_string(),
        |segment| segment.ident.to_string(),
    )
}

/// Rejects a table without a primary key:
/// `#[derive(Table)] struct Team { id: i64 }`
fn primary_key(table: &Table, errors: &mut Errors) {
    if table.primary_key.is_empty() && !table.broken.table {
        errors.push(err(
            table.ident.span(),
            format!(
                "`{}` has no primary key: mark its key field `#[primary_key]`, or list a composite key with `#[table(primary_key(a, b))]`",
                table.ident
            ),
        ));
    }
}

/// Rejects two indexes with one name, and names that cannot name a query
/// method: `#[index(name = "by-team", columns(team_id))]`
fn index_names(table: &Table, errors: &mut Errors) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for index in &table.indexes {
        if seen.insert(index.name.as_str(), index.span).is_some() {
            let hint = if index.from_unique_field {
                "; give the `#[index]` another `name`"
            } else {
                "; give one another `name = \"...\"`"
            };
            errors.push(err(
                index.span,
                format!(
                    "`{}` has two indexes named `{}`{hint}",
                    table.name, index.name
                ),
            ));
        }
        let is_ident = syn::parse_str::<syn::Ident>(&index.name).is_ok();
        if !is_ident || index.name == "by_primary_key" {
            errors.push(err(
                index.span,
                format!(
                    "index name `{}` cannot name its query method `{}::indexes().{}()`: use a Rust identifier other than `by_primary_key`, such as `by_{}`; the database's own name goes in `sql_name = \"...\"`",
                    index.name,
                    table.ident,
                    index.name,
                    table.column_list(&index.columns).replace(", ", "_")
                ),
            ));
        }
    }
}

/// C6. Rejects `set_null` on a column whose type is not written `Option<...>`:
/// `#[foreign_key(references = Team, on_delete = set_null)] team_id: Id<Team>`
fn c06_set_null_not_nullable(table: &Table, fk: &ForeignKey, errors: &mut Errors) {
    for (action, span) in [
        (fk.on_delete, fk.on_delete_span),
        (fk.on_update, fk.on_update_span),
    ] {
        if action != Action::SetNull {
            continue;
        }
        for &c in &fk.columns {
            let column = &table.columns[c];
            if column.optional {
                continue;
            }
            let ty = column.ty.to_token_stream().to_string().replace(' ', "");
            errors.push(err(
                span.unwrap_or(fk.span),
                format!(
                    "`set_null` needs nullable columns, but `{}.{}` has type `{ty}`: make the field `Option<{ty}>`, or choose another action",
                    table.name, column.name
                ),
            ));
        }
    }
}

/// C7. Rejects `set_default` on a column without `#[column(default = ...)]`:
/// `#[foreign_key(references = Team, on_delete = set_default)] team_id: Id<Team>`
fn c07_set_default_without_default(table: &Table, fk: &ForeignKey, errors: &mut Errors) {
    for (action, span) in [
        (fk.on_delete, fk.on_delete_span),
        (fk.on_update, fk.on_update_span),
    ] {
        if action != Action::SetDefault {
            continue;
        }
        for &c in &fk.columns {
            let column = &table.columns[c];
            if column.default.is_none() {
                errors.push(err(
                    span.unwrap_or(fk.span),
                    format!(
                        "`set_default` needs a default for `{}.{}`: add `#[column(default = ...)]` to the field `{}`",
                        table.name,
                        column.name,
                        column.field.unraw()
                    ),
                ));
            }
        }
    }
}

/// C8. Rejects a foreign key that no index serves (the primary key and the
/// unique columns count), unless it is `unindexed`:
/// `#[foreign_key(references = Team, on_delete = cascade)] team_id: Id<Team>`
/// with no index starting with `team_id`.
fn c08_fk_without_index(table: &Table, fk: &ForeignKey, errors: &mut Errors) {
    // An index or foreign key attribute that failed may be the one meant here.
    let maybe_meant = table.broken.index
        || (fk.implicit && table.broken.foreign_key)
        || table
            .broken_indexes
            .iter()
            .any(|first| first.is_none_or(|c| fk.columns.contains(&c)));
    if fk.serving != Serving::Missing || maybe_meant {
        return;
    }
    let columns = table.column_list(&fk.columns);
    let fields = table.field_list(&fk.columns);
    let leading = if fk.columns.len() == 1 {
        format!("starts with `{columns}`")
    } else {
        format!("starts with `{columns}`, in any order")
    };
    let scan_ok = allows_scan(fk.on_delete) && allows_scan(fk.on_update);
    let unindexed = if scan_ok {
        ", or accept a full scan with `unindexed`"
    } else {
        ""
    };
    // An index that holds the key's columns, but not first: most likely the
    // one meant, in the wrong order. The error goes on it.
    let misordered = table.indexes.iter().find(|index| {
        !index.from_unique_field && fk.columns.iter().all(|c| index.columns.contains(c))
    });
    if let Some(index) = misordered {
        let mut reordered = fk.columns.clone();
        reordered.extend(index.columns.iter().filter(|c| !fk.columns.contains(c)));
        let them = if fk.columns.len() == 1 { "it" } else { "them" };
        errors.push(err(
            index.column_spans[0],
            format!(
                "foreign key {} has no index: index `{}` ({}) holds `{columns}` but does not start with {them}, and an index finds the rows of a foreign key only through its first columns, so deleting or updating a row of `{}` would scan `{}`; reorder the index to `columns({})`, or add `#[index(columns({fields}))]` to `{}`{unindexed}",
                describe(table, fk),
                index.name,
                table.column_list(&index.columns),
                target_name(fk),
                table.name,
                table.field_list(&reordered),
                table.ident,
            ),
        ));
        return;
    }
    errors.push(err(
        fk.span,
        format!(
            "foreign key {} has no index: no index of `{}` {leading} (the primary key and unique columns count), so deleting or updating a row of `{}` would scan `{}`; add `#[index(columns({fields}))]` to `{}`{unindexed}",
            describe(table, fk),
            table.name,
            target_name(fk),
            table.name,
            table.ident,
        ),
    ));
}

/// C9. Rejects `index = "..."` naming no index, or an index whose first
/// columns are not the key's: `#[foreign_key(references = Team, index = "by_joined")]`
/// on `team_id` with `#[index(name = "by_joined", columns(joined_at, team_id))]`.
fn c09_index_cannot_serve(table: &Table, fk: &ForeignKey, errors: &mut Errors) {
    let Some(name) = &fk.index_name else { return };
    match fk.serving {
        Serving::UnknownName if !table.broken.index => {
            let names: Vec<&str> = table
                .indexes
                .iter()
                .map(|index| index.name.as_str())
                .collect();
            let declared = if names.is_empty() {
                "it has no indexes".to_owned()
            } else {
                format!("its indexes are {}", list_keys(&names))
            };
            errors.push(err(
                name.span,
                format!(
                    "`{}` has no index named `{}`{} ({declared}); declare it with `#[index(name = \"{}\", columns({}))]`",
                    table.name,
                    name.value,
                    did_you_mean(&name.value, &names),
                    name.value,
                    table.field_list(&fk.columns),
                ),
            ));
        }
        Serving::CannotServe(i) => {
            let index = &table.indexes[i];
            let n = fk.columns.len();
            let first = table.column_list(&index.columns[..n.min(index.columns.len())]);
            let wanted = table.column_list(&fk.columns);
            let rule = if n == 1 {
                format!(
                    "its first column is `{wanted}`, but `{}` starts with `{first}`",
                    index.name
                )
            } else {
                format!(
                    "its first {n} columns are `{wanted}` in any order, but `{}` starts with `{first}`",
                    index.name
                )
            };
            let serving = table
                .indexes
                .iter()
                .find(|other| super::model::serves(&other.columns, &fk.columns))
                .map_or_else(
                    || {
                        format!(
                            "declare one with `#[index(columns({}))]`",
                            table.field_list(&fk.columns)
                        )
                    },
                    |other| {
                        format!(
                            "index `{}` does, so name it or drop `index = ...`",
                            other.name
                        )
                    },
                );
            errors.push(err(
                name.span,
                format!(
                    "index `{}` ({}) cannot serve foreign key {}: an index serves it when {rule}; {serving}",
                    index.name,
                    table.column_list(&index.columns),
                    describe(table, fk),
                ),
            ));
        }
        _ => {}
    }
}

fn allows_scan(action: Action) -> bool {
    matches!(action, Action::Restrict | Action::NoAction)
}

/// Rejects `unindexed` with an action that must find the referencing rows,
/// and `unindexed` beside `index = "..."`:
/// `#[foreign_key(references = Team, on_delete = cascade, unindexed)]`
fn unindexed(fk: &ForeignKey, errors: &mut Errors) {
    let Some(span) = fk.unindexed else { return };
    if let Some(name) = &fk.index_name {
        errors.push(err(
            span,
            format!(
                "`unindexed` contradicts `index = \"{}\"`: keep one",
                name.value
            ),
        ));
    }
    for (key, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
        if !allows_scan(action) {
            errors.push(err(
                span,
                format!(
                    "`unindexed` only fits `restrict` and `no_action`: `{key} = {}` changes the referencing rows, which needs an index to find them; add an `#[index(...)]` and remove `unindexed`",
                    action.attribute()
                ),
            ));
        }
    }
}

/// Rejects a foreign key whose column count differs from the referenced
/// columns': `#[foreign_key(columns(org_id, team_code), references = Team(code))]`,
/// and an unnamed composite key longer than the derive pairs by position.
fn referenced_column_count(table: &Table, fk: &ForeignKey, errors: &mut Errors) {
    match &fk.target_columns {
        Some(referenced) if referenced.len() != fk.columns.len() => {
            let list = |idents: &[syn::Ident]| {
                idents
                    .iter()
                    .map(|ident| ident.unraw().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            errors.push(err(
                fk.target.span(),
                format!(
                    "foreign key {} has {} column{} but references {} ({}): pair each referencing column with one referenced column",
                    describe(table, fk),
                    fk.columns.len(),
                    if fk.columns.len() == 1 { "" } else { "s" },
                    referenced.len(),
                    list(referenced),
                ),
            ));
        }
        None if fk.columns.len() > MAX_IMPLIED_KEY_COLUMNS => errors.push(err(
            fk.target.span(),
            format!(
                "foreign key {} has {} columns: name the referenced ones, `references = {}(a, b, ...)`",
                describe(table, fk),
                fk.columns.len(),
                target_name(fk)
            ),
        )),
        _ => {}
    }
}

/// C10. Rejects two explicit foreign keys on the same columns, and an explicit
/// key on an `Id<T>` field that references another table than `T`:
/// `#[foreign_key(references = Team)] mentor_id: Option<Id<Member>>`.
/// Returns the positions of the keys it rejected.
fn c10_duplicate_foreign_keys(table: &Table, errors: &mut Errors) -> Vec<usize> {
    let mut rejected = Vec::new();
    if table.broken.foreign_key {
        return rejected;
    }
    let explicit: Vec<(usize, &ForeignKey)> = table
        .foreign_keys
        .iter()
        .enumerate()
        .filter(|(_, fk)| !fk.implicit)
        .collect();
    let sorted_columns = |fk: &ForeignKey| {
        let mut columns = fk.columns.clone();
        columns.sort_unstable();
        columns
    };
    for (i, &(second_at, second)) in explicit.iter().enumerate() {
        if let Some(&(first_at, first)) = explicit[..i]
            .iter()
            .find(|(_, first)| sorted_columns(first) == sorted_columns(second))
        {
            rejected.extend([first_at, second_at]);
            let columns = table.column_list(&second.columns);
            errors.push(err(
                second.span,
                format!(
                    "a second foreign key on `{}({columns})`: a set of columns has at most one foreign key; keep one of the two declarations",
                    table.name
                ),
            ));
            errors.push(err(
                first.span,
                format!(
                    "the first foreign key on `{}({columns})` (see the other error)",
                    table.name
                ),
            ));
        }
    }
    for implicit in table
        .foreign_keys
        .iter()
        .filter(|fk| fk.implicit && !fk.superseded)
    {
        let c = implicit.columns[0];
        for &(at, fk) in &explicit {
            if fk.columns != [c] || same_path(&fk.target, &implicit.target) {
                continue;
            }
            rejected.push(at);
            let column = &table.columns[c];
            let written = |path: &syn::Path| path.to_token_stream().to_string().replace(' ', "");
            let (declared, typed) = (written(&fk.target), written(&implicit.target));
            let optional = option_inner(&column.ty).is_some();
            errors.push(err(
                fk.target.span(),
                format!(
                    "conflicting foreign keys on `{}.{}`: this one references `{declared}`, but the field's type `{}Id<{typed}>{}` references `{typed}`; make them agree (write the same path in both: an alias is not resolved here)",
                    table.name,
                    column.name,
                    if optional { "Option<" } else { "" },
                    if optional { ">" } else { "" },
                ),
            ));
            errors.push(err(
                implicit.target.span(),
                format!(
                    "the field's type makes `{}.{}` a foreign key to `{typed}` (see the other error)",
                    table.name, column.name
                ),
            ));
        }
    }
    rejected
}
