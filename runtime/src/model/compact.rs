//! A compact serde form of keys for job records, which every batch rewrites:
//! an integer is a JSON number, a text a JSON string, NULL is `null`; the
//! rare others are tagged (`{"r": <f64 bits>}`, `{"b": [bytes]}`). A key of
//! one integer is `[123456]` rather than `[{"integer":123456}]`, which
//! keeps a frame of 1,000 keys near 8 KB.
//!
//! Used with `#[serde(with = "crate::model::compact::keys")]` and friends.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::model::position::ScanPosition;
use crate::model::value::{Key, Value};

/// One value in compact form (borrowed, for serialising).
struct Out<'a>(&'a Value);

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Integer(i) => serializer.serialize_i64(*i),
            Value::Text(text) => serializer.serialize_str(text),
            Value::Real(real) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("r", &real.to_bits())?;
                map.end()
            }
            Value::Blob(bytes) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("b", bytes)?;
                map.end()
            }
        }
    }
}

/// One value in compact form (owned, for deserialising).
struct In(Value);

impl<'de> Deserialize<'de> for In {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = In;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a compact key value")
            }

            fn visit_unit<E: de::Error>(self) -> Result<In, E> {
                Ok(In(Value::Null))
            }

            fn visit_none<E: de::Error>(self) -> Result<In, E> {
                Ok(In(Value::Null))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<In, E> {
                Ok(In(Value::Integer(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<In, E> {
                i64::try_from(v)
                    .map(|v| In(Value::Integer(v)))
                    .map_err(|_| E::custom("integer out of range"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<In, E> {
                Ok(In(Value::Text(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<In, E> {
                Ok(In(Value::Text(v)))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<In, A::Error> {
                let Some(tag) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("an empty map is not a value"));
                };
                match tag.as_str() {
                    "r" => Ok(In(Value::Real(f64::from_bits(map.next_value()?)))),
                    "b" => Ok(In(Value::Blob(map.next_value()?))),
                    other => Err(de::Error::unknown_field(other, &["r", "b"])),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One key.
struct KeyOut<'a>(&'a [Value]);

impl Serialize for KeyOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            seq.serialize_element(&Out(value))?;
        }
        seq.end()
    }
}

struct KeyIn(Key);

impl<'de> Deserialize<'de> for KeyIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyIn;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a compact key")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyIn, A::Error> {
                let mut key = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(In(value)) = seq.next_element()? {
                    key.push(value);
                }
                Ok(KeyIn(key))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// `#[serde(with = "crate::model::compact::keys")]` for a `Vec<Key>`.
pub(crate) mod keys {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(keys: &[Key], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(keys.len()))?;
        for key in keys {
            seq.serialize_element(&KeyOut(key))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Key>, D::Error> {
        let keys: Vec<KeyIn> = Deserialize::deserialize(deserializer)?;
        Ok(keys.into_iter().map(|k| k.0).collect())
    }
}

/// `#[serde(with = "crate::model::compact::position")]` for an
/// `Option<ScanPosition>`: `[index values, key]` or `null`.
pub(crate) mod position {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        position: &Option<ScanPosition>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match position {
            None => serializer.serialize_none(),
            Some(position) => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element(&KeyOut(&position.index))?;
                seq.serialize_element(&KeyOut(&position.key))?;
                seq.end()
            }
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<ScanPosition>, D::Error> {
        let pair: Option<(KeyIn, KeyIn)> = Deserialize::deserialize(deserializer)?;
        Ok(pair.map(|(index, key)| ScanPosition {
            index: index.0,
            key: key.0,
        }))
    }
}

/// Keys as compact JSON bytes (root chunks of jobs).
pub(crate) fn encode_keys(keys: &[Key]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    keys::serialize(keys, &mut serde_json::Serializer::new(&mut out))?;
    Ok(out)
}

/// Keys from compact JSON bytes.
pub(crate) fn decode_keys(bytes: &[u8]) -> Result<Vec<Key>, serde_json::Error> {
    keys::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "keys")]
        keys: Vec<Key>,
        #[serde(with = "position")]
        after: Option<ScanPosition>,
    }

    #[test]
    fn every_value_round_trips_compactly() {
        let holder = Holder {
            keys: vec![
                vec![Value::Integer(123_456)],
                vec![Value::Text("a\"b".into()), Value::Null],
                vec![Value::Real(1.5), Value::Real(f64::NAN.copysign(1.0))],
                vec![Value::Blob(vec![0, 255]), Value::Integer(i64::MIN)],
            ],
            after: Some(ScanPosition {
                index: vec![Value::Integer(7)],
                key: vec![Value::Integer(9)],
            }),
        };
        let json = serde_json::to_string(&holder).unwrap();
        assert!(
            json.starts_with(r#"{"keys":[[123456],["a\"b",null],"#),
            "{json}"
        );
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.keys[0], holder.keys[0]);
        assert_eq!(back.keys[1], holder.keys[1]);
        assert!(matches!(back.keys[2][1], Value::Real(r) if r.is_nan()));
        assert_eq!(back.keys[3], holder.keys[3]);
        assert_eq!(back.after, holder.after);
        let none: Holder = serde_json::from_str(r#"{"keys":[],"after":null}"#).unwrap();
        assert_eq!(none.after, None);
    }
}
