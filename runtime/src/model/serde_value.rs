//! Typed rows through serde: a `#[derive(Table)]` struct to a [`Row`] and back,
//! a key type (`T::PrimaryKey`, a tuple for composite keys) to a [`Key`], one
//! Rust value to a [`Value`].
//!
//! The column types are those of [`ColumnType`](crate::ColumnType): integers
//! and `bool` become `Integer` (`bool` as 0 or 1, as SQLite stores it; a
//! `u64` above `i64::MAX` is refused, naming the column and the value, and a
//! negative value read into an unsigned field too), `f64`
//! becomes `Real`, strings `Text`, `Vec<u8>` `Blob`, `None` NULL, and newtypes
//! (`Id<T>`, `#[serde(transparent)]` wrappers) their inner value. Anything
//! else — maps, nested structs, enums with data — is refused with a
//! [`ConversionError`] naming what was found.

use std::fmt;

use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self, Impossible, Serialize};

use crate::model::metadata::TableMeta;
use crate::model::value::{Key, Row, Value};

/// Why a Rust value and a row or column value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConversionError {
    /// What went wrong, e.g. "a map cannot be stored in one column".
    pub message: String,
    /// The Rust field (and so the column) concerned, when known.
    pub field: Option<String>,
}

impl ConversionError {
    fn new(message: impl Into<String>) -> Self {
        ConversionError {
            message: message.into(),
            field: None,
        }
    }

    fn in_field(mut self, field: &str) -> Self {
        self.field.get_or_insert_with(|| field.to_owned());
        self
    }
}

impl ser::Error for ConversionError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        ConversionError::new(message.to_string())
    }
}

impl de::Error for ConversionError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        ConversionError::new(message.to_string())
    }
}

/// Converts one Rust value to a column value.
///
/// # Errors
/// [`ConversionError`] if `value` does not serialise as a single scalar, NULL,
/// or bytes (see the module documentation), or is an integer above `i64::MAX`.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ConversionError> {
    value.serialize(ValueSerializer)
}

/// Converts a key (`T::PrimaryKey`: one column's type, or a tuple of the key
/// columns' types) to its column values, in key order.
///
/// # Errors
/// [`ConversionError`] if an element is not a column value (see [`to_value`]).
pub fn to_key<T: Serialize + ?Sized>(key: &T) -> Result<Key, ConversionError> {
    key.serialize(KeySerializer)
}

/// Converts a table's struct to a row: one value per column, in the order of
/// `table.columns`, matched by field name ([`ColumnMeta::field`](crate::ColumnMeta::field)).
///
/// # Errors
/// [`ConversionError`] naming the field if a field has no column, a column
/// has no field, or a field's value is not a column value.
pub fn to_row<T: Serialize + ?Sized>(table: &TableMeta, row: &T) -> Result<Row, ConversionError> {
    row.serialize(RowSerializer {
        table,
        values: vec![None; table.columns.len()],
    })
}

/// Converts a row (one value per column of `table`, in column order) to the
/// table's struct.
///
/// # Errors
/// [`ConversionError`] naming the field if the row has the wrong number of
/// values or a value does not fit its field's type (e.g. NULL in a non-`Option`
/// field, text in an integer field).
pub fn from_row<T: DeserializeOwned>(table: &TableMeta, row: Row) -> Result<T, ConversionError> {
    if row.len() != table.columns.len() {
        return Err(ConversionError::new(format!(
            "table `{}` has {} columns but the row has {} values",
            table.name,
            table.columns.len(),
            row.len()
        )));
    }
    T::deserialize(RowDeserializer { table, row })
}

/// Converts a column value to a Rust value.
///
/// # Errors
/// [`ConversionError`] if the value does not fit `T` (NULL for a non-`Option`,
/// an integer out of `T`'s range, text for a number, ...).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ConversionError> {
    T::deserialize(value)
}

// ---------------------------------------------------------------------------
// Rust value -> Value

struct ValueSerializer;

