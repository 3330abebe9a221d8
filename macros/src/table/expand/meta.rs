//! The table's own items: column markers, the columns struct that other
//! derives reach columns through, its keys, and `impl Table` with the
//! metadata as `const` data.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::reference::SingleColumnKeys;
use super::{private, private_at, type_string, vis_in_module};
use crate::table::model::{ForeignKey, Serving, Table};
use crate::table::parse::Action;

/// `team::org_id`: the marker of a column.
pub fn marker(table: &Table, c: usize) -> TokenStream {
    let module = &table.names.markers;
    let field = &table.columns[c].field;
    quote!(#module::#field)
}

/// `<<T as Table>::PrimaryKey as DerivedTable<T>>`, every token but the
/// user's path spanned on the path, so that a `T` that is not a table is one
/// error ("`T` is not a table") however often the expansion names it.
pub fn derived(target: &syn::Path) -> TokenStream {
    let span = target.span();
    let p = private_at(span);
    quote_spanned!(span=> <<#target as #p::Table>::PrimaryKey as #p::DerivedTable<#target>>)
}

/// The column markers (a module named after the table, one empty enum per
/// field) and what each marker knows about its column.
pub fn markers(table: &Table) -> TokenStream {
    let p = private();
    let ident = &table.ident;
    let module = &table.names.markers;
    let doc = format!("The columns of `{ident}`, as types.");
    let enums = table.columns.iter().map(|column| {
        let field = &column.field;
        let vis = vis_in_module(&column.vis);
        let doc = format!("The column `{}.{}`.", table.name, column.name);
        quote!(#[doc = #doc] #vis enum #field {})
    });
    let infos = table.columns.iter().enumerate().map(|(c, column)| {
        let marker = marker(table, c);
        let ty = &column.ty;
        let name = &column.name;
        quote! {
            #[automatically_derived]
            impl #p::ColumnInfo for #marker {
                type Table = #ident;
                type Type = #ty;
                const NAME: &'static str = #name;
            }
        }
    });
    quote! {
        #[doc = #doc]
        mod #module {
            #(#enums)*
        }
        #(#infos)*
    }
}

/// The columns struct and `DerivedTable`, through which other derives reach
/// this table's columns by field name.
pub fn columns(table: &Table) -> TokenStream {
    let p = private();
    let ident = &table.ident;
    let columns = &table.names.columns;
    let name = &table.name;
    let fields: Vec<&syn::Ident> = table.columns.iter().map(|column| &column.field).collect();
    let markers: Vec<TokenStream> = (0..table.columns.len()).map(|c| marker(table, c)).collect();
    let key_markers: Vec<TokenStream> = table
        .primary_key
        .iter()
        .map(|&c| marker(table, c))
        .collect();
    let key_names = table.primary_key_names();
    let doc = format!("The columns of `{ident}`, by field name.");
    let vis = &table.vis;
    let field_vis = table.columns.iter().map(|column| &column.vis);
    quote! {
        #[doc = #doc]
        #vis struct #columns {
            #(#[doc(hidden)] #field_vis #fields: #p::Column<#markers>,)*
        }
        #[automatically_derived]
        impl #p::DerivedTable<#ident> for <#ident as #p::Table>::PrimaryKey {
            const TABLE_NAME: &'static str = #name;
            type Columns = #columns;
            const COLUMNS: #columns = #columns { #(#fields: #p::Column::new(),)* };
            type PrimaryKeyColumns = (#(#key_markers,)*);
            const PRIMARY_KEY: &'static [#p::Name] = &[#(#p::Cow::Borrowed(#key_names)),*];
        }
    }
}

