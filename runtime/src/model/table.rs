//! The `Table` trait that `#[derive(Table)]` implements, typed keys (`Id<T>`)
//! and the column types a table may hold.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::metadata::TableMeta;
use crate::model::value::ValueType;

/// A table: a struct whose metadata `#[derive(Table)]` generated.
///
/// Implement it with the derive; the attribute language is documented on the
/// derive macro (`cascadia::Table`). Typed reads and writes also need
/// `serde::Serialize` and `serde::Deserialize`, whose field names must be the
/// struct's field names (no `#[serde(rename)]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a table",
    label = "not a table",
    note = "derive `Table` for `{Self}`: `#[derive(cascadia::Table)]`"
)]
pub trait Table: Sized + 'static {
    /// The Rust type of the primary key: the key column's type, or a tuple of
    /// the key columns' types in key order for a composite key.
    type PrimaryKey;

    /// The table's metadata: name, columns, keys, indexes, foreign keys.
    const META: &'static TableMeta;

    /// The typed index queries of the table: [`indexes`](Self::indexes)'
    /// value, with one method per index named after it (`by_team()`) and
    /// `by_primary_key()`.
    type Indexes;

    /// The typed index queries of the table: `Member::indexes().by_team()`
    /// starts a query on the index `by_team` (see the `Table` derive).
    ///
    /// The derive adds no inherent item to the struct, so the queries never
    /// collide with its own methods; if the struct has an associated function
    /// named `indexes` too, `Member::indexes()` means the struct's, and
    /// `<Member as Table>::indexes()` this one.
    fn indexes() -> Self::Indexes;
}

/// A typed key: the primary key of a row of `T`.
///
/// A field of type `Id<T>` (or `Option<Id<T>>`) is an implicit foreign key to
/// `T`'s primary key with `ON DELETE NO ACTION`; a `#[foreign_key]` on the
/// field replaces it. `Id<T>` stores and serialises exactly as
/// `T::PrimaryKey`, so it holds the same column values as the key it names.
pub struct Id<T: Table>(pub T::PrimaryKey);

impl<T: Table> Id<T> {
    /// Wraps a primary-key value of `T`.
    pub const fn new(key: T::PrimaryKey) -> Self {
        Id(key)
    }

    /// The wrapped primary-key value.
    pub fn key(&self) -> &T::PrimaryKey {
        &self.0
    }

    /// Unwraps the primary-key value.
    pub fn into_key(self) -> T::PrimaryKey {
        self.0
    }
}

impl<T: Table> Clone for Id<T>
where
    T::PrimaryKey: Clone,
{
    fn clone(&self) -> Self {
        Id(self.0.clone())
    }
}

impl<T: Table> Copy for Id<T> where T::PrimaryKey: Copy {}

impl<T: Table> fmt::Debug for Id<T>
where
    T::PrimaryKey: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id<{}>({:?})", T::META.type_name, self.0)
    }
}

impl<T: Table> PartialEq for Id<T>
where
    T::PrimaryKey: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Table> Eq for Id<T> where T::PrimaryKey: Eq {}

impl<T: Table> PartialOrd for Id<T>
where
    T::PrimaryKey: PartialOrd,
{
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

impl<T: Table> Ord for Id<T>
where
    T::PrimaryKey: Ord,
{
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<T: Table> Hash for Id<T>
where
    T::PrimaryKey: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<T: Table> Serialize for Id<T>
where
    T::PrimaryKey: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Table> Deserialize<'de> for Id<T>
where
    T::PrimaryKey: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::PrimaryKey::deserialize(deserializer).map(Id)
    }
}

/// A Rust type that one column can hold.
///
/// Implemented for `i64`, `i32`, `i16`, `i8`, `u8`, `u16`, `u32`, `u64`,
/// `bool` (SQL `INTEGER`; SQLite's integers are 64-bit signed, so a `u64`
/// column holds 0 to `i64::MAX`, and writing a larger value fails with
/// [`Error::Conversion`](crate::Error::Conversion) naming the column and
/// the value), `f64`
/// (`REAL`), `String` (`TEXT`), `Vec<u8>` (`BLOB`), `Option<T>` of those
/// (nullable) and `Id<T>` (the type of `T`'s single-column primary key).
/// Implement it for a newtype that serialises as one of these (for example
/// with `#[serde(transparent)]`) to use the newtype as a column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a column",
    label = "unsupported column type",
    note = "columns hold i64, i32, i16, i8, u8, u16, u32, u64, bool, f64, String, Vec<u8>, Id<T>, or an Option of one of them; implement `cascadia::ColumnType` for a newtype to store it"
)]
pub trait ColumnType {
    /// Storage class of the column's non-NULL values.
    const VALUE_TYPE: ValueType;
    /// Whether the column accepts NULL.
    const NULLABLE: bool = false;
}

macro_rules! column_types {
    ($($t:ty => $class:ident),* $(,)?) => {$(
        impl ColumnType for $t {
            const VALUE_TYPE: ValueType = ValueType::$class;
        }
    )*};
}

column_types!(
    i64 => Integer,
    i32 => Integer,
    i16 => Integer,
    i8 => Integer,
    u8 => Integer,
    u16 => Integer,
    u32 => Integer,
    // SQLite's integers are 64-bit signed: a u64 column holds 0 to
    // i64::MAX; a larger value is refused when written, naming the column.
    u64 => Integer,
    bool => Integer,
    f64 => Real,
    String => Text,
    Vec<u8> => Blob,
);

impl<T: ColumnType> ColumnType for Option<T> {
    const VALUE_TYPE: ValueType = T::VALUE_TYPE;
    const NULLABLE: bool = true;
}

impl<T: Table> ColumnType for Id<T>
where
    T::PrimaryKey: ColumnType,
{
    const VALUE_TYPE: ValueType = <T::PrimaryKey as ColumnType>::VALUE_TYPE;
    const NULLABLE: bool = <T::PrimaryKey as ColumnType>::NULLABLE;
}
