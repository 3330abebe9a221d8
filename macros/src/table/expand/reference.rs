//! Obligations for rustc: code that compiles only when this table's
//! references to other tables are right (C2–C5), when each `Id<T>` column's
//! `T` has a one-column key, when its `#[soft_delete]` field is an
//! `Option<i64>`, and when each default has its field's type. Each piece is
//! spanned on the user's token it is about; each message that names this
//! table's columns is literal, in a trait generated here or in the `const`
//! that checks it. All of it is emitted even when the derive has errors, so
//! that type errors come in the same build.
//!
//! For `#[foreign_key(columns(org_id, team_code), references = Team(org_id, code))]`:
//!
//! ```text
//! const _: () = {
//!     let _ = |team: Team| {                                        // C2: `Team: Table`
//!         (&&&&&Probe::<i64, _, Team>::of(&team.org_id)).check();   // C3 (the field), C4 (its type)
//!         (&&&&&Probe::<String, _, Team>::of(&team.code)).check();
//!     };
//!     if let Some(message) = unique_key(<Team's KEYS>, &["code", "org_id"], "...") {
//!         concat_panic(&[&message])                                 // C5, when C2–C4 hold
//!     }
//! };
//! ```
//!
//! A reference to a primary key compares the types of its columns instead,
//! and checks its column count in the `const`. An `Id<T>` column checks that
//! `T`'s key has one column, reaching `T` through the column's own type.
//!
//! Generated trait names show in rustc's "the trait `X` is not implemented
//! for `Y`" lines, so they read as a sentence: `FitsTeamSlug<String>` is not
//! implemented for `i64`.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::{projection, respan, type_string};
use crate::table::model::{ForeignKey, Table, same_path};