/// `UniqueKey` for the primary key and each unique index (one impl per set of
/// columns), and `SingleColumnKey` when the primary key has one column.
pub fn keys(table: &Table) -> TokenStream {
    let p = private();
    let ident = &table.ident;
    let mut sets: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut impls = Vec::new();
    let unique = table
        .indexes
        .iter()
        .filter(|index| index.unique)
        .map(|index| &index.columns);
    for columns in std::iter::once(&table.primary_key).chain(unique) {
        let mut sorted: Vec<usize> = columns.clone();
        sorted.sort_by_key(|&c| table.columns[c].field.unraw().to_string());
        let set: Vec<String> = sorted
            .iter()
            .map(|&c| table.columns[c].field.unraw().to_string())
            .collect();
        if !sets.insert(set) {
            continue;
        }
        let markers = sorted.iter().map(|&c| marker(table, c));
        impls.push(quote! {
            #[automatically_derived]
            impl #p::UniqueKey<(#(#markers,)*)> for #ident {}
        });
    }
    if let [c] = table.primary_key[..] {
        let marker = marker(table, c);
        impls.push(quote! {
            #[automatically_derived]
            impl #p::SingleColumnKey<#ident> for <#ident as #p::Table>::PrimaryKey {
                type Column = #marker;
            }
        });
    }
    quote!(#(#impls)*)
}

