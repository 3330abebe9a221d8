//! C12, typed index queries: for the primary key and each index, an entry
//! point (`Member::by_team()`) and one builder type per state of a query on
//! that index. Every state has a method per column of the index; only the next
//! column in index order is callable. The others carry a bound that never
//! holds, with a message naming the index, the column used and the column
//! expected:
//!
//! ```text
//! pub struct MemberByTeam { range: IndexRange }                // expects team_id
//! impl MemberByTeam {
//!     pub fn team_id(self) -> IndexColumn<MemberByTeamAfterTeamId, MemberByTeamRangeOnTeamId, Id<Team>>;
//!     pub fn joined_at<'a>(self) -> IndexColumn<..> where Self: JoinedAtNext<'a>; // "expected `team_id`, found `joined_at`"
//! }
//! ```
//!
//! The lifetime `'a` makes the bound depend on the call, so rustc checks it
//! where the method is called instead of rejecting the definition.

use heck::ToUpperCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;

use super::{private, respan};
use crate::table::model::{Table, option_inner};

/// One index as a query sees it.
struct QueryIndex {
    /// `by_team`, `by_primary_key`.
    method: Ident,
    /// `index `by_team` of `Member`` / `the primary key of `Member``.
    description: String,
    /// `IndexRef::...` tokens.
    index_ref: TokenStream,
    columns: Vec<usize>,
    /// Tokens of the columns in the declaration, for the notes rustc adds.
    spans: Vec<Span>,
    /// The index's name, or the primary key's first field.
    span: Span,
}

/// The entry points and builder types of every index.
pub fn queries(table: &Table) -> TokenStream {
    let p = private();
    let ident = &table.ident;
    let mut indexes = vec![QueryIndex {
        method: format_ident!("by_primary_key"),
        description: format!("the primary key of `{ident}`"),
        index_ref: quote!(#p::IndexRef::PrimaryKey),
        columns: table.primary_key.clone(),
        spans: table
            .primary_key
            .iter()
            .map(|&c| table.columns[c].field.span())
            .collect(),
        span: table
            .primary_key
            .first()
            .map_or_else(Span::call_site, |&c| table.columns[c].field.span()),
    }];
    for index in &table.indexes {
        let name = &index.name;
        indexes.push(QueryIndex {
            method: format_ident!("{}", name, span = index.span),
            description: format!("index `{name}` of `{ident}`"),
            index_ref: quote!(#p::IndexRef::Index(#p::Cow::Borrowed(#name))),
            columns: index.columns.clone(),
            spans: index.column_spans.clone(),
            span: index.span,
        });
    }
    let mut entry_points = Vec::new();
    let mut builders = Vec::new();
    for index in &indexes {
        let (entry, builder) = one_index(table, index);
        entry_points.push(entry);
        builders.push(builder);
    }
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#entry_points)*
        }
        #(#builders)*
    }
}

fn camel(table: &Table, c: usize) -> String {
    table.columns[c]
        .field
        .unraw()
        .to_string()
        .to_upper_camel_case()
}

