//! Untyped values and rows: what the cascade executor and the stores work on.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// One row of a table: one [`Value`] per column, in the order of
/// [`TableMeta::columns`](crate::TableMeta::columns).
pub type Row = Vec<Value>;

/// A column value, with SQLite's storage classes.
///
/// Comparison and equality follow SQLite's rules for values of different
/// classes: NULL sorts first, then numbers (an `Integer` and a `Real` compare
/// by numeric value, so `Integer(1) == Real(1.0)`), then text (by bytes, as
/// SQLite's `BINARY` collation), then blobs. Unlike SQL's `=`, `Null == Null`
/// holds here, so values can key ordered maps; the executor applies MATCH
/// SIMPLE (a key with a NULL column matches nothing) itself.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer (also `i32`, `i16` and `bool` columns).
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// The storage class of a column's non-NULL values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// `i64`, `i32`, `i16`, `bool`: SQL `INTEGER`.
    Integer,
    /// `f64`: SQL `REAL`.
    Real,
    /// `String`: SQL `TEXT`.
    Text,
    /// `Vec<u8>`: SQL `BLOB`.
    Blob,
}

impl ValueType {
    /// The SQL type name used in `CREATE TABLE`.
    pub const fn sql(self) -> &'static str {
        match self {
            ValueType::Integer => "INTEGER",
            ValueType::Real => "REAL",
            ValueType::Text => "TEXT",
            ValueType::Blob => "BLOB",
        }
    }
}

impl Value {
    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The storage class, or `None` for NULL.
    pub fn value_type(&self) -> Option<ValueType> {
        match self {
            Value::Null => None,
            Value::Integer(_) => Some(ValueType::Integer),
            Value::Real(_) => Some(ValueType::Real),
            Value::Text(_) => Some(ValueType::Text),
            Value::Blob(_) => Some(ValueType::Blob),
        }
    }

    /// Size of the value in bytes as the byte budget counts it: 8 for numbers,
    /// the length for text and blobs, 1 for NULL.
    pub fn size_bytes(&self) -> usize {
        match self {
            Value::Null => 1,
            Value::Integer(_) | Value::Real(_) => 8,
            Value::Text(text) => text.len(),
            Value::Blob(bytes) => bytes.len(),
        }
    }

    fn class_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        }
    }
}

/// Compares an integer with a float exactly, as SQLite does.
fn compare_integer_real(integer: i64, real: f64) -> Ordering {
    if real.is_nan() {
        // SQLite stores NaN as NULL; order it below every number, consistently.
        return Ordering::Greater;
    }
    // i64 -> f64 is exact up to 2^53; beyond that compare on the integer side.
    if real < -9_223_372_036_854_775_808.0 {
        return Ordering::Greater;
    }
    if real >= 9_223_372_036_854_775_808.0 {
        return Ordering::Less;
    }
    let truncated = real.trunc() as i64;
    match integer.cmp(&truncated) {
        Ordering::Equal => 0.0_f64.total_cmp(&(real - real.trunc())),
        other => other,
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Real(a), Value::Real(b)) => a.total_cmp(b),
            (Value::Integer(a), Value::Real(b)) => compare_integer_real(*a, *b),
            (Value::Real(a), Value::Integer(b)) => compare_integer_real(*b, *a).reverse(),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Blob(a), Value::Blob(b)) => a.cmp(b),
            _ => self.class_rank().cmp(&other.class_rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Integer(integer) => {
                1u8.hash(state);
                integer.hash(state);
            }
            // A float equal to an integer must hash as that integer.
            Value::Real(real) if real.fract() == 0.0 && real.abs() < 9.2e18 => {
                1u8.hash(state);
                (*real as i64).hash(state);
            }
            Value::Real(real) => {
                1u8.hash(state);
                real.to_bits().hash(state);
            }
            Value::Text(text) => {
                2u8.hash(state);
                text.hash(state);
            }
            Value::Blob(bytes) => {
                3u8.hash(state);
                bytes.hash(state);
            }
        }
    }
}

/// Values print as SQL literals: `NULL`, `42`, `1.5`, `'text'`, `X'0aff'`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Integer(integer) => write!(f, "{integer}"),
            Value::Real(real) => write!(f, "{real:?}"),
            Value::Text(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Value::Blob(bytes) => {
                f.write_str("X'")?;
                for byte in bytes {
                    write!(f, "{byte:02x}")?;
                }
                f.write_str("'")
            }
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! value_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(value: $t) -> Self {
                Value::Integer(i64::from(value))
            }
        }
    )*};
}
value_from_integer!(i64, i32, i16, i8, u32, u16, u8, bool);

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Real(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Self {
        Value::Blob(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// A key: the values of a row's key columns, in key order.
pub type Key = Vec<Value>;

/// Formats a key as `(1, 'a')`, or `1` when it has one column, for messages.
pub fn display_key(key: &[Value]) -> String {
    match key {
        [single] => single.to_string(),
        _ => {
            let parts: Vec<String> = key.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(value: &Value) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn classes_sort_as_in_sqlite() {
        let mut values = vec![
            Value::Blob(vec![0]),
            Value::Text("a".into()),
            Value::Real(1.5),
            Value::Integer(1),
            Value::Null,
        ];
        values.sort();
        assert_eq!(
            values,
            vec![
                Value::Null,
                Value::Integer(1),
                Value::Real(1.5),
                Value::Text("a".into()),
                Value::Blob(vec![0]),
            ]
        );
    }

    #[test]
    fn integer_equals_integral_real_and_hashes_alike() {
        assert_eq!(Value::Integer(3), Value::Real(3.0));
        assert_eq!(hash(&Value::Integer(3)), hash(&Value::Real(3.0)));
        assert!(Value::Integer(3) < Value::Real(3.5));
        assert!(Value::Real(-0.5) < Value::Integer(0));
        assert!(Value::Integer(i64::MAX) < Value::Real(1e19));
    }

    #[test]
    fn display_is_sql_literal() {
        assert_eq!(Value::Text("it's".into()).to_string(), "'it''s'");
        assert_eq!(Value::Blob(vec![10, 255]).to_string(), "X'0aff'");
        assert_eq!(display_key(&[Value::Integer(1), Value::Null]), "(1, NULL)");
        assert_eq!(display_key(&[Value::Integer(7)]), "7");
    }
}
