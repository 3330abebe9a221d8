//! Table metadata: the plain data that `#[derive(Table)]` emits as `const`
//! items, and that [`Schema`](crate::Schema) turns into a foreign-key graph.
//!
//! Every string and list is a [`Cow<'static, _>`](Cow): the derive builds the
//! metadata at compile time from borrowed literals, while code that builds a
//! schema at run time (tests, tools reading a catalogue) uses owned values.
//! The same types serve both, and both serialise with serde to the same JSON.
//!
//! Names are SQL names (`#[column(name = "...")]`, `#[table(name = "...")]`)
//! unless a field says otherwise.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::value::{Value, ValueType};

/// A name: borrowed from the derive's literals, or owned when built at run time.
pub type Name = Cow<'static, str>;

/// A list: a `'static` slice from the derive, or a `Vec` built at run time.
pub type List<T> = Cow<'static, [T]>;

/// One table: its columns, keys, indexes and outgoing foreign keys.
///
/// Built by `#[derive(Table)]` as `<T as Table>::META`, or by hand for a
/// schema only known at run time; [`Schema::new`](crate::Schema::new)
/// validates a hand-built one with the rules the derive checks at compile time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// SQL name of the table (`#[table(name = "...")]`, default: the struct
    /// name in snake_case).
    pub name: Name,
    /// Name of the Rust type the table was derived from, for messages; the
    /// SQL name again for tables built at run time.
    pub type_name: Name,
    /// Columns in declaration order. Rows ([`Row`](crate::Row)) hold one
    /// value per column, in this order.
    pub columns: List<ColumnMeta>,
    /// SQL names of the primary key's columns, in key order. Never empty.
    pub primary_key: List<Name>,
    /// Secondary indexes, including the unique ones (`#[unique]`,
    /// `#[index(unique)]`), which are the table's unique keys.
    pub indexes: List<IndexMeta>,
    /// Outgoing foreign keys: this table is the referencing (child) table.
    /// At most one per (columns, referenced table).
    pub foreign_keys: List<ForeignKeyMeta>,
    /// The `#[soft_delete]` column (`Option<i64>`, milliseconds since the Unix
    /// epoch), if the table has one.
    pub soft_delete: Option<Name>,
    /// How a delete that names no mode removes the table's rows
    /// (`#[table(deletion = ...)]`; default [`Deletion::Hard`]).
    #[serde(default)]
    pub deletion: Deletion,
}

/// How a delete that names no mode ([`DeleteOptions::mode`] unset) removes
/// a table's rows: `#[table(deletion = soft)]`, `soft_cascade`, or
/// `scheduled(seconds = ...)`. The modes other than `Hard` need a
/// `#[soft_delete]` column. An explicit mode always wins
/// (`DeleteOptions::hard()` deletes for good).
///
/// [`DeleteOptions::mode`]: crate::DeleteOptions::mode
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    /// A batched delete, for good (the default).
    #[default]
    Hard,
    /// A soft delete of the row alone.
    Soft,
    /// A soft delete of the row and of every row a CASCADE would delete.
    SoftCascade,
    /// Soft now, for good after `after_ms` milliseconds unless restored.
    Scheduled {
        /// The delay, in milliseconds.
        after_ms: u64,
    },
}

impl Deletion {
    /// The delay of [`Deletion::Scheduled`]; `None` for the other modes.
    pub fn delay(&self) -> Option<std::time::Duration> {
        match self {
            Deletion::Scheduled { after_ms } => Some(std::time::Duration::from_millis(*after_ms)),
            _ => None,
        }
    }
}

/// One column of a [`TableMeta`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMeta {
    /// SQL name (`#[column(name = "...")]`, default: the field name).
    pub name: Name,
    /// Name of the Rust field, which is also its serde name in typed rows.
    pub field: Name,
    /// The field's Rust type as written in the struct, e.g. `Option<Id<Member>>`.
    pub rust_type: Name,
    /// Storage class of the column's non-NULL values.
    pub value_type: ValueType,
    /// Whether the column accepts NULL (the field is an `Option<_>`).
    pub nullable: bool,
    /// The column's default (`#[column(default = ...)]`), used by `INSERT`
    /// defaults in DDL and by `ON DELETE/UPDATE SET DEFAULT`.
    pub default: Option<ColumnDefault>,
}

/// A column's default value.
///
/// `#[column(default = <expr>)]` becomes [`ColumnDefault::Computed`]: a
/// function that evaluates the expression, as SQLite evaluates a `DEFAULT`
/// expression once per row it fills. Schemas built at run time usually give a
/// [`ColumnDefault::Value`]. Both serialise as the value itself.
#[derive(Clone)]
pub enum ColumnDefault {
    /// A constant value.
    Value(Value),
    /// An expression from `#[column(default = ...)]`, evaluated on each use.
    Computed(fn() -> Value),
}

impl ColumnDefault {
    /// The default value (evaluating the expression of a computed default).
    pub fn value(&self) -> Value {
        match self {
            ColumnDefault::Value(value) => value.clone(),
            ColumnDefault::Computed(compute) => compute(),
        }
    }
}

