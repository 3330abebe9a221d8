//! Stage 2, model: the parsed attributes with names resolved. Columns are
//! positions in [`Table::columns`]; SQL names and index names have their
//! defaults; each `Id<T>` field has become an implicit foreign key, marked
//! superseded when an explicit `#[foreign_key]` on the same column and target
//! replaces it; each foreign key knows the index that serves it (or why none
//! does). A name that resolves to nothing is an error here; every other rule is
//! left to [`check`](super::check), which reads this model.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;
use syn::{Expr, GenericArgument, Ident, Path, PathArguments, Type};

use super::Errors;
use super::parse::{
    Action, ActionValue, Broken, ColumnList, DeletionValue, RawTable, Reference, SqlName,
    did_you_mean,
};

/// A table, names resolved.
pub struct Table {
    pub ident: Ident,
    /// The struct's visibility, which the generated items share: they name
    /// its type and its fields' types.
    pub vis: syn::Visibility,
    /// SQL name.
    pub name: String,
    pub columns: Vec<Column>,
    /// Positions of the primary key's columns, in key order (empty only when
    /// an error was reported).
    pub primary_key: Vec<usize>,
    /// Secondary indexes (`#[index]`, then `#[unique]` fields), in declaration order.
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The `#[soft_delete]` column, with the attribute's span.
    pub soft_delete: Option<(usize, Span)>,
    pub broken: Broken,
    /// Indexes left out because a column did not resolve: the position of
    /// their first column, when it resolved. A foreign key that one of them
    /// may have been meant to serve gets no C8 error.
    pub broken_indexes: Vec<Option<usize>>,
    /// Names of the items the derive generates, chosen to shadow nothing the
    /// struct's field types or defaults mention.
    pub names: Names,
    /// The `cascadia` crate: `#[table(crate = path)]`, or `::cascadia`.
    pub krate: Path,
    /// `#[table(deletion = ...)]`: what a plain `delete` does.
    pub deletion: Option<DeletionValue>,
}

/// One column: a field of the struct.
pub struct Column {
    /// The field, as written (`r#type` stays raw).
    pub field: Ident,
    /// The visibility of the items generated for this column: the narrower
    /// of the struct's and the field's, so that they expose no type that the
    /// field keeps private; the struct's for a primary-key column.
    pub vis: syn::Visibility,
    /// SQL name (`#[column(name)]`, default: the field name).
    pub name: String,
    /// The field's type, `Self` replaced by the struct's name.
    pub ty: Type,
    /// `#[column(default = ...)]`, `Self` replaced.
    pub default: Option<Expr>,
    /// The type is written `Option<...>`.
    pub optional: bool,
    /// `T` when the type is written `Id<T>` or `Option<Id<T>>`.
    pub id: Option<Path>,
}

/// A secondary index.
pub struct Index {
    pub name: String,
    /// `sql_name = "..."`: the index's name in the database.
    pub sql_name: Option<String>,
    /// The name's token, or the attribute when the name is the default.
    pub span: Span,
    pub columns: Vec<usize>,
    /// The columns' tokens, in index order.
    pub column_spans: Vec<Span>,
    pub unique: bool,
    /// Declared by `#[unique]` on a field (its name is then always the default).
    pub from_unique_field: bool,
}

/// A foreign key.
pub struct ForeignKey {
    /// Positions of the referencing columns, paired with the referenced ones.
    pub columns: Vec<usize>,
    /// The referenced table, as written (`Self` replaced).
    pub target: Path,
    /// The referenced columns (fields of the target), when named.
    pub target_columns: Option<Vec<Ident>>,
    pub on_delete: Action,
    /// The action's token, when written.
    pub on_delete_span: Option<Span>,
    pub on_update: Action,
    pub on_update_span: Option<Span>,
    /// `index = "..."`.
    pub index_name: Option<SqlName>,
    /// `unindexed`, with its token.
    pub unindexed: Option<Span>,
    /// `name = "..."`: the constraint's name.
    pub name: Option<String>,
    /// `native`, with its token: the database runs the actions.
    pub native: Option<Span>,
    /// The attribute's name (explicit) or the field (implicit `Id<T>`).
    pub span: Span,
    /// From an `Id<T>` field rather than a `#[foreign_key]`.
    pub implicit: bool,
    /// An implicit key replaced by an explicit one on the same column and target.
    pub superseded: bool,
    /// The index that finds referencing rows.
    pub serving: Serving,
}

