//! What a derived table exposes so that the derive of another table can check
//! a reference to it.
//!
//! A derive sees one struct. When `Member` declares
//! `#[foreign_key(columns(org, team_code), references = Team(org_id, code))]`,
//! the derive of `Member` cannot see `Team`'s attributes, so it emits code
//! that only compiles when the reference is right, against the items below
//! that the derive of `Team` generated:
//!
//! | check | emitted by `Member`'s derive (spanned on the user's tokens) |
//! |---|---|
//! | C2 `Team` is a table | `<Team as Table>::Indexes` |
//! | C3 `Team` has a field `org_id` | `team.org_id`, in a function never called, `team: Team` |
//! | C4 the column types fit | a [`Probe`](super::Probe) of the field's type and `team.org_id`'s |
//! | C5 `(org_id, code)` is a key of `Team` | a `const` that checks [`DerivedTable::KEYS`] |
//!
//! Everything about `Team` is reached through `<Team as Table>::Indexes`:
//! when `Team` is not a table, that projection is the one error rustc reports
//! ("`Team` is not a table"), and everything built on it stays silent instead
//! of adding errors about cascadia's internals. An `Id<Team>` column reaches
//! `Team` through its own type instead ([`IdColumn`]), so that the error is
//! the one rustc reports on the field.

use crate::model::metadata::Name;
use crate::model::table::{ColumnType, Id, Table};
use crate::model::value::ValueType;

