//! `#[derive(Table)]`: see the `cascadia` crate for the attribute language.

use proc_macro::TokenStream;

/// Derives `cascadia::Table`.
#[proc_macro_derive(
    Table,
    attributes(table, index, foreign_key, primary_key, unique, column, soft_delete)
)]
pub fn derive_table(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