/// The access path of a foreign key (C8, C9).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Serving {
    PrimaryKey,
    Index(usize),
    /// `unindexed` and no index serves.
    Unindexed,
    /// No index serves and `unindexed` is absent (C8).
    Missing,
    /// `index = "..."` names no index.
    UnknownName,
    /// `index = "..."` names an index whose prefix is not the key's columns (C9).
    CannotServe(usize),
}

/// Names of generated items: `Member`, then a suffix (`MemberIndexes`,
/// `MemberByTeam`), each made fresh against the identifiers that the struct's
/// field types and defaults mention, which the expansion repeats.
pub struct Names {
    /// The struct's name, unraw: `Member`.
    base: String,
    used: BTreeSet<String>,
}

impl Names {
    /// `{base}{suffix}`, with `_` appended until it shadows nothing.
    pub fn item(&self, suffix: &str, span: Span) -> Ident {
        let mut name = format!("{}{suffix}", self.base);
        while self.used.contains(&name) {
            name.push('_');
        }
        Ident::new(&name, span)
    }
}

impl Table {
    /// The primary key's SQL column names.
    pub fn primary_key_names(&self) -> Vec<&str> {
        self.primary_key
            .iter()
            .map(|&c| self.columns[c].name.as_str())
            .collect()
    }

    /// Foreign keys that end up in the metadata.
    pub fn live_foreign_keys(&self) -> impl Iterator<Item = &ForeignKey> {
        self.foreign_keys.iter().filter(|fk| !fk.superseded)
    }

