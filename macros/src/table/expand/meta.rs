//! `impl Table` with the metadata as `const` data built by the
//! `__private::meta` builders, and `DerivedTable`: what the derives of the
//! tables that reference this one read about it.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;

use super::reference::{default_fn, derived_of, trivial_id};
use super::{names, span_range, type_string};
use crate::table::model::{ForeignKey, Serving, Table};
use crate::table::parse::{Action, DeletionKind};

/// `impl Table`: the key type, the metadata, the index queries' entry.
pub fn table_impl(table: &Table) -> TokenStream {
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
        // The type's own span, so that an unsupported type or an `Id<T>`
        // whose `T` is not a table is an error on the field's type.
        let (first, last) = span_range(ty);
        let builder = match (column.id.is_some(), column.default.is_some()) {
            (false, false) => "column",
            (false, true) => "column_with_default",
            (true, false) => "id_column",
            (true, true) => "id_column_with_default",
        };
        let builder = syn::Ident::new(builder, first);
        let open = quote_spanned!(first=> __cascadia::#builder::<);
        let close = quote_spanned!(last=> >);
        let default = column.default.as_ref().map(|_| {
            let function = default_fn(table, c);
            quote!(, #function)
        });
        quote!(#open #ty #close(#name, #field, #rust_type #default))
    });
    let indexes = table.indexes.iter().map(|index| {
        let name = &index.name;
        let columns = names(
            index
                .columns
                .iter()
                .map(|&c| table.columns[c].name.as_str()),
        );
        let unique = index.unique;
        let sql_name = option_str(index.sql_name.as_deref());
        quote!(__cascadia::index(#name, #columns, #unique, #sql_name))
    });
    let foreign_keys = table.live_foreign_keys().map(|fk| foreign_key(table, fk));
    let soft_delete = match table.soft_delete {
        Some((c, _)) => {
            let name = &table.columns[c].name;
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let queries = table.names.item("Indexes", ident.span());
    let meta = quote! {
        __cascadia::table(
            #name,
            #type_name,
            __CASCADIA_COLUMNS,
            <Self::Indexes as __cascadia::DerivedTable<Self>>::PRIMARY_KEY,
            __CASCADIA_INDEXES,
            __CASCADIA_FOREIGN_KEYS,
            #soft_delete,
        )
    };
    let meta = match table.deletion.map(|deletion| deletion.kind) {
        None | Some(DeletionKind::Hard) => meta,
        Some(kind) => {
            let deletion = match kind {
                DeletionKind::Soft => quote!(__cascadia::Deletion::Soft),
                DeletionKind::SoftCascade => quote!(__cascadia::Deletion::SoftCascade),
                DeletionKind::Scheduled { after_ms } => {
                    quote!(__cascadia::Deletion::Scheduled { after_ms: #after_ms })
                }
                DeletionKind::Hard => unreachable!("matched above"),
            };
            quote!(__cascadia::with_deletion(#meta, #deletion))
        }
    };
    // The lists are `const` items of their own: a list of calls, borrowed
    // as a call's argument, would not live for `'static`.
    quote! {
        const __CASCADIA_COLUMNS: &[__cascadia::ColumnMeta] = &[#(#columns),*];
        const __CASCADIA_INDEXES: &[__cascadia::IndexMeta] = &[#(#indexes),*];
        const __CASCADIA_FOREIGN_KEYS: &[__cascadia::ForeignKeyMeta] = &[#(#foreign_keys),*];
        #[automatically_derived]
        impl __cascadia::Table for #ident {
            type PrimaryKey = #primary_key;
            type Indexes = #queries;
            const META: &'static __cascadia::TableMeta = &#meta;
            fn indexes() -> #queries {
                #queries(())
            }
        }
    }
}

/// The metadata of one foreign key.
fn foreign_key(table: &Table, fk: &ForeignKey) -> TokenStream {
    let columns = names(fk.columns.iter().map(|&c| table.columns[c].name.as_str()));
    let on_delete = action(fk.on_delete);
    let on_update = action(fk.on_update);
    let index = match fk.serving {
        Serving::PrimaryKey => quote!(__cascadia::IndexRef::PrimaryKey),
        Serving::Index(i) => {
            let name = &table.indexes[i].name;
            quote!(__cascadia::index_ref(#name))
        }
        // Only `Unindexed` reaches here: `check` reported the others.
        _ => quote!(__cascadia::IndexRef::Unindexed),
    };
    let name = option_str(fk.name.as_deref());
    let native = fk.native.is_some();
    let extra = quote!(__cascadia::FkExtra { name: #name, native: #native });
    let actions = quote!(#on_delete, #on_update, #index, #extra);
    if trivial_id(table, fk) {
        // Reached through the column's `Id<T>` type (see `IdColumn`).
        let ty = &table.columns[fk.columns[0]].ty;
        let (first, last) = span_range(ty);
        let open = quote_spanned!(first=> __cascadia::id_foreign_key::<);
        let close = quote_spanned!(last=> >);
        return quote!(#open #ty #close(#columns, #actions));
    }
    let derived = derived_of(&fk.target);
    let referenced = match &fk.target_columns {
        None => quote!(#derived::PRIMARY_KEY),
        Some(referenced) => {
            let fields = referenced.iter().map(|column| column.unraw().to_string());
            quote!({
                const REFERENCED: &[__cascadia::Name] =
                    &[#(__cascadia::sql_name(#derived::RENAMED, #fields)),*];
                REFERENCED
            })
        }
    };
    quote!(__cascadia::foreign_key(#columns, #derived::TABLE_NAME, #referenced, #actions))
}

/// `Some("...")` or `None`, as a `const` expression.
fn option_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn action(action: Action) -> TokenStream {
    let variant = match action {
        Action::Cascade => quote!(Cascade),
        Action::Restrict => quote!(Restrict),
        Action::NoAction => quote!(NoAction),
        Action::SetNull => quote!(SetNull),
        Action::SetDefault => quote!(SetDefault),
    };
    quote!(__cascadia::Action::#variant)
}

/// `DerivedTable`, on the `Table::Indexes` type: the table's SQL name, its
/// renamed columns, its keys, and the types of its key's columns.
pub fn derived(table: &Table) -> TokenStream {
    let ident = &table.ident;
    let name = &table.name;
    let renamed = table.columns.iter().filter_map(|column| {
        let field = column.field.unraw().to_string();
        let name = &column.name;
        (field != *name).then(|| quote!((#field, #name)))
    });
    let primary_key = names(table.primary_key_names());
    let mut keys: BTreeSet<Vec<String>> = BTreeSet::new();
    let unique = table
        .indexes
        .iter()
        .filter(|index| index.unique)
        .map(|index| &index.columns);
    let mut ordered = Vec::new();
    for columns in std::iter::once(&table.primary_key).chain(unique) {
        let mut fields: Vec<String> = columns
            .iter()
            .map(|&c| table.columns[c].field.unraw().to_string())
            .collect();
        fields.sort();
        if keys.insert(fields.clone()) {
            ordered.push(quote!(&[#(#fields),*]));
        }
    }
    let key_types = table.primary_key.iter().map(|&c| &table.columns[c].ty);
    quote! {
        #[automatically_derived]
        impl __cascadia::DerivedTable<#ident> for <#ident as __cascadia::Table>::Indexes {
            const TABLE_NAME: &'static str = #name;
            const RENAMED: &'static [(&'static str, &'static str)] = &[#(#renamed),*];
            const PRIMARY_KEY: &'static [__cascadia::Name] = #primary_key;
            const KEYS: &'static [&'static [&'static str]] = &[#(#ordered),*];
            type KeyColumns = (#(#key_types,)*);
        }
    }
}