/// What a derived table `T` tells the derives of the tables that reference
/// it, implemented by `#[derive(Table)]` on `T`'s [`Table::Indexes`] type
/// (`impl DerivedTable<Team> for TeamIndexes`), not on `T`.
///
/// Why that type: a reference to a type that is not a table then fails only
/// on `<X as Table>::Indexes` (the message users should read), and the self
/// type of this trait stays unknown, which rustc does not report. And each
/// table's impl has a self type of its own, which keeps rustc's coherence
/// check linear in the number of tables.
///
/// Kept apart from [`Table::META`] so that two tables that reference each
/// other do not make their metadata cyclic.
#[diagnostic::on_unimplemented(
    message = "`{T}` implements `Table` by hand, so a derived table cannot reference it",
    label = "`{T}` does not derive `Table`",
    note = "derive `Table` for `{T}`: `#[derive(cascadia::Table)]`"
)]
pub trait DerivedTable<T> {
    /// SQL name of `T`, as `T::META.name`.
    const TABLE_NAME: &'static str;
    /// `(field, SQL name)` of each column whose SQL name is not its field's
    /// name, for a reference that names columns by field.
    const RENAMED: &'static [(&'static str, &'static str)];
    /// SQL names of the primary key's columns, in key order.
    const PRIMARY_KEY: &'static [Name];
    /// The primary key and each unique key, as field names in sorted order.
    const KEYS: &'static [&'static [&'static str]];
    /// The Rust types of the primary key's columns, as a tuple in key order:
    /// `(i64,)`, `(i64, String)`.
    type KeyColumns;
    /// `T`'s derive failed (its errors are reported there): every check
    /// against `T` passes.
    const STUB: bool = false;
}

/// The type of a column that holds a key of another table, `Id<T>` or
/// `Option<Id<T>>`, and what that column needs to know about `T`.
///
/// The derive reaches `T` through the column's type (`<Id<T> as
/// IdColumn>`), so that when `T` is not a table the only error is the one
/// rustc reports on the field's `Id<T>`.
pub trait IdColumn {
    /// `Option<Id<T>>`.
    const NULLABLE: bool;
    /// SQL name of `T`.
    const TABLE_NAME: &'static str;
    /// SQL names of `T`'s primary-key columns.
    const PRIMARY_KEY: &'static [Name];
    /// Storage class of `T`'s key.
    const VALUE_TYPE: ValueType;
    /// `T`'s derive failed.
    const STUB: bool;
}

/// The type of the first column of `T`'s primary key.
type FirstKeyColumn<T> =
    <<<T as Table>::Indexes as DerivedTable<T>>::KeyColumns as KeyColumn<0>>::Type;

impl<T: Table> IdColumn for Id<T>
where
    T::Indexes: DerivedTable<T>,
    <T::Indexes as DerivedTable<T>>::KeyColumns: KeyColumn<0>,
    FirstKeyColumn<T>: ColumnType,
{
    const NULLABLE: bool = false;
    const TABLE_NAME: &'static str = <T::Indexes as DerivedTable<T>>::TABLE_NAME;
    const PRIMARY_KEY: &'static [Name] = <T::Indexes as DerivedTable<T>>::PRIMARY_KEY;
    const VALUE_TYPE: ValueType = <FirstKeyColumn<T> as ColumnType>::VALUE_TYPE;
    const STUB: bool = <T::Indexes as DerivedTable<T>>::STUB;
}

impl<I: IdColumn> IdColumn for Option<I> {
    const NULLABLE: bool = true;
    const TABLE_NAME: &'static str = I::TABLE_NAME;
    const PRIMARY_KEY: &'static [Name] = I::PRIMARY_KEY;
    const VALUE_TYPE: ValueType = I::VALUE_TYPE;
    const STUB: bool = I::STUB;
}

/// [`DerivedTable::KeyColumns`] if the key has `N` columns, [`Unknown`]
/// otherwise: a foreign key of `N` columns to a key of another length gets
/// the one error that says so (a `const` check), not one per column.
pub trait KeyArity<const N: usize> {
    /// The key's column types, or [`Unknown`].
    type Columns;
}

/// The type of column `I` of a tuple of key column types ([`Unknown`] for
/// [`Unknown`]).
pub trait KeyColumn<const I: usize> {
    /// The column's Rust type.
    type Type;
}

impl<const N: usize> KeyArity<N> for Unknown {
    type Columns = Unknown;
}

impl<const I: usize> KeyColumn<I> for Unknown {
    type Type = Unknown;
}

/// `KeyArity` and `KeyColumn` for the tuples of 1 to 12 types: the tuple,
/// its length, the other lengths, and each parameter with its position.
macro_rules! key_tuples {
    ($($params:tt $n:literal; [$($other:literal)+]; [$($p:ident $i:literal)+])+) => {$(
        key_tuples!(@arity $params $n);
        $(key_tuples!(@arity $params $other Unknown);)+
        $(key_tuples!(@column $params $p $i);)+
    )+};
    (@arity ($($t:ident),+) $n:literal) => {
        impl<$($t),+> KeyArity<$n> for ($($t,)+) {
            type Columns = ($($t,)+);
        }
    };
    (@arity ($($t:ident),+) $n:literal $columns:ty) => {
        impl<$($t),+> KeyArity<$n> for ($($t,)+) {
            type Columns = $columns;
        }
    };
    (@column ($($t:ident),+) $p:ident $i:literal) => {
        impl<$($t),+> KeyColumn<$i> for ($($t,)+) {
            type Type = $p;
        }
    };
}

key_tuples! {
    (A) 1; [2 3 4 5 6 7 8 9 10 11 12]; [A 0]
    (A, B) 2; [1 3 4 5 6 7 8 9 10 11 12]; [A 0 B 1]
    (A, B, C) 3; [1 2 4 5 6 7 8 9 10 11 12]; [A 0 B 1 C 2]
    (A, B, C, D) 4; [1 2 3 5 6 7 8 9 10 11 12]; [A 0 B 1 C 2 D 3]
    (A, B, C, D, E) 5; [1 2 3 4 6 7 8 9 10 11 12]; [A 0 B 1 C 2 D 3 E 4]
    (A, B, C, D, E, F) 6; [1 2 3 4 5 7 8 9 10 11 12]; [A 0 B 1 C 2 D 3 E 4 F 5]
    (A, B, C, D, E, F, G) 7; [1 2 3 4 5 6 8 9 10 11 12]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6]
    (A, B, C, D, E, F, G, H) 8; [1 2 3 4 5 6 7 9 10 11 12]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7]
    (A, B, C, D, E, F, G, H, I) 9; [1 2 3 4 5 6 7 8 10 11 12]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8]
    (A, B, C, D, E, F, G, H, I, J) 10; [1 2 3 4 5 6 7 8 9 11 12]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9]
    (A, B, C, D, E, F, G, H, I, J, K) 11; [1 2 3 4 5 6 7 8 9 10 12]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10]
    (A, B, C, D, E, F, G, H, I, J, K, L) 12; [1 2 3 4 5 6 7 8 9 10 11]; [A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11]
}

/// Never implemented. Messages that the derive generates for one place (a
/// trait with a literal `on_unimplemented` message) get a blanket impl bounded
/// by this trait and marked `#[diagnostic::do_not_recommend]`, so rustc
/// reports the message itself rather than "this trait has no implementations".
pub trait Unsatisfiable {}

/// The primary-key type, key columns and column type of a table whose derive
/// failed: the derive still implements `Table` (with this key) beside its
/// errors, and every check against this type passes, so that code using the
/// table does not drown the errors in follow-on ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unknown {}

impl ColumnType for Unknown {
    const VALUE_TYPE: ValueType = ValueType::Integer;
}

impl serde::Serialize for Unknown {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl<'de> serde::Deserialize<'de> for Unknown {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "the key of a table whose `#[derive(Table)]` failed",
        ))
    }
}