    /// SQL names of some columns, `a, b`.
    pub fn column_list(&self, columns: &[usize]) -> String {
        columns
            .iter()
            .map(|&c| self.columns[c].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Rust field names of some columns, `a, b`.
    pub fn field_list(&self, columns: &[usize]) -> String {
        columns
            .iter()
            .map(|&c| self.columns[c].field.unraw().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Builds the model, reporting names that resolve to nothing.
pub fn build(raw: RawTable, errors: &mut Errors) -> Table {
    let ident = raw.ident;
    let mut self_replacer = ReplaceSelf(ident.clone());
    let columns: Vec<Column> = raw
        .fields
        .iter()
        .map(|field| {
            let mut ty = field.ty.clone();
            self_replacer.visit_type_mut(&mut ty);
            let default = field.column.default.as_ref().map(|default| {
                let mut expr = default.0.clone();
                self_replacer.visit_expr_mut(&mut expr);
                expr
            });
            let optional = option_inner(&ty).is_some();
            let id = id_target(&ty);
            Column {
                field: field.ident.clone(),
                vis: narrower(&raw.vis, &field.vis),
                name: field.column.name.as_ref().map_or_else(
                    || {
                        let field = field.ident.unraw().to_string();
                        match raw.table.rename_all {
                            Some(case) => case.apply(&field),
                            None => field,
                        }
                    },
                    |name| name.value.clone(),
                ),
                ty,
                default,
                optional,
                id,
            }
        })
        .collect();
    let resolver = Resolver {
        table: &ident,
        columns: &columns,
    };

    // The primary key: `#[primary_key]` fields, or `#[table(primary_key(...))]`.
    let marked: Vec<usize> = raw
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| field.primary_key.is_some())
        .map(|(c, _)| c)
        .collect();
    let primary_key = match &raw.table.primary_key {
        Some(list) => {
            if let Some(&first) = marked.first() {
                errors.push(
                    darling::Error::custom(
                        "the primary key is declared twice: here and by `#[table(primary_key(...))]`; keep one",
                    )
                    .with_span(&raw.fields[first].primary_key.unwrap_or_else(Span::call_site)),
                );
            }
            resolver.list(list, "primary key", errors)
        }
        None => marked,
    };

    // Indexes: `#[index(...)]` in order, then `#[unique]` fields.
    let mut indexes = Vec::new();
    let mut broken_indexes = Vec::new();
    for index in &raw.indexes {
        let Some(list) = &index.columns else {
            errors.push(
                darling::Error::custom("`#[index(...)]` needs `columns(...)`, e.g. `#[index(columns(team_id, joined_at))]`")
                    .with_span(&index.span.unwrap_or_else(Span::call_site)),
            );
            continue;
        };
        let positions = resolver.list(list, "index", errors);
        if positions.len() != list.columns.len() {
            broken_indexes.push(list.columns.first().and_then(|first| resolver.find(first)));
            continue;
        }
        let name = index.name.as_ref().map_or_else(
            || default_index_name(&columns, &positions),
            |name| name.value.clone(),
        );
        indexes.push(Index {
            name,
            sql_name: index.sql_name.as_ref().map(|name| name.value.clone()),
            span: index
                .name
                .as_ref()
                .map(|name| name.span)
                .or(index.span)
                .unwrap_or_else(Span::call_site),
            columns: positions,
            column_spans: list.columns.iter().map(Ident::span).collect(),
            unique: index.unique.is_some(),
            from_unique_field: false,
        });
    }
    for (c, field) in raw.fields.iter().enumerate() {
        if let Some(span) = field.unique {
            indexes.push(Index {
                name: default_index_name(&columns, &[c]),
                sql_name: None,
                span,
                columns: vec![c],
                column_spans: vec![field.ident.span()],
                unique: true,
                from_unique_field: true,
            });
        }
    }

    // `#[soft_delete]`.
    let mut soft_delete = None;
    for (c, field) in raw.fields.iter().enumerate() {
        if let Some(span) = field.soft_delete {
            if soft_delete.is_some() {
                errors.push(
                    darling::Error::custom("a table has at most one `#[soft_delete]` column")
                        .with_span(&span),
                );
            } else {
                soft_delete = Some((c, span));
            }
        }
    }

    // Foreign keys: explicit ones (struct level, then field level), then the
    // implicit one of each `Id<T>` field.
    let mut foreign_keys = Vec::new();
    let mut raw_broken_foreign_key = false;
    for (span, fk) in &raw.foreign_keys {
        let Some(list) = &fk.columns else {
            errors.push(
                darling::Error::custom(
                    "a `#[foreign_key(...)]` on the struct needs `columns(...)`: the referencing fields; on a field, the field is the column",
                )
                .with_span(span),
            );
            continue;
        };
        let positions = resolver.list(list, "foreign key", errors);
        if positions.len() != list.columns.len() {
            raw_broken_foreign_key = true;
            continue;
        }
        if let Some(fk) = explicit(&ident, *span, positions, fk, errors) {
            foreign_keys.push(fk);
        }
    }
    for (c, field) in raw.fields.iter().enumerate() {
        for (span, fk) in &field.foreign_keys {
            if let Some(fk) = explicit(&ident, *span, vec![c], fk, errors) {
                foreign_keys.push(fk);
            }
        }
    }
    let explicit_count = foreign_keys.len();
    for (c, column) in columns.iter().enumerate() {
        let Some(target) = &column.id else { continue };
        let superseded = foreign_keys[..explicit_count]
            .iter()
            .any(|fk| fk.columns == [c] && same_path(&fk.target, target));
        foreign_keys.push(ForeignKey {
            columns: vec![c],
            target: target.clone(),
            target_columns: None,
            on_delete: Action::NoAction,
            on_delete_span: None,
            on_update: Action::NoAction,
            on_update_span: None,
            index_name: None,
            unindexed: None,
            name: None,
            native: None,
            span: column.field.span(),
            implicit: true,
            superseded,
            serving: Serving::Missing,
        });
    }

    let mut broken = raw.broken;
    broken.foreign_key |= raw_broken_foreign_key;
    let krate = raw
        .table
        .krate
        .as_ref()
        .map_or_else(|| syn::parse_quote!(::cascadia), |krate| krate.0.clone());
    let mut table = Table {
        krate,
        deletion: raw.table.deletion,
        names: names(&ident, &columns),
        name: raw.table.name.as_ref().map_or_else(
            || ident.to_string().to_snake_case(),
            |name| name.value.clone(),
        ),
        ident,
        vis: raw.vis,
        columns,
        primary_key,
        indexes,
        foreign_keys,
        soft_delete,
        broken,
        broken_indexes,
    };
    // The key's types are public through `Table::PrimaryKey`: its columns'
    // items have the struct's visibility, whatever the fields'.
    for &c in &table.primary_key {
        table.columns[c].vis = table.vis.clone();
    }
    for f in 0..table.foreign_keys.len() {
        table.foreign_keys[f].serving = serving_index(&table, &table.foreign_keys[f]);
    }
    table
}

fn explicit(
    table: &Ident,
    span: Span,
    columns: Vec<usize>,
    fk: &super::parse::ForeignKeyAttr,
    errors: &mut Errors,
) -> Option<ForeignKey> {
    let Some(Reference {
        table: target,
        columns: target_columns,
    }) = fk.references.clone()
    else {
        errors.push(
            darling::Error::custom(
                "`#[foreign_key(...)]` needs `references = Table`: the table it points to (its primary key), or `references = Table(a, b)` for other columns",
            )
            .with_span(&span),
        );
        return None;
    };
    let mut target = target;
    ReplaceSelf(table.clone()).visit_path_mut(&mut target);
    let action = |value: Option<ActionValue>| {
        value.map_or((Action::NoAction, None), |value| {
            (value.action, Some(value.span))
        })
    };
    let (on_delete, on_delete_span) = action(fk.on_delete);
    let (on_update, on_update_span) = action(fk.on_update);
    Some(ForeignKey {
        columns,
        target,
        target_columns,
        on_delete,
        on_delete_span,
        on_update,
        on_update_span,
        index_name: fk.index.clone(),
        unindexed: fk.unindexed.map(|flag| flag.0),
        name: fk.name.as_ref().map(|name| name.value.clone()),
        native: fk.native.map(|flag| flag.0),
        span,
        implicit: false,
        superseded: false,
        serving: Serving::Missing,
    })
}

/// The prefix rule (one definition, shared with the runtime): an index
/// serves an equality lookup on `columns` exactly when they are, as a set,
/// the index's first `columns.len()` columns.
pub use cascadia_rules::serves;

/// The index that serves `fk`: the named one, else the shortest serving one
/// (ties: the primary key, then declaration order), else `unindexed`.
fn serving_index(table: &Table, fk: &ForeignKey) -> Serving {
    if let Some(name) = &fk.index_name {
        return match table
            .indexes
            .iter()
            .position(|index| index.name == name.value)
        {
            Some(i) if serves(&table.indexes[i].columns, &fk.columns) => Serving::Index(i),
            Some(i) => Serving::CannotServe(i),
            None => Serving::UnknownName,
        };
    }
    let primary_key = (!table.primary_key.is_empty() && serves(&table.primary_key, &fk.columns))
        .then_some((table.primary_key.len(), Serving::PrimaryKey));
    let indexes = table
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, index)| serves(&index.columns, &fk.columns))
        .map(|(i, index)| (index.columns.len(), Serving::Index(i)));
    // `min_by_key` keeps the first of equal keys: the primary key, then
    // declaration order.
    primary_key
        .into_iter()
        .chain(indexes)
        .min_by_key(|(len, _)| *len)
        .map_or(
            if fk.unindexed.is_some() {
                Serving::Unindexed
            } else {
                Serving::Missing
            },
            |(_, serving)| serving,
        )
}

/// `by_<columns joined with _>`, with SQL column names in snake_case (a
/// query method's name: `ArtistId` gives `by_artist_id`).
fn default_index_name(columns: &[Column], positions: &[usize]) -> String {
    let names: Vec<String> = positions
        .iter()
        .map(|&c| columns[c].name.to_snake_case())
        .collect();
    format!("by_{}", names.join("_"))
}

struct Resolver<'a> {
    table: &'a Ident,
    columns: &'a [Column],
}

impl Resolver<'_> {
    /// The position of the column named `ident`.
    fn find(&self, ident: &Ident) -> Option<usize> {
        let written = ident.unraw();
        self.columns
            .iter()
            .position(|column| column.field.unraw() == written)
    }