/// `<<T as Table>::Indexes as DerivedTable<T>>`, every token spanned on
/// the user's path, so that a `T` that is not a table is one error ("`T` is
/// not a table") however often the expansion names it.
pub fn derived_of(target: &syn::Path) -> TokenStream {
    let span = target.span();
    quote_spanned!(span=> <<#target as __cascadia::Table>::Indexes as __cascadia::DerivedTable<#target>>)
}

/// A foreign key on one `Id<T>` (or `Option<Id<T>>`) column to `T`'s
/// primary key: implicit, or explicit with the same `T`. Its column holds
/// `T`'s key by construction, so it needs no check besides the column's.
pub fn trivial_id(table: &Table, fk: &ForeignKey) -> bool {
    match (&fk.columns[..], &fk.target_columns) {
        ([c], None) => table.columns[*c]
            .id
            .as_ref()
            .is_some_and(|target| same_path(target, &fk.target)),
        _ => false,
    }
}

/// The name of the function that computes the default of column `c`.
pub fn default_fn(table: &Table, c: usize) -> syn::Ident {
    format_ident!("__cascadia_default_{}", table.columns[c].field.unraw())
}

/// Every check, except those of the foreign keys that `rejected` marks.
pub fn checks(table: &Table, rejected: &[bool]) -> TokenStream {
    let mut names = BTreeSet::new();
    let defaults = (0..table.columns.len()).map(|c| default(table, c));
    let ids = table.columns.iter().filter(|column| column.id.is_some()).map(|column| {
        let target = column.id.as_ref().expect("filtered");
        let target_name = last_segment(target);
        let before = format!(
            "`{}.{}` is one column, but the primary key of `{target_name}` has ",
            table.ident.unraw(),
            column.field.unraw()
        );
        let after = format!(
            ": reference a composite key from the struct, with one field per key column: `#[foreign_key(columns(...), references = {target_name})]`"
        );
        let key = projection(&column.ty, &quote!(__cascadia::IdColumn), "PRIMARY_KEY");
        let stub = projection(&column.ty, &quote!(__cascadia::IdColumn), "STUB");
        const_check(
            target.span(),
            &TokenStream::new(),
            quote!(__cascadia::key_length(#key, #stub, 1, #before, #after)),
        )
    });
    let fks = table
        .foreign_keys
        .iter()
        .zip(rejected)
        .filter(|(fk, rejected)| !fk.superseded && !**rejected && !trivial_id(table, fk))
        .map(|(fk, _)| foreign_key(table, fk, &mut names))
        .collect::<Vec<_>>();
    let soft_delete = table.soft_delete.map(|(c, attribute)| {
        let column = &table.columns[c];
        let message = format!(
            "`{}.{}` is the `#[soft_delete]` column, so it must be an `Option<i64>`, not `{{Self}}`",
            table.ident.unraw(),
            column.field.unraw()
        );
        let soft_delete = table.names.item("SoftDelete", attribute);
        let check = projection(&column.ty, &quote!(#soft_delete), "check");
        quote_spanned! {attribute=>
            #[diagnostic::on_unimplemented(
                message = #message,
                label = "expected `Option<i64>`",
                note = "the column holds the deletion time in milliseconds since the Unix epoch, or `None` while the row is live"
            )]
            trait #soft_delete {
                fn check() {}
            }
            impl #soft_delete for ::core::option::Option<i64> {}
            fn __cascadia_soft_delete() {
                #check();
            }
        }
    });
    quote! {
        #(#defaults)*
        #(#ids)*
        #(#fks)*
        #soft_delete
    }
}

/// The function that computes the default of column `c`: an expression of
/// the field's type, so that a mismatch is rustc's "expected `T`, found ..."
/// on the expression; a string literal converts into the field's type
/// (`default = "member"` for a `String`), through a trait whose message
/// names the column when it does not.
fn default(table: &Table, c: usize) -> Option<TokenStream> {
    let column = &table.columns[c];
    let expr = column.default.as_ref()?;
    let ty = &column.ty;
    let function = default_fn(table, c);
    let value = match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => {
            let span = lit.span();
            let from_str = table.names.item(
                &format!(
                    "{}FromStr",
                    column.field.unraw().to_string().to_upper_camel_case()
                ),
                span,
            );
            let written = type_string(ty);
            let message = format!(
                "`#[column(default = {})]` is a string, but `{}.{}` has type `{written}`",
                quote!(#lit),
                table.ident.unraw(),
                column.field.unraw(),
            );
            let note = format!(
                "a string default fits a column whose type converts from `&str`, such as `String`; write the default as an expression of the column's type, `{written}`"
            );
            // The error goes on the literal: the token to change.
            let on_literal = respan(quote!(#ty), span);
            let convert = quote_spanned!(span=> <#on_literal as #from_str>::convert(#lit));
            return Some(quote! {
                #[diagnostic::on_unimplemented(
                    message = #message,
                    label = "a string, for a column of type `{Self}`",
                    note = #note
                )]
                trait #from_str {
                    fn convert(value: &'static str) -> Self;
                }
                #[diagnostic::do_not_recommend]
                impl<T: ::core::convert::From<&'static str>> #from_str for T {
                    fn convert(value: &'static str) -> Self {
                        T::from(value)
                    }
                }
                fn #function() -> __cascadia::Value {
                    let value: #ty = #convert;
                    __cascadia::default_value::<#ty>(value)
                }
            });
        }
        _ => quote!(#expr),
    };
    Some(quote! {
        fn #function() -> __cascadia::Value {
            let value: #ty = #value;
            __cascadia::default_value::<#ty>(value)
        }
    })
}

/// A `const` that evaluates `check` (an `Option` of a message) and fails the
/// build with the message, spanned at `span`. `types` are the type-level
/// checks of the same reference: when one fails, rustc does not evaluate the
/// `const`, so that a mistake reported there is not reported again here.
fn const_check(span: Span, types: &TokenStream, check: TokenStream) -> TokenStream {
    quote_spanned! {span=>
        const _: () = {
            #types
            if let ::core::option::Option::Some(message) = #check {
                __cascadia::concat_panic(&[&message])
            }
        };
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

/// The obligations of one explicit foreign key that is not a plain `Id<T>`
/// column (see [`trivial_id`]).
fn foreign_key(table: &Table, fk: &ForeignKey, names: &mut BTreeSet<String>) -> TokenStream {
    let target = &fk.target;
    let target_span = target.span();
    let derived = derived_of(target);
    let target_name = last_segment(target);
    let table_name = table.ident.unraw().to_string();
    let n = fk.columns.len();

    let mut pairs = Vec::new();
    let (check_span, key_check) = match &fk.target_columns {
        Some(referenced) => {
            for (&c, column) in fk.columns.iter().zip(referenced) {
                let span = column.span();
                let column_name = column.unraw().to_string();
                pairs.push(Pair {
                    column: c,
                    probe: quote_spanned!(span=> __cascadia::Probe::<_, _, #target>::of(&__target.#column)),
                    referenced: format!("`{target_name}.{column_name}`"),
                    name: format!("{target_name}{}", column_name.to_upper_camel_case()),
                    span,
                });
            }
            let mut sorted: Vec<String> = referenced
                .iter()
                .map(|column| column.unraw().to_string())
                .collect();
            let listed = sorted.join(", ");
            sorted.sort();
            let message = format!(
                "`{target_name}({listed})` is neither the primary key nor a unique key of `{target_name}`: a foreign key references the primary key of `{target_name}` or one of its unique keys, in any column order; declare the key on `{target_name}` with `#[unique]` on a field or `#[index(unique, columns({listed}))]`"
            );
            let span = referenced.first().map_or(target_span, Spanned::span);
            (
                span,
                quote_spanned!(span=> __cascadia::unique_key(#derived::KEYS, #derived::STUB, &[#(#sorted),*], #message)),
            )
        }
        None => {
            for (i, &c) in fk.columns.iter().enumerate() {
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
                    probe: quote_spanned!(target_span=> __cascadia::Probe::<_, <<#derived::KeyColumns as __cascadia::KeyArity<#n>>::Columns as __cascadia::KeyColumn<#i>>::Type, #target>::new()),
                    referenced,
                    name,
                    span: target_span,
                });
            }
            let (before, after) = if n == 1 {
                let column = table.columns[fk.columns[0]].field.unraw();
                (
                    format!(
                        "`{table_name}.{column}` is one column, but the primary key of `{target_name}` has "
                    ),
                    format!(
                        ": reference a composite key from the struct, with one field per key column: `#[foreign_key(columns(...), references = {target_name})]`"
                    ),
                )
            } else {
                (
                    format!(
                        "foreign key `{}({})` has {n} columns, but the primary key of `{target_name}` has ",
                        table.name,
                        table.column_list(&fk.columns)
                    ),
                    format!(
                        ": a foreign key pairs its columns one to one with the referenced key; name the referenced columns with `references = {target_name}(a, b, ...)`"
                    ),
                )
            };
            (
                target_span,
                quote_spanned!(target_span=> __cascadia::key_length(#derived::PRIMARY_KEY, #derived::STUB, #n, #before, #after)),
            )
        }
    };

    let to_primary_key = fk.target_columns.is_none();
    let probes = pairs.iter().map(|pair| {
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
        let fits = format_ident!("{}", name, span = span);
        let check = format_ident!("{}Check", name, span = span);
        let probe = &pair.probe;
        quote_spanned! {span=>
            {
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #fits<R> {}
                #[diagnostic::do_not_recommend]
                impl<F: __cascadia::Unsatisfiable, R> #fits<R> for F {}
                // The last level of the probe: reached only when no rule of
                // `__private::compat` holds.
                trait #check<F, R> {
                    fn check(&self)
                    where
                        F: #fits<R>,
                    {
                    }
                }
                impl<F, R, X> #check<F, R> for __cascadia::Probe<F, R, X> {}
                #[allow(unused_imports)]
                use __cascadia::{IdProbe as _, NullableProbe as _, SameProbe as _, UnknownProbe as _};
                let __probe: __cascadia::Probe<#ty, _, #target> = #probe;
                (&&&&&__probe).check();
            }
        }
    });
    // A key named by fields reads them from a value of the target (C3).
    let target_value = fk
        .target_columns
        .is_some()
        .then(|| quote!(__target: #target));
    let types = quote! {
        let _ = |#target_value| {
            #(#probes)*
        };
    };
    const_check(check_span, &types, key_check)
}