fn unsupported(what: &str) -> ConversionError {
    ConversionError::new(format!(
        "{what} cannot be stored in one column; columns hold integers, bool, f64, strings, bytes, Option and Id"
    ))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ConversionError;
    type SerializeSeq = BytesSerializer;
    type SerializeTuple = Impossible<Value, ConversionError>;
    type SerializeTupleStruct = Impossible<Value, ConversionError>;
    type SerializeTupleVariant = Impossible<Value, ConversionError>;
    type SerializeMap = Impossible<Value, ConversionError>;
    type SerializeStruct = Impossible<Value, ConversionError>;
    type SerializeStructVariant = Impossible<Value, ConversionError>;

    fn serialize_bool(self, v: bool) -> Result<Value, ConversionError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ConversionError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ConversionError> {
        i64::try_from(v).map(Value::Integer).map_err(|_| {
            ConversionError::new(format!(
                "{v} is above {}, the largest integer SQLite stores: a u64 column holds 0 to {}",
                i64::MAX,
                i64::MAX
            ))
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ConversionError> {
        Ok(Value::Real(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ConversionError> {
        Ok(Value::Real(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ConversionError> {
        Ok(Value::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ConversionError> {
        Ok(Value::Text(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ConversionError> {
        Ok(Value::Blob(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, ConversionError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ConversionError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ConversionError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, ConversionError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, ConversionError> {
        Ok(Value::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, ConversionError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<Value, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<BytesSerializer, ConversionError> {
        Ok(BytesSerializer(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ConversionError> {
        Err(unsupported("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ConversionError> {
        Err(unsupported(&format!("tuple struct `{name}`")))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ConversionError> {
        Err(unsupported("a map"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ConversionError> {
        Err(unsupported(&format!("struct `{name}`")))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
}

/// `Vec<u8>` serialises as a sequence of `u8`: collect it into a blob.
struct BytesSerializer(Vec<u8>);

impl ser::SerializeSeq for BytesSerializer {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), ConversionError> {
        match value.serialize(ValueSerializer)? {
            Value::Integer(byte @ 0..=255) => {
                self.0.push(byte as u8);
                Ok(())
            }
            _ => Err(unsupported("a sequence other than bytes")),
        }
    }

    fn end(self) -> Result<Value, ConversionError> {
        Ok(Value::Blob(self.0))
    }
}

// ---------------------------------------------------------------------------
// key -> Key

struct KeySerializer;

/// Collects the elements of a tuple key.
struct KeyTupleSerializer(Key);

impl ser::SerializeTuple for KeyTupleSerializer {
    type Ok = Key;
    type Error = ConversionError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), ConversionError> {
        self.0.push(to_value(value)?);
        Ok(())
    }

    fn end(self) -> Result<Key, ConversionError> {
        Ok(self.0)
    }
}

macro_rules! single_column_key {
    ($($method:ident($t:ty)),* $(,)?) => {$(
        fn $method(self, v: $t) -> Result<Key, ConversionError> {
            Ok(vec![ValueSerializer.$method(v)?])
        }
    )*};
}

impl ser::Serializer for KeySerializer {
    type Ok = Key;
    type Error = ConversionError;
    type SerializeSeq = Impossible<Key, ConversionError>;
    type SerializeTuple = KeyTupleSerializer;
    type SerializeTupleStruct = Impossible<Key, ConversionError>;
    type SerializeTupleVariant = Impossible<Key, ConversionError>;
    type SerializeMap = Impossible<Key, ConversionError>;
    type SerializeStruct = Impossible<Key, ConversionError>;
    type SerializeStructVariant = Impossible<Key, ConversionError>;

    single_column_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    fn serialize_none(self) -> Result<Key, ConversionError> {
        Ok(vec![Value::Null])
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Key, ConversionError> {
        Ok(vec![to_value(value)?])
    }
    fn serialize_unit(self) -> Result<Key, ConversionError> {
        Err(unsupported("`()` as a key"))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Key, ConversionError> {
        Err(unsupported(&format!("unit struct `{name}` as a key")))
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Key, ConversionError> {
        Ok(vec![
            ValueSerializer.serialize_unit_variant(name, index, variant)?,
        ])
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Key, ConversionError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<Key, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ConversionError> {
        Err(unsupported("a sequence as a key"))
    }
    fn serialize_tuple(self, len: usize) -> Result<KeyTupleSerializer, ConversionError> {
        Ok(KeyTupleSerializer(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ConversionError> {
        Err(unsupported(&format!("tuple struct `{name}` as a key")))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ConversionError> {
        Err(unsupported("a map as a key"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ConversionError> {
        Err(unsupported(&format!("struct `{name}` as a key")))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ConversionError> {
        Err(unsupported(&format!("enum variant `{variant}` with data")))
    }
}

// ---------------------------------------------------------------------------
// struct -> Row

struct RowSerializer<'t> {
    table: &'t TableMeta,
    values: Vec<Option<Value>>,
}

fn not_a_struct(table: &TableMeta) -> ConversionError {
    ConversionError::new(format!(
        "a row of table `{}` must serialise as a struct with one field per column",
        table.name
    ))
}

impl ser::SerializeStruct for RowSerializer<'_> {
    type Ok = Row;
    type Error = ConversionError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<(), ConversionError> {
        let position = self
            .table
            .columns
            .iter()
            .position(|column| column.field == field)
            .ok_or_else(|| {
                ConversionError::new(format!(
                    "field `{field}` has no column in table `{}` (is it renamed with serde?)",
                    self.table.name
                ))
                .in_field(field)
            })?;
        let column = &self.table.columns[position];
        self.values[position] = Some(to_value(value).map_err(|error| {
            ConversionError::new(format!(
                "column `{}` of table `{}` (field `{field}`): {}",
                column.name, self.table.name, error.message
            ))
            .in_field(field)
        })?);
        Ok(())
    }

    fn end(self) -> Result<Row, ConversionError> {
        self.values
            .into_iter()
            .zip(self.table.columns.iter())
            .map(|(value, column)| {
                value.ok_or_else(|| {
                    ConversionError::new(format!(
                        "column `{}` of table `{}` got no value: field `{}` was not serialised",
                        column.name, self.table.name, column.field
                    ))
                    .in_field(&column.field)
                })
            })
            .collect()
    }
}

impl<'t> ser::Serializer for RowSerializer<'t> {
    type Ok = Row;
    type Error = ConversionError;
    type SerializeSeq = Impossible<Row, ConversionError>;
    type SerializeTuple = Impossible<Row, ConversionError>;
    type SerializeTupleStruct = Impossible<Row, ConversionError>;
    type SerializeTupleVariant = Impossible<Row, ConversionError>;
    type SerializeMap = Impossible<Row, ConversionError>;
    type SerializeStruct = RowSerializer<'t>;
    type SerializeStructVariant = Impossible<Row, ConversionError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, ConversionError> {
        Ok(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Row, ConversionError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_i8(self, _: i8) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_i16(self, _: i16) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_i32(self, _: i32) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_i64(self, _: i64) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_u8(self, _: u8) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_u16(self, _: u16) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_u32(self, _: u32) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_u64(self, _: u64) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_f32(self, _: f32) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_f64(self, _: f64) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_char(self, _: char) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_str(self, _: &str) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_none(self) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_unit(self) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Row, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ConversionError> {
        Err(not_a_struct(self.table))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ConversionError> {
        Err(not_a_struct(self.table))
    }
}

// ---------------------------------------------------------------------------
// Value -> Rust value

impl<'de> IntoDeserializer<'de, ConversionError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = ConversionError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConversionError> {
        match self {
            Value::Null => visitor.visit_none(),
            Value::Integer(integer) => visitor.visit_i64(integer),
            Value::Real(real) => visitor.visit_f64(real),
            Value::Text(text) => visitor.visit_string(text),
            Value::Blob(bytes) => visitor.visit_seq(SeqDeserializer::<_, ConversionError>::new(
                bytes.into_iter(),
            )),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConversionError> {
        match self {
            Value::Integer(integer) => visitor.visit_bool(integer != 0),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConversionError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConversionError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConversionError> {
        match self {
            Value::Text(variant) => visitor.visit_enum(variant.into_deserializer()),
            other => Err(de::Error::invalid_type(other.unexpected(), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl Value {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Value::Null => de::Unexpected::Option,
            Value::Integer(integer) => de::Unexpected::Signed(*integer),
            Value::Real(real) => de::Unexpected::Float(*real),
            Value::Text(text) => de::Unexpected::Str(text),
            Value::Blob(bytes) => de::Unexpected::Bytes(bytes),
        }
    }
}

// ---------------------------------------------------------------------------
// Row -> struct

struct RowDeserializer<'t> {
    table: &'t TableMeta,
    row: Row,
}

/// Presents a row as a map from field name to value.
struct RowAccess<'t> {
    table: &'t TableMeta,
    values: std::iter::Enumerate<std::vec::IntoIter<Value>>,
    current: Option<(usize, Value)>,
}

impl<'de> de::MapAccess<'de> for RowAccess<'_> {
    type Error = ConversionError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConversionError> {
        let Some((position, value)) = self.values.next() else {
            return Ok(None);
        };
        let field = self.table.columns[position].field.to_string();
        self.current = Some((position, value));
        seed.deserialize(field.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ConversionError> {
        let (position, value) = self
            .current
            .take()
            .ok_or_else(|| ConversionError::new("a row value was read before its field name"))?;
        let column = &self.table.columns[position];
        seed.deserialize(value).map_err(|error| {
            ConversionError::new(format!(
                "column `{}` of table `{}` (field `{}`): {}",
                column.name, self.table.name, column.field, error.message
            ))
            .in_field(&column.field)
        })
    }
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_> {
    type Error = ConversionError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConversionError> {
        visitor.visit_map(RowAccess {
            table: self.table,
            values: self.row.into_iter().enumerate(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metadata::{ColumnMeta, Name};
    use crate::model::value::ValueType;
    use serde::{Deserialize, Serialize};
    use std::borrow::Cow;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Member {
        id: i64,
        name: String,
        active: bool,
        score: f64,
        avatar: Vec<u8>,
        mentor: Option<i32>,
    }

    fn column(name: &'static str, value_type: ValueType, nullable: bool) -> ColumnMeta {
        ColumnMeta {
            name: Cow::Borrowed(name),
            field: Cow::Borrowed(name),
            rust_type: Cow::Borrowed("?"),
            value_type,
            nullable,
            default: None,
        }
    }

    fn members() -> TableMeta {
        TableMeta {
            name: Name::Borrowed("members"),
            type_name: Name::Borrowed("Member"),
            columns: Cow::Owned(vec![
                column("id", ValueType::Integer, false),
                column("name", ValueType::Text, false),
                column("active", ValueType::Integer, false),
                column("score", ValueType::Real, false),
                column("avatar", ValueType::Blob, false),
                column("mentor", ValueType::Integer, true),
            ]),
            primary_key: Cow::Borrowed(&[Cow::Borrowed("id")]),
            indexes: Cow::Borrowed(&[]),
            foreign_keys: Cow::Borrowed(&[]),
            soft_delete: None,
            deletion: Default::default(),
        }
    }

    #[test]
    fn struct_round_trips_through_a_row() {
        let table = members();
        let member = Member {
            id: 7,
            name: "Ada".into(),
            active: true,
            score: 1.5,
            avatar: vec![1, 2],
            mentor: None,
        };
        let row = to_row(&table, &member).unwrap();
        assert_eq!(
            row,
            vec![
                Value::Integer(7),
                Value::Text("Ada".into()),
                Value::Integer(1),
                Value::Real(1.5),
                Value::Blob(vec![1, 2]),
                Value::Null,
            ]
        );
        assert_eq!(from_row::<Member>(&table, row).unwrap(), member);
    }

    #[test]
    fn keys_are_flattened_tuples() {
        assert_eq!(to_key(&5_i64).unwrap(), vec![Value::Integer(5)]);
        assert_eq!(
            to_key(&(1_i32, "a".to_string())).unwrap(),
            vec![Value::Integer(1), Value::Text("a".into())]
        );
    }

    #[test]
    fn errors_name_the_column() {
        let table = members();
        let mut row = to_row(
            &table,
            &Member {
                id: 1,
                name: "x".into(),
                active: false,
                score: 0.0,
                avatar: vec![],
                mentor: Some(2),
            },
        )
        .unwrap();
        row[1] = Value::Null;
        let error = from_row::<Member>(&table, row).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("name"));
        assert!(
            error.message.contains("column `name` of table `members`"),
            "{error}"
        );
    }

    #[test]
    fn out_of_range_and_nested_values_are_refused() {
        assert!(from_value::<i16>(Value::Integer(1 << 20)).is_err());
        assert!(to_value(&u64::MAX).is_err());
        assert_eq!(
            to_value(&(i64::MAX as u64)).unwrap(),
            Value::Integer(i64::MAX)
        );
        assert!(from_value::<u32>(Value::Integer(-1)).is_err());
        assert!(from_value::<u64>(Value::Integer(-1)).is_err());
        assert_eq!(from_value::<u8>(Value::Integer(255)).unwrap(), 255);
        assert!(to_value(&std::collections::BTreeMap::<i32, i32>::new()).is_err());
        assert_eq!(from_value::<Option<i64>>(Value::Null).unwrap(), None);
    }
}