    /// Resolves the columns of a list; reports unknown and repeated ones and
    /// leaves them out.
    fn list(&self, list: &ColumnList, what: &str, errors: &mut Errors) -> Vec<usize> {
        let mut positions = Vec::new();
        for ident in &list.columns {
            let written = ident.unraw().to_string();
            match self
                .columns
                .iter()
                .position(|column| column.field.unraw() == written)
            {
                Some(c) if positions.contains(&c) => errors.push(
                    darling::Error::custom(format!(
                        "column `{written}` is listed twice in this {what}"
                    ))
                    .with_span(ident),
                ),
                Some(c) => positions.push(c),
                None => {
                    let fields: Vec<String> = self
                        .columns
                        .iter()
                        .map(|column| column.field.unraw().to_string())
                        .collect();
                    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                    errors.push(
                        darling::Error::custom(format!(
                            "`{}` has no field `{written}`{}; columns are named after the struct's fields",
                            self.table,
                            did_you_mean(&written, &fields)
                        ))
                        .with_span(ident),
                    );
                }
            }
        }
        positions
    }
}

/// Whether two paths name the same type as written.
pub fn same_path(a: &Path, b: &Path) -> bool {
    let text = |path: &Path| {
        let mut text = path.to_token_stream().to_string();
        for prefix in ["self :: ", ":: "] {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest.to_owned();
            }
        }
        text
    };
    text(a) == text(b)
}