/// `impl Table` with its metadata.
pub fn table_impl(table: &Table, keys: &SingleColumnKeys) -> TokenStream {
    let p = private();
    let ident = &table.ident;
    let name = &table.name;
    let type_name = ident.unraw().to_string();
    let key_types: Vec<&syn::Type> = table
        .primary_key
        .iter()
        .map(|&c| &table.columns[c].ty)
        .collect();
    let primary_key = match key_types.as_slice() {
        [single] => quote!(#single),
        many => quote!((#(#many,)*)),
    };

    let columns = table.columns.iter().enumerate().map(|(c, column)| {
        let name = &column.name;
        let field = column.field.unraw().to_string();
        let ty = &column.ty;
        let rust_type = type_string(ty);
        let span = ty.span();
        // An `Id<T>` column has the type of `T`'s key column, reached through
        // `SingleColumnKey` so that a composite key is one clear error.
        let (value_type, nullable) = match &column.id {
            Some(target) => {
                let target_span = target.span();
                let key = keys.key(c, target);
                let value_type = quote_spanned!(target_span=> #key::VALUE_TYPE);
                let optional = column.optional;
                (value_type, quote!(#optional))
            }
            None => (
                quote_spanned!(span=> <#ty as #p::ColumnType>::VALUE_TYPE),
                quote_spanned!(span=> <#ty as #p::ColumnType>::NULLABLE),
            ),
        };
        let default = match &column.default {
            Some(expr) => {
                // An expression of the field's type, so that a mismatch is
                // rustc's "expected `T`, found ..." on the expression; a string
                // literal also converts (`default = "member"` for a `String`).
                let span = expr.span();
                let value = match expr {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(_),
                        ..
                    }) => quote_spanned!(span=> ::core::convert::Into::<#ty>::into(#expr)),
                    _ => quote!(#expr),
                };
                quote! {
                    ::core::option::Option::Some(#p::ColumnDefault::Computed({
                        fn default() -> #p::Value {
                            let value: #ty = #value;
                            #p::default_value::<#ty>(value)
                        }
                        default
                    }))
                }
            }
            None => quote!(::core::option::Option::None),
        };
        quote! {
            #p::ColumnMeta {
                name: #p::Cow::Borrowed(#name),
                field: #p::Cow::Borrowed(#field),
                rust_type: #p::Cow::Borrowed(#rust_type),
                value_type: #value_type,
                nullable: #nullable,
                default: #default,
            }
        }
    });

    let indexes = table.indexes.iter().map(|index| {
        let name = &index.name;
        let columns = index.columns.iter().map(|&c| &table.columns[c].name);
        let unique = index.unique;
        quote! {
            #p::IndexMeta {
                name: #p::Cow::Borrowed(#name),
                columns: #p::Cow::Borrowed(&[#(#p::Cow::Borrowed(#columns)),*]),
                unique: #unique,
            }
        }
    });

    let foreign_keys: Vec<&ForeignKey> = table.live_foreign_keys().collect();
    let fk_column_consts = foreign_keys.iter().enumerate().map(|(f, fk)| {
        let columns_const = format_ident!("__CASCADIA_FK{}_COLUMNS", f);
        let referenced_const = format_ident!("__CASCADIA_FK{}_REFERENCED", f);
        let columns = fk.columns.iter().map(|&c| &table.columns[c].name);
        let derived = derived(&fk.target);
        let referenced = match &fk.target_columns {
            Some(referenced) => {
                let names = referenced
                    .iter()
                    .map(|column| quote!(#p::Cow::Borrowed(#derived::COLUMNS.#column.name())));
                quote!(&[#(#names),*])
            }
            None => quote!(#derived::PRIMARY_KEY),
        };
        quote! {
            const #columns_const: &[#p::Name] = &[#(#p::Cow::Borrowed(#columns)),*];
            const #referenced_const: &[#p::Name] = #referenced;
        }
    });
    let fk_metas = foreign_keys.iter().enumerate().map(|(f, fk)| {
        let columns_const = format_ident!("__CASCADIA_FK{}_COLUMNS", f);
        let referenced_const = format_ident!("__CASCADIA_FK{}_REFERENCED", f);
        let derived = derived(&fk.target);
        let on_delete = action(fk.on_delete);
        let on_update = action(fk.on_update);
        let index = match fk.serving {
            Serving::PrimaryKey => quote!(#p::IndexRef::PrimaryKey),
            Serving::Index(i) => {
                let name = &table.indexes[i].name;
                quote!(#p::IndexRef::Index(#p::Cow::Borrowed(#name)))
            }
            // Only `Unindexed` reaches here: `check` reported the others.
            _ => quote!(#p::IndexRef::Unindexed),
        };
        quote! {
            #p::ForeignKeyMeta {
                columns: #p::Cow::Borrowed(#columns_const),
                referenced_table: #p::Cow::Borrowed(#derived::TABLE_NAME),
                referenced_columns: #p::Cow::Borrowed(#referenced_const),
                on_delete: #on_delete,
                on_update: #on_update,
                index: #index,
            }
        }
    });
    let soft_delete = match table.soft_delete {
        Some((c, _)) => {
            let name = &table.columns[c].name;
            quote!(::core::option::Option::Some(#p::Cow::Borrowed(#name)))
        }
        None => quote!(::core::option::Option::None),
    };
    let call_site = Span::call_site();
    quote_spanned! {call_site=>
        const __CASCADIA_COLUMNS: &[#p::ColumnMeta] = &[#(#columns),*];
        const __CASCADIA_INDEXES: &[#p::IndexMeta] = &[#(#indexes),*];
        #(#fk_column_consts)*
        const __CASCADIA_FOREIGN_KEYS: &[#p::ForeignKeyMeta] = &[#(#fk_metas),*];

        #[automatically_derived]
        impl #p::Table for #ident {
            type PrimaryKey = #primary_key;
            const META: &'static #p::TableMeta = &#p::TableMeta {
                name: #p::Cow::Borrowed(#name),
                type_name: #p::Cow::Borrowed(#type_name),
                columns: #p::Cow::Borrowed(__CASCADIA_COLUMNS),
                primary_key: #p::Cow::Borrowed(
                    <<#ident as #p::Table>::PrimaryKey as #p::DerivedTable<#ident>>::PRIMARY_KEY
                ),
                indexes: #p::Cow::Borrowed(__CASCADIA_INDEXES),
                foreign_keys: #p::Cow::Borrowed(__CASCADIA_FOREIGN_KEYS),
                soft_delete: #soft_delete,
            };
        }
    }
}

fn action(action: Action) -> TokenStream {
    let p = private();
    let variant = match action {
        Action::Cascade => quote!(Cascade),
        Action::Restrict => quote!(Restrict),
        Action::NoAction => quote!(NoAction),
        Action::SetNull => quote!(SetNull),
        Action::SetDefault => quote!(SetDefault),
    };
    quote!(#p::Action::#variant)
}
