//! What a derived table exposes so that the derive of another table can check
//! a reference to it.
//!
//! A derive sees one struct. When `Member` declares
//! `#[foreign_key(columns(org, team_code), references = Team(org_id, code))]`,
//! the derive of `Member` cannot see `Team`'s fields, so it emits code that
//! only compiles when the reference is right, against the items below that the
//! derive of `Team` generated:
//!
//! | check | emitted by `Member`'s derive (spanned on the user's tokens) |
//! |---|---|
//! | C2 `Team` is a table | `<Team as Table>::PrimaryKey` |
//! | C3 `Team` has a field `org_id` | `<<Team as Table>::PrimaryKey as DerivedTable<Team>>::COLUMNS.org_id` |
//! | C4 the column types fit | a [`Probe`](super::Probe) of the two types |
//! | C5 `(org_id, code)` is a key of `Team` | `Team: UniqueKey<(team::code, team::org_id)>` |
//!
//! Everything about `Team` is reached through `<Team as Table>::PrimaryKey`:
//! when `Team` is not a table, that projection is the one error rustc reports
//! ("`Team` is not a table"), and everything built on it stays silent instead
//! of adding errors about cascadia's internals.

use std::marker::PhantomData;

use crate::model::metadata::Name;

/// The columns of a derived table `T`, implemented by `#[derive(Table)]` on
/// `T`'s primary-key type (`impl DerivedTable<Team> for i64`), not on `T`.
///
/// Why the key type: a reference to a type that is not a table then fails
/// only on `<X as Table>::PrimaryKey` (the message users should read), and
/// the self type of this trait stays unknown, which rustc does not report.
#[diagnostic::on_unimplemented(
    message = "`{T}` implements `Table` by hand, so a derived table cannot reference it",
    label = "`{T}` does not derive `Table`",
    note = "derive `Table` for `{T}`: `#[derive(cascadia::Table)]`"
)]
pub trait DerivedTable<T> {
    /// SQL name of `T`, as `T::META.name` (kept apart from `META` so that two
    /// tables that reference each other do not make their metadata cyclic).
    const TABLE_NAME: &'static str;
    /// A struct with one public field per column of `T`, named like `T`'s
    /// field, of type [`Column<marker>`](Column): `COLUMNS.org_id` is how a
    /// reference names a column, and a missing column is rustc's
    /// "no field `x` on type `TeamColumns`" with its list of fields.
    type Columns;
    /// The value of [`Columns`](Self::Columns).
    const COLUMNS: Self::Columns;
    /// The markers of the primary key's columns, as a tuple in key order.
    type PrimaryKeyColumns;
    /// SQL names of the primary key's columns, in key order.
    const PRIMARY_KEY: &'static [Name];
}

/// One column of a derived table, implemented on the column's marker type
/// (an empty enum named after the field, in a module named after the table,
/// so that it reads `team::org_id` in messages).
pub trait ColumnInfo {
    /// The table of the column.
    type Table;
    /// The field's Rust type.
    type Type;
    /// SQL name of the column.
    const NAME: &'static str;
}

/// A column of a derived table, as a value: the type of each field of
/// [`DerivedTable::Columns`].
pub struct Column<M>(PhantomData<fn() -> M>);

impl<M> Column<M> {
    /// The column.
    pub const fn new() -> Self {
        Column(PhantomData)
    }
}

impl<M> Default for Column<M> {
    fn default() -> Self {
        Column::new()
    }
}

impl<M> Clone for Column<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Column<M> {}

impl<M: ColumnInfo> Column<M> {
    /// SQL name of the column.
    pub const fn name(&self) -> &'static str {
        M::NAME
    }
}

/// A primary or unique key of a derived table, implemented by the derive for
/// the primary key and each unique index: `K` is the tuple of the key's column
/// markers sorted by field name, so that `Team(code, org_id)` and
/// `Team(org_id, code)` name the same key.
pub trait UniqueKey<K> {}

/// The tuple of markers of a tuple of [`Column`]s (see [`markers`]).
pub trait MarkersOf {
    /// `(A, B)` for `(Column<A>, Column<B>)`.
    type Markers;
}

/// The markers of a tuple of columns, as a type: `markers((cols.code, cols.org_id))`
/// is a `PhantomData<(team::code, team::org_id)>`, ready for a [`UniqueKey`] check.
pub const fn markers<K: MarkersOf>(columns: K) -> PhantomData<K::Markers> {
    std::mem::forget(columns);
    PhantomData
}

macro_rules! markers_of {
    ($(($($m:ident),+))+) => {$(
        impl<$($m),+> MarkersOf for ($(Column<$m>,)+) {
            type Markers = ($($m,)+);
        }
    )+};
}

markers_of! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
}

/// The column of a single-column primary key of `T`, implemented by the
/// derive on `T`'s primary-key type when the key has one column.
///
/// An `Id<T>` field, or a one-column `references = T`, goes through this
/// trait, behind a trait the referencing derive generates with a message that
/// names the field, so a composite key gets that message instead of one about
/// tuples.
pub trait SingleColumnKey<T> {
    /// The marker of the key column.
    type Column: ColumnInfo;
}

/// Never implemented. Messages that the derive generates for one place (a
/// trait with a literal `on_unimplemented` message) get a blanket impl bounded
/// by this trait and marked `#[diagnostic::do_not_recommend]`, so rustc
/// reports the message itself rather than "this trait has no implementations".
pub trait Unsatisfiable {}

/// The primary-key type, column marker and column type of a table whose
/// derive failed: the derive still implements `Table` (with this key) beside
/// its errors, and every check against this type passes, so that code using
/// the table does not drown the errors in follow-on ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unknown {}

impl ColumnInfo for Unknown {
    type Table = Unknown;
    type Type = Unknown;
    const NAME: &'static str = "?";
}

impl crate::ColumnType for Unknown {
    const VALUE_TYPE: crate::ValueType = crate::ValueType::Integer;
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
