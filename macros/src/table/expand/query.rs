//! C12, typed index queries. `Member::indexes()` returns `MemberIndexes`,
//! with an entry point per index (`by_team()`) and `by_primary_key()`. Each
//! index has one builder type, generic over `K`, the number of columns fixed
//! so far, with a method per column of the index. A column's method is
//! bounded by a trait that only the state expecting that column implements,
//! with a message naming the index and the column that must come before:
//!
//! ```text
//! pub struct MemberByTeam<const K: usize>(IndexRange);         // index (team_id, joined_at)
//! impl<const K: usize> MemberByTeam<K> {
//!     pub fn team_id(self) -> IndexColumn<MemberByTeam<1>, MemberByTeam<2>, fn() -> Id<Team>>
//!         where Self: MemberByTeamTakesTeamId;                   // only MemberByTeam<0>
//!     pub fn joined_at(self) -> IndexColumn<MemberByTeam<2>, MemberByTeam<2>, fn() -> i64>
//!         where Self: MemberByTeamTakesJoinedAt;                 // only MemberByTeam<1>
//! }
//! ```
//!
//! `.eq(...)` moves to the next state; a range ends the query in the last
//! state, where no column's bound holds.

use heck::ToUpperCamelCase;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;

use super::{respan, span_range};
use crate::table::model::{Table, option_inner};

/// One index as a query sees it.
struct QueryIndex {
    /// `by_team`, `by_primary_key`.
    method: Ident,
    /// `index `by_team` of `Member`` / `the primary key of `Member``.
    description: String,
    /// The index's name for `__private::start`, `None` for the primary key.
    name: Option<String>,
    columns: Vec<usize>,
    /// Tokens of the columns in the declaration, for the notes rustc adds.
    spans: Vec<Span>,
    /// The index's name, or the primary key's first field.
    span: Span,
}

/// `MemberIndexes` with its entry points, and the builder of every index.
pub fn queries(table: &Table) -> TokenStream {
    let ident = &table.ident;
    let mut indexes = vec![QueryIndex {
        method: format_ident!("by_primary_key"),
        description: format!("the primary key of `{}`", ident.unraw()),
        name: None,
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
            description: format!("index `{name}` of `{}`", ident.unraw()),
            name: Some(name.clone()),
            columns: index.columns.clone(),
            spans: index.column_spans.clone(),
            span: index.span,
        });
    }
    let vis = &table.vis;
    let entry = table.names.item("Indexes", ident.span());
    let table_name = &table.name;
    let mut entry_points = Vec::new();
    let mut builders = Vec::new();
    for index in &indexes {
        let builder = table
            .names
            .item(&index.method.to_string().to_upper_camel_case(), index.span);
        let method = &index.method;
        let name = match &index.name {
            Some(name) => quote!(::core::option::Option::Some(#name)),
            None => quote!(::core::option::Option::None),
        };
        let doc = format!(
            "A query on {} ({}): see `Table::indexes`.",
            index.description,
            table.field_list(&index.columns)
        );
        entry_points.push(quote! {
            #[doc = #doc]
            #vis fn #method(self) -> #builder<0> {
                __cascadia::start(#table_name, #name)
            }
        });
        builders.push(builder_of(table, index, &builder));
    }
    quote! {
        #vis struct #entry(());
        #[automatically_derived]
        impl #entry {
            #(#entry_points)*
        }
        #(#builders)*
    }
}

/// The builder type of one index, its column methods, and the trait of each
/// column's place in the index.
fn builder_of(table: &Table, index: &QueryIndex, builder: &Ident) -> TokenStream {
    let n = index.columns.len();
    let field = |j: usize| table.columns[index.columns[j]].field.unraw().to_string();
    let description = &index.description;
    let note = format!(
        "{description} has the columns ({}): a query fixes the first ones with `eq`, in this order, then may end with one range (`gt`, `ge`, `lt`, `le`, `between`) on the next column",
        table.field_list(&index.columns)
    );
    let mut methods = Vec::new();
    let mut traits = Vec::new();
    for j in 0..n {
        let column = &table.columns[index.columns[j]];
        let span = index.spans[j];
        let mut name = column.field.clone();
        name.set_span(span);
        let vis = &column.vis;
        // A NULL never equals nor ranges, so an `Option<T>` column takes `T`.
        let ty = option_inner(&column.ty).unwrap_or(&column.ty);
        let (at, fixed, last) = (
            Literal::usize_unsuffixed(j),
            Literal::usize_unsuffixed(j + 1),
            Literal::usize_unsuffixed(n),
        );
        let takes = table.names.item(
            &format!(
                "{}Takes{}",
                index.method.to_string().to_upper_camel_case(),
                field(j).to_upper_camel_case()
            ),
            span,
        );
        let (message, label) = if j == 0 {
            (
                format!(
                    "query on {description}: `.{}()` comes first, and only once",
                    field(0)
                ),
                "not first".to_owned(),
            )
        } else {
            let previous = field(j - 1);
            (
                format!(
                    "query on {description}: `.{}()` comes right after `.{previous}().eq(...)`, and only once",
                    field(j)
                ),
                format!("not right after `.{previous}().eq(...)`"),
            )
        };
        // The return type and the body span the column's type as written:
        // an `Id<X>` whose `X` is not a table is then the error rustc reports
        // on the field, once.
        let (first, end) = span_range(ty);
        let open = quote_spanned!(first=> __cascadia::IndexColumn<#builder<#fixed>, #builder<#last>, fn() ->);
        let close = quote_spanned!(end=> >);
        let new = quote_spanned!(first=> __cascadia::);
        let new_end = quote_spanned!(end=> IndexColumn::__new(self.0));
        methods.push(quote_spanned! {span=>
            #vis fn #name(self) -> #open #ty #close
            where
                Self: #takes,
            {
                #new #new_end
            }
        });
        traits.push(quote_spanned! {span=>
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            pub trait #takes {}
            impl #takes for #builder<#at> {}
        });
    }
    // The struct's tokens point at the index, where rustc shows the type.
    let span = index.span;
    let vis = respan(table.vis.to_token_stream(), span);
    quote_spanned! {span=>
        #[must_use = "an index query does nothing until it is converted into an `IndexRange` and read"]
        #vis struct #builder<const K: usize>(__cascadia::IndexRange);
        impl<const K: usize> __cascadia::QueryState for #builder<K> {
            fn from_range(range: __cascadia::IndexRange) -> Self {
                Self(range)
            }
            fn into_range(self) -> __cascadia::IndexRange {
                self.0
            }
        }
        impl<const K: usize> #builder<K> {
            #(#methods)*
        }
        #(#traits)*
    }
}
