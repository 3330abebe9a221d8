//! `#[derive(Table)]` for cascadia. Use it through the `cascadia` crate, whose
//! documentation of `cascadia::Table` describes the attribute language; the
//! generated code only compiles against `cascadia`.

use proc_macro::TokenStream;

mod table;

/// Derives `cascadia::Table`: see the `cascadia` crate for the attribute
/// language and what the derive checks.
#[proc_macro_derive(
    Table,
    attributes(table, index, foreign_key, primary_key, unique, column, soft_delete)
)]
pub fn derive_table(input: TokenStream) -> TokenStream {
    table::derive(input.into()).into()
}
