//! Stage 4, expand: a checked model into code. Reads only a valid model
//! (every error was reported before); refers to the runtime only through
//! `::cascadia::__private`. Everything goes inside one `const _: () = { ... };`
//! except the query entry points, which are inherent functions of the struct.
//!
//! - [`meta`]: the column markers, the columns struct, `impl Table` and its
//!   metadata, and what other derives need to reference this table;
//! - [`reference`]: the obligations that check this table's references to
//!   others (C2–C5) and its `#[soft_delete]` type;
//! - [`query`]: the typed index queries (C12).

mod meta;
mod query;
mod reference;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use super::model::Table;

/// `::cascadia::__private`
fn private() -> TokenStream {
    quote!(::cascadia::__private)
}

/// `::cascadia::__private`, spanned at `span`: an error on a path that starts
/// with it lands on `span` (the user's token) instead of the derive.
fn private_at(span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned!(span=> ::cascadia::__private)
}

/// The whole expansion of a valid table.
pub fn table(table: &Table) -> TokenStream {
    let markers = meta::markers(table);
    let columns = meta::columns(table);
    let single_column_keys = reference::single_column_keys(table);
    let table_impl = meta::table_impl(table, &single_column_keys);
    let keys = meta::keys(table);
    let checks = reference::checks(table, &single_column_keys);
    let queries = query::queries(table);
    // The lints that the generated shapes trip by design: markers named after
    // fields, items only some tables use, the `'a` of the query bounds.
    quote! {
        #[allow(
            non_camel_case_types,
            non_snake_case,
            dead_code,
            single_use_lifetimes,
            unreachable_pub,
            clippy::all
        )]
        const _: () = {
            #markers
            #columns
            #table_impl
            #keys
            #checks
            #queries
        };
    }
}

/// What a failed derive still emits: `impl Table` with an unknown key, and the
/// reference items under which every check passes, so that the only errors
/// are the real ones.
pub fn stub(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let p = private();
    let ident = &input.ident;
    let type_name = ident.unraw().to_string();
    let fields: Vec<&syn::Ident> = match &input.data {
        syn::Data::Struct(data) => data
            .fields
            .iter()
            .filter_map(|f| f.ident.as_ref())
            .collect(),
        _ => Vec::new(),
    };
    let columns = format_ident!("{}Columns", ident.unraw());
    let vis = &input.vis;
    quote! {
        #[allow(non_camel_case_types, non_snake_case, dead_code, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl #p::Table for #ident {
                type PrimaryKey = #p::Unknown;
                const META: &'static #p::TableMeta = &#p::TableMeta {
                    name: #p::Cow::Borrowed(#type_name),
                    type_name: #p::Cow::Borrowed(#type_name),
                    columns: #p::Cow::Borrowed(&[]),
                    primary_key: #p::Cow::Borrowed(&[]),
                    indexes: #p::Cow::Borrowed(&[]),
                    foreign_keys: #p::Cow::Borrowed(&[]),
                    soft_delete: ::core::option::Option::None,
                };
            }
            #vis struct #columns { #(#vis #fields: #p::Column<#p::Unknown>,)* }
            #[automatically_derived]
            impl #p::DerivedTable<#ident> for #p::Unknown {
                const TABLE_NAME: &'static str = #type_name;
                type Columns = #columns;
                const COLUMNS: #columns = #columns { #(#fields: #p::Column::new(),)* };
                type PrimaryKeyColumns = #p::Unknown;
                const PRIMARY_KEY: &'static [#p::Name] = &[];
            }
            #[automatically_derived]
            impl<K> #p::UniqueKey<K> for #ident {}
            #[automatically_derived]
            impl #p::SingleColumnKey<#ident> for #p::Unknown {
                type Column = #p::Unknown;
            }
        };
    }
}

/// `vis` as seen from a module declared beside the item it belongs to: the
/// column markers live in a module of the derive's `const` block.
fn vis_in_module(vis: &syn::Visibility) -> TokenStream {
    match vis {
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(restricted) => {
            let path = &restricted.path;
            let first = path
                .segments
                .first()
                .map(|segment| segment.ident.to_string());
            match first.as_deref() {
                Some("crate") => quote!(#vis),
                Some("self") if path.segments.len() == 1 => quote!(pub(super)),
                Some("self") => {
                    let rest = path.segments.iter().skip(1);
                    quote!(pub(in super #(::#rest)*))
                }
                _ => quote!(pub(in super::#path)),
            }
        }
        _ => quote!(#vis),
    }
}

/// A type as written, for messages and `ColumnMeta::rust_type`:
/// `Option<Id<Member>>`.
fn type_string(ty: &syn::Type) -> String {
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
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