/// `T` of `Option<T>`, as written.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    single_generic(ty, "Option")
}

/// `T` of a type written `Id<T>` or `Option<Id<T>>`.
fn id_target(ty: &Type) -> Option<Path> {
    let ty = option_inner(ty).unwrap_or(ty);
    match single_generic(ty, "Id")? {
        Type::Path(path) if path.qself.is_none() => Some(path.path.clone()),
        _ => None,
    }
}

/// The one type argument of a path type whose last segment is `name`.
fn single_generic<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// Replaces `Self` with the struct's name: generated items are not inside an
/// `impl` of the struct, where `Self` would mean it.
struct ReplaceSelf(Ident);

impl VisitMut for ReplaceSelf {
    fn visit_path_mut(&mut self, path: &mut Path) {
        if let Some(first) = path.segments.first_mut() {
            if first.ident == "Self" {
                first.ident = Ident::new(&self.0.to_string(), first.ident.span());
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        mac.tokens = replace_self_tokens(mac.tokens.clone(), &self.0);
    }
}

fn replace_self_tokens(tokens: TokenStream, table: &Ident) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(ident) if ident == "Self" => {
                TokenTree::Ident(Ident::new(&table.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut replaced = proc_macro2::Group::new(
                    group.delimiter(),
                    replace_self_tokens(group.stream(), table),
                );
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}

/// Names for generated items that shadow nothing the user's types mention.
fn names(table: &Ident, columns: &[Column]) -> Names {
    let mut used = BTreeSet::new();
    for column in columns {
        collect_idents(column.ty.to_token_stream(), &mut used);
        if let Some(default) = &column.default {
            collect_idents(default.to_token_stream(), &mut used);
        }
    }
    Names {
        base: table.unraw().to_string().to_upper_camel_case(),
        used,
    }
}

fn collect_idents(tokens: TokenStream, used: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                used.insert(ident.to_string());
            }
            TokenTree::Group(group) => collect_idents(group.stream(), used),
            _ => {}
        }
    }
}

/// The narrower of two visibilities, as far as their syntax tells: private
/// beats restricted beats `pub`; of two restricted ones, `field`.
fn narrower(table: &syn::Visibility, field: &syn::Visibility) -> syn::Visibility {
    use syn::Visibility::{Inherited, Public, Restricted};
    match (table, field) {
        (Inherited, _) | (_, Inherited) => Inherited,
        (Public(_), other) | (other, Public(_)) => other.clone(),
        (Restricted(_), Restricted(_)) => field.clone(),
    }
}
