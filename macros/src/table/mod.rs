//! `#[derive(Table)]`: parse → model → check → expand, with one error
//! accumulator across the stages so that every error of a struct shows in one
//! build. On error, the output is the errors, a stub `impl Table` and the
//! type-level checks of what did parse ([`expand::fallback`]), so that code
//! using the table adds no follow-on errors and the type errors of the struct
//! come in the same build as the others.

mod check;
mod expand;
mod model;
mod parse;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;

/// The error accumulator threaded through the stages.
type Errors = darling::error::Accumulator;

/// Expands `#[derive(Table)]` on `input` (the tokens of the struct).
pub fn derive(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let model = parse::table(&input, &mut errors).map(|raw| model::build(raw, &mut errors));
    let rejected = model
        .as_ref()
        .map(|table| check::all(table, &mut errors))
        .unwrap_or_default();
    match (errors.finish(), model) {
        (Ok(()), Some(table)) => expand::table(&table),
        (result, model) => {
            let errors = result.err().map(darling::Error::write_errors);
            let fallback = expand::fallback(&input, model.as_ref(), &rejected);
            quote!(#errors #fallback)
        }
    }
}
