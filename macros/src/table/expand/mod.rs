//! Stage 4, expand: the model into code, inside one `const _: () = { ... };`
//! that imports the runtime's support module once, as `__cascadia`
//! (`use ::cascadia::__private as __cascadia;`, or the path of
//! `#[table(crate = ...)]`). The derive adds no inherent item to the struct.
//!
//! - [`meta`]: `impl Table` with its metadata, and `DerivedTable`, what the
//!   derives of other tables read about this one;
//! - [`reference`]: the obligations that check this table's references to
//!   others (C2–C5), its `Id<T>` columns, its `#[soft_delete]` type and its
//!   defaults: type-level checks, emitted even when the derive has errors;
//! - [`query`]: the typed index queries (C12).
//!
//! [`table`] expands a valid model; [`fallback`] the errors' companion: a
//! stub `impl Table` and the type-level checks of what parsed.

mod meta;
mod query;
mod reference;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;

use super::model::Table;

/// The whole expansion of a valid table.
pub fn table(table: &Table) -> TokenStream {
    let table_impl = meta::table_impl(table);
    let derived = meta::derived(table);
    let checks = reference::checks(table, &vec![false; table.foreign_keys.len()]);
    let queries = query::queries(table);
    wrap(
        &table.krate,
        quote! {
            #table_impl
            #derived
            #checks
            #queries
        },
    )
}

/// What a failed derive still emits: `impl Table` with an unknown key, under
/// which every check of another table against this one passes, and the
/// type-level checks of what parsed (`table`), except the foreign keys that
/// `rejected` marks: each mistake is one error, and all come in one build.
/// Its `Indexes` is the struct itself, so that a query on it fails as a
/// method missing from the struct.
pub fn fallback(input: &syn::DeriveInput, table: Option<&Table>, rejected: &[bool]) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let type_name = ident.unraw().to_string();
    let checks = table.map(|table| reference::checks(table, rejected));
    let krate = table.map_or_else(
        || syn::parse_quote!(::cascadia),
        |table| table.krate.clone(),
    );
    wrap(
        &krate,
        quote! {
            #[automatically_derived]
            impl __cascadia::Table for #ident {
                type PrimaryKey = __cascadia::Unknown;
                type Indexes = Self;
                const META: &'static __cascadia::TableMeta =
                    &__cascadia::table(#type_name, #type_name, &[], &[], &[], &[], ::core::option::Option::None);
                fn indexes() -> Self {
                    ::core::unreachable!()
                }
            }
            #[automatically_derived]
            impl __cascadia::DerivedTable<#ident> for #ident {
                const TABLE_NAME: &'static str = #type_name;
                const RENAMED: &'static [(&'static str, &'static str)] = &[];
                const PRIMARY_KEY: &'static [__cascadia::Name] = &[];
                const KEYS: &'static [&'static [&'static str]] = &[];
                type KeyColumns = __cascadia::Unknown;
                const STUB: bool = true;
            }
            #checks
        },
    )
}

/// `body` in the anonymous `const` that holds the expansion, with the lints
/// that its shapes trip by design allowed: generated names built from field
/// names, items only some tables use, `pub` items no one can reach by path,
/// paths through `__cascadia` to items the module also imports, query types
/// without `Debug`.
fn wrap(krate: &syn::Path, body: TokenStream) -> TokenStream {
    quote! {
        #[allow(
            non_camel_case_types,
            non_snake_case,
            dead_code,
            unreachable_pub,
            unused_qualifications,
            missing_debug_implementations,
            clippy::all
        )]
        const _: () = {
            use #krate::__private as __cascadia;
            #body
        };
    }
}

/// The spans of the first and the last token of `tokens`: generated tokens
/// spanned from one to the other make an expression that rustc points at
/// exactly as at `tokens` (on stable, a span cannot be joined).
fn span_range(tokens: &impl ToTokens) -> (Span, Span) {
    let mut tokens = tokens.to_token_stream().into_iter();
    let first = tokens
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

/// `<#ty as #trait_>::#item`, spanned as `ty` is written.
fn projection(ty: &syn::Type, trait_: &TokenStream, item: &str) -> TokenStream {
    let (first, last) = span_range(ty);
    let item = syn::Ident::new(item, last);
    let open = quote_spanned!(first=> <);
    let trait_ = respan(trait_.clone(), first);
    let rest = quote_spanned!(first=> as #trait_>::);
    quote!(#open #ty #rest #item)
}

/// A type as written, for messages and `ColumnMeta::rust_type`:
/// `Option<Id<Member>>`.
fn type_string(ty: &impl ToTokens) -> String {
    let mut text = quote!(#ty).to_string();
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// `tokens` with every token spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// `&[Cow::Borrowed("a"), ...]`: a list of names in the metadata.
fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> TokenStream {
    let names = names.into_iter();
    quote!(&[#(__cascadia::Cow::Borrowed(#names)),*])
}