fn one_index(table: &Table, index: &QueryIndex) -> (TokenStream, TokenStream) {
    let p = private();
    let vis = &table.vis;
    let n = index.columns.len();
    let field = |c: usize| table.columns[c].field.unraw().to_string();
    let base = format!(
        "{}{}",
        table.names.prefix,
        index.method.to_string().to_upper_camel_case()
    );
    // `after[k]`: the first k columns are fixed (after[0] is the start).
    let after: Vec<Ident> = (0..=n)
        .map(|k| match k {
            0 => format_ident!("{}", base),
            _ => format_ident!("{}After{}", base, camel(table, index.columns[k - 1])),
        })
        .collect();
    // `ranged[k]`: a range on column k ended the query.
    let ranged: Vec<Ident> = (0..n)
        .map(|k| format_ident!("{}RangeOn{}", base, camel(table, index.columns[k])))
        .collect();
    let listed = index
        .columns
        .iter()
        .map(|&c| field(c))
        .collect::<Vec<_>>()
        .join(", ");
    let description = &index.description;
    let note = format!(
        "{description} has the columns ({listed}): a query fixes the first ones with `eq`, in this order, then may end with one range (`gt`, `ge`, `lt`, `le`, `between`) on the next column"
    );
    let table_name = &table.name;
    let index_ref = &index.index_ref;

    // The states and their conversions.
    let mut items = Vec::new();
    for (k, state) in after.iter().chain(&ranged).enumerate() {
        let doc = if k == 0 {
            format!("A query on {description}, with no column fixed yet.")
        } else if k <= n {
            let fixed = index.columns[..k]
                .iter()
                .map(|&c| field(c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("A query on {description}, with ({fixed}) fixed.")
        } else {
            format!(
                "A query on {description}, ended by a range on `{}`.",
                field(index.columns[k - n - 1])
            )
        };
        let span = index.span;
        // The struct's tokens all point at the index, where rustc shows it.
        let vis = respan(vis.to_token_stream(), span);
        items.push(quote_spanned! {span=>
            #[doc = #doc]
            #[must_use = "an index query does nothing until it is converted into an `IndexRange` and read"]
            #[derive(::core::fmt::Debug)]
            #vis struct #state {
                range: #p::IndexRange,
            }
            #[automatically_derived]
            impl #p::QueryState for #state {
                fn from_range(range: #p::IndexRange) -> Self {
                    #state { range }
                }
            }
            #[automatically_derived]
            impl ::core::convert::From<#state> for #p::IndexRange {
                fn from(query: #state) -> Self {
                    query.range
                }
            }
        });
    }

    // The column methods of each state.
    let method = |state: &Ident, j: usize, error: Option<(String, String)>| {
        let c = index.columns[j];
        let column = &table.columns[c];
        let vis = &column.vis;
        let mut name = column.field.clone();
        name.set_span(index.spans[j]);
        // A NULL never equals nor ranges, so an `Option<T>` column takes `T`.
        let ty = option_inner(&column.ty).unwrap_or(&column.ty);
        let (next, range) = (&after[j + 1], &ranged[j]);
        let returns = quote!(#p::IndexColumn<#next, #range, #ty>);
        match error {
            None => {
                let doc = format!(
                    "Column `{}` of {description}: `.eq(...)` fixes it, or a range ends the query.",
                    field(c)
                );
                (
                    quote! {
                        #[doc = #doc]
                        #vis fn #name(self) -> #returns {
                            #p::IndexColumn::__new(self.range)
                        }
                    },
                    TokenStream::new(),
                )
            }
            Some((message, label)) => {
                let bound =
                    format_ident!("{}Takes{}", state, camel(table, c), span = index.spans[j]);
                let span = index.spans[j];
                let doc = format!("Not callable here: {message}.");
                (
                    quote_spanned! {span=>
                        #[doc = #doc]
                        #vis fn #name<'a>(self) -> #returns
                        where
                            Self: #bound<'a>,
                        {
                            #p::IndexColumn::__new(self.range)
                        }
                    },
                    quote_spanned! {span=>
                        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                        pub trait #bound<'a> {}
                        #[diagnostic::do_not_recommend]
                        impl<'a, T: #p::Unsatisfiable> #bound<'a> for T {}
                    },
                )
            }
        }
    };
    let states = after.iter().enumerate().map(|(k, state)| (state, k)).chain(
        ranged
            .iter()
            .enumerate()
            .map(|(k, state)| (state, n + 1 + k)),
    );
    for (state, position) in states {
        let mut methods = Vec::new();
        let mut traits = Vec::new();
        for j in 0..n {
            let used = field(index.columns[j]);
            let error = if position < n {
                // Expects column `position` next.
                let expected = field(index.columns[position]);
                (j != position).then(|| {
                    let label = if j < position {
                        format!("`{used}` is already fixed")
                    } else {
                        format!("expected `{expected}`")
                    };
                    (
                        format!("query on {description}: expected `{expected}`, found `{used}`"),
                        label,
                    )
                })
            } else if position == n {
                let last = field(index.columns[n - 1]);
                Some((
                    format!(
                        "query on {description}: expected nothing after `{last}`, found `{used}`"
                    ),
                    "every column of the index is already fixed".to_owned(),
                ))
            } else {
                let on = field(index.columns[position - n - 1]);
                Some((
                    format!(
                        "query on {description}: expected nothing after the range on `{on}`, found `{used}`"
                    ),
                    "a range ends the query".to_owned(),
                ))
            };
            let (method, bound) = method(state, j, error);
            methods.push(method);
            traits.push(bound);
        }
        items.push(quote! {
            #(#traits)*
            #[automatically_derived]
            impl #state {
                #(#methods)*
            }
        });
    }

    let method = &index.method;
    let start = &after[0];
    let doc = format!(
        "A typed query on {description} ({listed}) of table `{table_name}`: fix the columns in this order with `.<column>().eq(value)`, optionally end with one range on the next column, then convert the query into an `IndexRange`. A column out of order does not compile."
    );
    (
        quote! {
            #[doc = #doc]
            #vis fn #method() -> #start {
                <#start as #p::QueryState>::from_range(#p::IndexRange::new(
                    #p::Cow::Borrowed(#table_name),
                    #index_ref,
                ))
            }
        },
        quote!(#(#items)*),
    )
}
