//! `const fn` builders of the metadata that `#[derive(Table)]` emits: one call
//! per table, column, index and foreign key, so that the expansion stays
//! short and only this module knows the layout of the metadata types.

use std::borrow::Cow;

use super::reference::IdColumn;
use crate::model::metadata::{
    Action, ColumnDefault, ColumnMeta, Deletion, ForeignKeyMeta, IndexMeta, IndexRef, Name,
    TableMeta,
};
use crate::model::table::ColumnType;
use crate::model::value::{Value, ValueType};

/// A table's metadata.
pub const fn table(
    name: &'static str,
    type_name: &'static str,
    columns: &'static [ColumnMeta],
    primary_key: &'static [Name],
    indexes: &'static [IndexMeta],
    foreign_keys: &'static [ForeignKeyMeta],
    soft_delete: Option<&'static str>,
) -> TableMeta {
    TableMeta {
        name: Cow::Borrowed(name),
        type_name: Cow::Borrowed(type_name),
        columns: Cow::Borrowed(columns),
        primary_key: Cow::Borrowed(primary_key),
        indexes: Cow::Borrowed(indexes),
        foreign_keys: Cow::Borrowed(foreign_keys),
        soft_delete: match soft_delete {
            Some(column) => Some(Cow::Borrowed(column)),
            None => None,
        },
        deletion: Deletion::Hard,
    }
}

/// `table` with the deletion mode `#[table(deletion = ...)]` names.
pub const fn with_deletion(mut table: TableMeta, deletion: Deletion) -> TableMeta {
    table.deletion = deletion;
    table
}

/// A column of Rust type `T`.
pub const fn column<T: ColumnType + ?Sized>(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
) -> ColumnMeta {
    column_of(name, field, rust_type, T::VALUE_TYPE, T::NULLABLE, None)
}

/// A column of Rust type `T` with a `#[column(default = ...)]`.
pub const fn column_with_default<T: ColumnType + ?Sized>(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
    default: fn() -> Value,
) -> ColumnMeta {
    column_of(
        name,
        field,
        rust_type,
        T::VALUE_TYPE,
        T::NULLABLE,
        Some(default),
    )
}

/// A column of type `I`, `Id<T>` or `Option<Id<T>>`: it holds `T`'s key.
pub const fn id_column<I: IdColumn + ?Sized>(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
) -> ColumnMeta {
    column_of(name, field, rust_type, I::VALUE_TYPE, I::NULLABLE, None)
}

/// A column of type `I`, `Id<T>` or `Option<Id<T>>`, with a
/// `#[column(default = ...)]`.
pub const fn id_column_with_default<I: IdColumn + ?Sized>(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
    default: fn() -> Value,
) -> ColumnMeta {
    column_of(
        name,
        field,
        rust_type,
        I::VALUE_TYPE,
        I::NULLABLE,
        Some(default),
    )
}

const fn column_of(
    name: &'static str,
    field: &'static str,
    rust_type: &'static str,
    value_type: ValueType,
    nullable: bool,
    default: Option<fn() -> Value>,
) -> ColumnMeta {
    ColumnMeta {
        name: Cow::Borrowed(name),
        field: Cow::Borrowed(field),
        rust_type: Cow::Borrowed(rust_type),
        value_type,
        nullable,
        default: match default {
            Some(default) => Some(ColumnDefault::Computed(default)),
            None => None,
        },
    }
}

/// An index, with its name in the database when `#[index(sql_name)]` gives one.
pub const fn index(
    name: &'static str,
    columns: &'static [Name],
    unique: bool,
    sql_name: Option<&'static str>,
) -> IndexMeta {
    IndexMeta {
        name: Cow::Borrowed(name),
        columns: Cow::Borrowed(columns),
        unique,
        sql_name: match sql_name {
            Some(name) => Some(Cow::Borrowed(name)),
            None => None,
        },
    }
}

/// A foreign key's `#[foreign_key(name = "...", native)]`.
#[derive(Clone, Copy)]
pub struct FkExtra {
    /// The constraint's name.
    pub name: Option<&'static str>,
    /// The database runs the key's actions.
    pub native: bool,
}

impl FkExtra {
    /// No name, run by cascadia.
    pub const NONE: FkExtra = FkExtra {
        name: None,
        native: false,
    };
}

/// `IndexRef::Index(name)`.
pub const fn index_ref(name: &'static str) -> IndexRef {
    IndexRef::Index(Cow::Borrowed(name))
}

/// A foreign key.
pub const fn foreign_key(
    columns: &'static [Name],
    referenced_table: &'static str,
    referenced_columns: &'static [Name],
    on_delete: Action,
    on_update: Action,
    index: IndexRef,
    extra: FkExtra,
) -> ForeignKeyMeta {
    ForeignKeyMeta {
        columns: Cow::Borrowed(columns),
        referenced_table: Cow::Borrowed(referenced_table),
        referenced_columns: Cow::Borrowed(referenced_columns),
        on_delete,
        on_update,
        index,
        name: match extra.name {
            Some(name) => Some(Cow::Borrowed(name)),
            None => None,
        },
        native: extra.native,
    }
}

/// The foreign key of a column of type `I`, `Id<T>` or `Option<Id<T>>`, to
/// `T`'s primary key.
pub const fn id_foreign_key<I: IdColumn + ?Sized>(
    columns: &'static [Name],
    on_delete: Action,
    on_update: Action,
    index: IndexRef,
    extra: FkExtra,
) -> ForeignKeyMeta {
    foreign_key(
        columns,
        I::TABLE_NAME,
        I::PRIMARY_KEY,
        on_delete,
        on_update,
        index,
        extra,
    )
}

/// The SQL name of the column of field `field`, given the renamed columns
/// of its table ([`DerivedTable::RENAMED`](super::DerivedTable::RENAMED)).
pub const fn sql_name(
    renamed: &'static [(&'static str, &'static str)],
    field: &'static str,
) -> Name {
    let mut i = 0;
    while i < renamed.len() {
        if super::konst::str_eq(renamed[i].0, field) {
            return Cow::Borrowed(renamed[i].1);
        }
        i += 1;
    }
    Cow::Borrowed(field)
}