impl fmt::Debug for ColumnDefault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value(), f)
    }
}

/// Two defaults are equal when they produce equal values now.
impl PartialEq for ColumnDefault {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Serialize for ColumnDefault {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ColumnDefault {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(ColumnDefault::Value)
    }
}

/// A secondary index (`#[index(...)]`, `#[unique]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Index name, unique within its table (default: `by_<columns joined with _>`).
    pub name: Name,
    /// SQL names of the indexed columns, in index order. An index serves an
    /// equality lookup on a set of columns exactly when that set equals the
    /// set of its first columns (the prefix rule).
    pub columns: List<Name>,
    /// Whether the columns form a unique key of the table.
    pub unique: bool,
    /// The index's name in the database (`#[index(sql_name = "...")]`), when
    /// it is not cascadia's own `<table>__<name>`: any string, e.g. an
    /// existing database's `idx_fk_film_id`. Opening an existing database
    /// matches indexes by their columns whatever their names; this name
    /// is the one created by cascadia's DDL and preferred when several
    /// indexes have the columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_name: Option<Name>,
}

/// A referential action, as SQL's `ON DELETE` / `ON UPDATE` clauses.
///
/// Semantics follow SQLite's foreign-key actions (the oracle of cascadia's
/// conformance tests), with one documented difference: `Restrict` is decided
/// on the state before the operation, so it does not depend on the order in
/// which actions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Delete the referencing rows (`ON DELETE CASCADE`), or copy the new key
    /// into them (`ON UPDATE CASCADE`).
    Cascade,
    /// Refuse the operation if a referencing row exists (`RESTRICT`).
    Restrict,
    /// Refuse the operation if a referencing row still exists once every
    /// action has run (`NO ACTION`, the default).
    NoAction,
    /// Set the referencing columns to NULL (`SET NULL`).
    SetNull,
    /// Set the referencing columns to their defaults (`SET DEFAULT`); the
    /// default key must then exist in the referenced table.
    SetDefault,
}

impl Action {
    /// The action as SQL spells it, e.g. `SET NULL`.
    pub const fn sql(self) -> &'static str {
        match self {
            Action::Cascade => "CASCADE",
            Action::Restrict => "RESTRICT",
            Action::NoAction => "NO ACTION",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    /// The action as the attribute language spells it, e.g. `set_null`.
    pub const fn attribute(self) -> &'static str {
        match self {
            Action::Cascade => "cascade",
            Action::Restrict => "restrict",
            Action::NoAction => "no_action",
            Action::SetNull => "set_null",
            Action::SetDefault => "set_default",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// Which access path finds the referencing rows of a foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexRef {
    /// The referencing table's primary key (its first columns are the FK's).
    PrimaryKey,
    /// The named secondary index of the referencing table.
    Index(Name),
    /// No index: `unindexed` accepts a full scan of the referencing table for
    /// the existence check of a `restrict` / `no_action` FK.
    Unindexed,
}

/// A foreign key, declared on its referencing (child) table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKeyMeta {
    /// SQL names of the referencing columns, in the order that pairs them
    /// with `referenced_columns`.
    pub columns: List<Name>,
    /// SQL name of the referenced (parent) table.
    pub referenced_table: Name,
    /// SQL names of the referenced columns: the parent's primary key or one of
    /// its unique keys, paired one to one with `columns`.
    pub referenced_columns: List<Name>,
    /// Action when a referenced row is deleted.
    pub on_delete: Action,
    /// Action when a referenced key changes.
    pub on_update: Action,
    /// The access path that finds referencing rows from a parent key.
    pub index: IndexRef,
    /// The constraint's name (`#[foreign_key(name = "...")]`): declared in
    /// DDL as `CONSTRAINT "name" FOREIGN KEY ...` and shown in errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Whether the database runs this key's actions itself
    /// (`#[foreign_key(..., native)]`): the key is declared in the database
    /// with its `ON DELETE` / `ON UPDATE` actions (cascadia's DDL writes
    /// them), and an existing database must declare the same actions.
    ///
    /// The engine keeps its counts right and its batches bounded:
    /// - on delete, its bottom-up order reaches the referencing rows first
    ///   and deletes (or sets) them in bounded batches, so the database's
    ///   action finds nothing left to do when the referenced row goes;
    /// - on update, it counts the referencing rows of the old key, lets the
    ///   database's action rewrite them when the referenced key changes,
    ///   and does not rewrite them itself.
    #[serde(default)]
    pub native: bool,
}

impl TableMeta {
    /// Position of the column with SQL name `name` in [`columns`](Self::columns).
    pub fn column_position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }

    /// The column with SQL name `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnMeta> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The index named `name`.
    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|index| index.name == name)
    }

    /// The unique keys: the primary key first, then every unique index, as
    /// lists of SQL column names.
    pub fn unique_keys(&self) -> impl Iterator<Item = &[Name]> {
        std::iter::once(&*self.primary_key).chain(
            self.indexes
                .iter()
                .filter(|index| index.unique)
                .map(|index| &*index.columns),
        )
    }
}
