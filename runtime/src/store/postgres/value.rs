//! Values as PostgreSQL reads and writes them, by the parameter's or
//! column's actual type:
//!
//! | cascadia | PostgreSQL |
//! |---|---|
//! | `Integer` | `BIGINT`, `INTEGER`, `SMALLINT` (range-checked), `BOOLEAN` (0 / 1) |
//! | `Real` | `DOUBLE PRECISION`, `REAL` |
//! | `Text` | `TEXT`, `VARCHAR`, `CHAR`, `NAME` |
//! | `Blob` | `BYTEA` |
//! | `Null` | NULL of any of these types |
//!
//! A value that does not fit its column (text for a `BIGINT`, 2^40 for an
//! `INTEGER`) is refused before anything is sent, as a
//! [`StoreErrorKind::Data`](crate::StoreErrorKind::Data) error naming both.

use std::error::Error as StdError;

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::model::value::Value;

/// A value that does not fit the PostgreSQL type it is read from or written to.
#[derive(Debug, thiserror::Error)]
#[error("{value} does not fit a PostgreSQL {ty} {direction}")]
pub struct ValueError {
    /// The value (or, when reading, the type read).
    pub value: String,
    /// The PostgreSQL type.
    pub ty: String,
    /// "parameter" or "column".
    pub direction: &'static str,
}

fn refuse(value: &Value, ty: &Type) -> Box<dyn StdError + Sync + Send> {
    Box::new(ValueError {
        value: value.to_string(),
        ty: ty.name().to_owned(),
        direction: "parameter",
    })
}

/// The number types cascadia reads and writes.
const NUMBERS: [Type; 6] = [
    Type::INT8,
    Type::INT4,
    Type::INT2,
    Type::BOOL,
    Type::FLOAT8,
    Type::FLOAT4,
];

/// The text types cascadia reads and writes (`UNKNOWN`: an untyped literal).
const TEXTS: [Type; 5] = [
    Type::TEXT,
    Type::VARCHAR,
    Type::BPCHAR,
    Type::NAME,
    Type::UNKNOWN,
];

/// Whether cascadia reads and writes values of PostgreSQL type `ty`.
pub(super) fn supported(ty: &Type) -> bool {
    NUMBERS.contains(ty) || TEXTS.contains(ty) || *ty == Type::BYTEA
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Integer(i), t) if *t == Type::INT8 => i.to_sql(ty, out),
            (Value::Integer(i), t) if *t == Type::INT4 => i32::try_from(*i)
                .map_err(|_| refuse(self, ty))?
                .to_sql(ty, out),
            (Value::Integer(i), t) if *t == Type::INT2 => i16::try_from(*i)
                .map_err(|_| refuse(self, ty))?
                .to_sql(ty, out),
            (Value::Integer(i @ (0 | 1)), t) if *t == Type::BOOL => (*i == 1).to_sql(ty, out),
            (Value::Real(r), t) if *t == Type::FLOAT8 => r.to_sql(ty, out),
            (Value::Real(r), t) if *t == Type::FLOAT4 => (*r as f32).to_sql(ty, out),
            (Value::Text(s), t) if TEXTS.contains(t) => s.as_str().to_sql(ty, out),
            (Value::Blob(b), t) if *t == Type::BYTEA => b.as_slice().to_sql(ty, out),
            _ => Err(refuse(self, ty)),
        }
    }

    fn accepts(ty: &Type) -> bool {
        supported(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(match ty {
            t if *t == Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            t if *t == Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            t if *t == Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            t if *t == Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            t if *t == Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            t if *t == Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            t if *t == Type::BYTEA => Value::Blob(<Vec<u8>>::from_sql(ty, raw)?),
            t if supported(t) => Value::Text(String::from_sql(ty, raw)?),
            other => {
                return Err(Box::new(ValueError {
                    value: "a value".to_owned(),
                    ty: other.name().to_owned(),
                    direction: "column",
                }));
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(ty: &Type) -> bool {
        supported(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres::types::private::BytesMut;

    #[test]
    fn integers_are_range_checked_by_the_parameter_type() {
        let mut out = BytesMut::new();
        assert!(
            Value::Integer(1 << 40)
                .to_sql(&Type::INT4, &mut out)
                .is_err()
        );
        assert!(
            Value::Integer(1 << 20)
                .to_sql(&Type::INT2, &mut out)
                .is_err()
        );
        assert!(Value::Integer(7).to_sql(&Type::INT2, &mut out).is_ok());
        assert!(Value::Integer(2).to_sql(&Type::BOOL, &mut out).is_err());
        assert!(
            Value::Text("x".into())
                .to_sql(&Type::INT8, &mut out)
                .is_err()
        );
        assert!(Value::Blob(vec![1]).to_sql(&Type::TEXT, &mut out).is_err());
        assert!(matches!(
            Value::Null.to_sql(&Type::INT4, &mut out),
            Ok(IsNull::Yes)
        ));
    }

    #[test]
    fn a_refusal_names_the_value_and_the_type() {
        let error = refuse(&Value::Integer(1 << 40), &Type::INT4);
        assert_eq!(
            error.to_string(),
            "1099511627776 does not fit a PostgreSQL int4 parameter"
        );
    }
}
