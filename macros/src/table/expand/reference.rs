//! Obligations for rustc: code in a never-called function that compiles only
//! when this table's references to other tables are right (C2–C5), and when
//! its `#[soft_delete]` field is an `Option<i64>`. Each piece is spanned on
//! the user's token it is about, and each message that names this table's
//! columns is a trait generated here with a literal `on_unimplemented`.
//!
//! For `#[foreign_key(columns(org_id, team_code), references = Team(org_id, code))]`:
//!
//! ```text
//! let columns = <<Team as Table>::PrimaryKey as DerivedTable<Team>>::COLUMNS; // C2, C3
//! (&&&&&Probe::<i64, _, Team>::of(&columns.org_id)).check();                // C4, per column
//! markers((columns.code, columns.org_id)).is_key_of::<Team>();              // C5
//! ```
//!
//! Generated trait names show in rustc's "the trait `X` is not implemented
//! for `Y`" lines, so they read as a sentence: `FitsTeamSlug<String>` is not
//! implemented for `i64`; `TeamHasNameKey<(name,)>` is not implemented for `Team`.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::meta::derived;
use super::{private, private_at, respan};
use crate::table::model::{ForeignKey, Table};

/// The checks function, and the traits it and the metadata share.
pub fn checks(table: &Table, keys: &SingleColumnKeys) -> TokenStream {
    let mut names = BTreeSet::new();
    let fks: Vec<TokenStream> = table
        .live_foreign_keys()
        .filter(|fk| !fk.implicit)
        .map(|fk| foreign_key(table, fk, keys, &mut names))
        .collect();
    let soft_delete = table.soft_delete.map(|(c, attribute)| {
        let column = &table.columns[c];
        let ty = &column.ty;
        let span = ty.span();
        let message = format!(
            "`{}.{}` is the `#[soft_delete]` column, so it must be an `Option<i64>`, not `{{Self}}`",
            table.ident.unraw(),
            column.field.unraw()
        );
        let soft_delete = format_ident!("{}SoftDelete", table.names.prefix, span = attribute);
        let check = quote_spanned!(span=> <#ty as #soft_delete>::check(););
        quote_spanned! {attribute=>
            {
                #[diagnostic::on_unimplemented(
                    message = #message,
                    label = "expected `Option<i64>`",
                    note = "the column holds the deletion time in milliseconds since the Unix epoch, or `None` while the row is live"
                )]
                trait #soft_delete {
                    fn check() {}
                }
                impl #soft_delete for ::core::option::Option<i64> {}
                #check
            }
        }
    });
    let key_traits = &keys.definitions;
    quote! {
        #key_traits
        fn __cascadia_checks() {
            #(#fks)*
            #soft_delete
        }
    }
}

/// The traits through which a column reaches the single column of a primary
/// key it references (an `Id<T>` field, or a one-column `references = T`),
/// one per column, with a message naming the column when `T`'s key has
/// several columns.
pub struct SingleColumnKeys {
    /// The trait of each such column.
    pub by_column: BTreeMap<usize, syn::Ident>,
    pub definitions: TokenStream,
}

impl SingleColumnKeys {
    /// `<<T as Table>::PrimaryKey as OneColumnKeyOfT>`: the trait of column
    /// `c`, applied to `T`'s key, spanned on `target`.
    pub fn key(&self, c: usize, target: &syn::Path) -> TokenStream {
        let span = target.span();
        let p = private_at(span);
        let key = &self.by_column[&c];
        quote_spanned!(span=> <<#target as #p::Table>::PrimaryKey as #key>)
    }
}

/// Builds [`SingleColumnKeys`].
pub fn single_column_keys(table: &Table) -> SingleColumnKeys {
    let p = private();
    let mut targets: BTreeMap<usize, &syn::Path> = BTreeMap::new();
    for (c, column) in table.columns.iter().enumerate() {
        if let Some(target) = &column.id {
            targets.insert(c, target);
        }
    }
    for fk in table.live_foreign_keys() {
        if let ([c], None) = (fk.columns.as_slice(), &fk.target_columns) {
            targets.entry(*c).or_insert(&fk.target);
        }
    }
    let mut names = BTreeSet::new();
    let mut by_column = BTreeMap::new();
    let mut definitions = Vec::new();
    for (c, target) in targets {
        let column = &table.columns[c];
        let field = column.field.unraw().to_string();
        let target_name = last_segment(target);
        let mut name = format!("OneColumnKeyOf{target_name}");
        if !names.insert(name.clone()) {
            name = format!("{name}For{}", field.to_upper_camel_case());
            names.insert(name.clone());
        }
        let span = target.span();
        let key = format_ident!("{}", name, span = span);
        let message = format!(
            "`{}.{field}` is one column, but the primary key of `{target_name}` is `{{Self}}`",
            table.ident.unraw()
        );
        let note = format!(
            "reference a composite key from the struct, with one field per key column: `#[foreign_key(columns(...), references = {target_name})]`"
        );
        definitions.push(quote_spanned! {span=>
            #[diagnostic::on_unimplemented(
                message = #message,
                label = "a single column cannot reference a key of several columns",
                note = #note
            )]
            trait #key {
                type Column: #p::ColumnInfo;
                /// Storage class of the key column.
                const VALUE_TYPE: #p::ValueType;
                /// The probe of the key column (`__private::compat`).
                fn probe<F>() -> #p::Probe<F, <Self::Column as #p::ColumnInfo>::Type, #target> {
                    #p::Probe::new()
                }
            }
            #[diagnostic::do_not_recommend]
            impl<K> #key for K
            where
                K: #p::SingleColumnKey<#target>,
                <<K as #p::SingleColumnKey<#target>>::Column as #p::ColumnInfo>::Type: #p::ColumnType,
            {
                type Column = <K as #p::SingleColumnKey<#target>>::Column;
                const VALUE_TYPE: #p::ValueType =
                    <<<K as #p::SingleColumnKey<#target>>::Column as #p::ColumnInfo>::Type as #p::ColumnType>::VALUE_TYPE;
            }
        });
        by_column.insert(c, key);
    }
    SingleColumnKeys {
        by_column,
        definitions: quote!(#(#definitions)*),
    }
}

fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map_or_else(String::new, |segment| segment.ident.unraw().to_string())
}

/// One referencing column and what it references.
struct Pair {
    /// Position of the referencing column.
    column: usize,
    /// A `Probe` of the referenced column, its referencing type left to infer.
    probe: TokenStream,
    /// `Team.slug`, `the primary key of Team`.
    referenced: String,
    /// `TeamSlug`, `TeamKey`: names the generated trait.
    name: String,
    span: Span,
}

/// The obligations of one explicit foreign key. (An implicit `Id<T>` key
/// needs none: its type is `T`'s key by construction, and the metadata already
/// requires `T`'s key to be one column.)
fn foreign_key(
    table: &Table,
    fk: &ForeignKey,
    keys: &SingleColumnKeys,
    names: &mut BTreeSet<String>,
) -> TokenStream {
    let target = &fk.target;
    let target_span = target.span();
    let derived = derived(target);
    let target_name = last_segment(target);
    let table_name = table.ident.unraw().to_string();

    let mut pairs = Vec::new();
    let mut arity_checks = Vec::new();
    match &fk.target_columns {
        Some(referenced) => {
            for (&c, column) in fk.columns.iter().zip(referenced) {
                let span = column.span();
                let p = private_at(span);
                let column_name = column.unraw().to_string();
                pairs.push(Pair {
                    column: c,
                    probe: quote_spanned!(span=> #p::Probe::<_, _, #target>::of(&__columns.#column)),
                    referenced: format!("`{target_name}.{column_name}`"),
                    name: format!("{target_name}{}", column_name.to_upper_camel_case()),
                    span,
                });
            }
        }
        None => {
            let p = private_at(target_span);
            let n = fk.columns.len();
            let arity = format_ident!("{}KeyOf{}Columns", target_name, n, span = target_span);
            if n > 1 {
                let message = format!(
                    "foreign key `{}({})` has {n} columns, but the primary key of `{target_name}` is `{{Self}}`",
                    table.name,
                    table.column_list(&fk.columns)
                );
                let label = format!("not {n} columns");
                let note = format!(
                    "a foreign key pairs its columns one to one with the referenced key; name the referenced columns with `references = {target_name}(a, b, ...)`"
                );
                let params: Vec<syn::Ident> = (0..n).map(|i| format_ident!("K{}", i)).collect();
                let positions: Vec<syn::Ident> = (0..n).map(|i| format_ident!("C{}", i)).collect();
                // Implemented for tuples of `n` markers only, without a
                // bound that could fail: a key of another length is then the
                // one error, with this message, and the projections below it
                // stay silent.
                arity_checks.push(quote_spanned! {target_span=>
                    #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                    trait #arity {
                        #(type #positions;)*
                    }
                    #[diagnostic::do_not_recommend]
                    impl<#(#params),*> #arity for (#(#params,)*) {
                        #(type #positions = #params;)*
                    }
                    impl #arity for #p::Unknown {
                        #(type #positions = #p::Unknown;)*
                    }
                });
            }
            for (i, &c) in fk.columns.iter().enumerate() {
                let probe = if n == 1 {
                    let key = keys.key(c, target);
                    quote_spanned!(target_span=> #key::probe())
                } else {
                    let position = format_ident!("C{}", i, span = target_span);
                    quote_spanned!(target_span=> #p::Probe::<_, <<#derived::PrimaryKeyColumns as #arity>::#position as #p::ColumnInfo>::Type, #target>::new())
                };
                let (referenced, name) = if n == 1 {
                    (
                        format!("the primary key of `{target_name}`"),
                        format!("{target_name}Key"),
                    )
                } else {
                    (
                        format!("column {} of the primary key of `{target_name}`", i + 1),
                        format!("{target_name}Key{}", i + 1),
                    )
                };
                pairs.push(Pair {
                    column: c,
                    probe,
                    referenced,
                    name,
                    span: target_span,
                });
            }
        }
    }

    let to_primary_key = fk.target_columns.is_none();
    let probes: Vec<TokenStream> = pairs.iter().map(|pair| {
        let column = &table.columns[pair.column];
        let ty = &column.ty;
        let field = column.field.unraw().to_string();
        let referenced = &pair.referenced;
        let message = format!(
            "`{table_name}.{field}` has type `{{Self}}`, but it references {referenced} of type `{{R}}`"
        );
        let label = if to_primary_key {
            format!("expected `{{R}}`, `Option<{{R}}>`, `Id<{target_name}>` or `Option<Id<{target_name}>>`")
        } else {
            "expected `{R}` or `Option<{R}>`".to_owned()
        };
        let note = format!(
            "a foreign-key column has the type `T` of the column it references, or `Option<T>`; `Id<{target_name}>` and `Option<Id<{target_name}>>` fit a reference to the primary key of `{target_name}`"
        );
        let mut name = format!("Fits{}", pair.name);
        if !names.insert(name.clone()) {
            name = format!("{name}For{}", field.to_upper_camel_case());
            names.insert(name.clone());
        }
        let span = pair.span;
        let p = private_at(span);
        let fits = format_ident!("{}", name, span = span);
        let check = format_ident!("{}Check", name, span = span);
        let probe = &pair.probe;
        quote_spanned! {span=>
            {
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #fits<R> {}
                #[diagnostic::do_not_recommend]
                impl<F: #p::Unsatisfiable, R> #fits<R> for F {}
                // The last level of the probe: reached only when no rule of
                // `__private::compat` holds.
                trait #check<F, R> {
                    fn check(&self)
                    where
                        F: #fits<R>,
                    {
                    }
                }
                impl<F, R, X> #check<F, R> for #p::Probe<F, R, X> {}
                #[allow(unused_imports)]
                use #p::{IdProbe as _, NullableProbe as _, SameProbe as _, UnknownProbe as _};
                let __probe: #p::Probe<#ty, _, #target> = #probe;
                (&&&&&__probe).check();
            }
        }
    }).collect();

    let unique = fk.target_columns.as_ref().map(|referenced| {
        let mut sorted: Vec<&syn::Ident> = referenced.iter().collect();
        sorted.sort_by_key(|column| column.unraw().to_string());
        let listed = referenced
            .iter()
            .map(|column| column.unraw().to_string())
            .collect::<Vec<_>>();
        let camel: String = listed.iter().map(|column| column.to_upper_camel_case()).collect();
        let listed = listed.join(", ");
        let message = format!(
            "`{target_name}({listed})` is neither the primary key nor a unique key of `{target_name}`"
        );
        let note = format!(
            "a foreign key references the primary key of `{target_name}` or one of its unique keys, in any column order; declare the key on `{target_name}` with `#[unique]` on a field or `#[index(unique, columns({listed}))]`"
        );
        let span = referenced.first().map_or(target_span, Spanned::span);
        let mut name = format!("{target_name}Has{camel}Key");
        while !names.insert(name.clone()) {
            name.push('_');
        }
        let has_key = format_ident!("{}", name, span = span);
        let p = private_at(span);
        // The error lands on the type argument: give it the columns' span.
        let respanned = respan(target.to_token_stream(), span);
        quote_spanned! {span=>
            {
                #[diagnostic::on_unimplemented(message = #message, label = "not a primary or unique key", note = #note)]
                trait #has_key<K> {}
                #[diagnostic::do_not_recommend]
                impl<T: #p::UniqueKey<K>, K> #has_key<K> for T {}
                trait Key<K> {
                    fn is_key_of<T: #has_key<K>>(&self) {}
                }
                impl<K> Key<K> for #p::PhantomData<K> {}
                #p::markers((#(__columns.#sorted,)*)).is_key_of::<#respanned>();
            }
        }
    });
    quote! {
        {
            #(#arity_checks)*
            // Names the columns of the target by field name (C3); the C2 error,
            // if any, is here.
            #[allow(unused_variables)]
            let __columns = #derived::COLUMNS;
            #(#probes)*
            #unique
        }
    }
}
