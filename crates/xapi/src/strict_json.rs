//! JSON parsing that refuses an object with the same key twice. serde_json keeps the last
//! value silently; xAPI statements must be rejected instead (XAPI-00021), or what is stored
//! would differ from what a reader of the raw body sees.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Parses `body` as JSON; an object with a duplicated key is an error naming the key.
pub fn from_slice(body: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice::<Strict>(body).map(|s| s.0)
}

/// A JSON value parsed without duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup per key: the entry both finds a repeat and takes the value.
            match object.entry(key) {
                Entry::Occupied(repeat) => {
                    return Err(de::Error::custom(format!(
                        "the key `{}` appears twice",
                        repeat.key()
                    )));
                }
                Entry::Vacant(slot) => {
                    let Strict(value) = map.next_value()?;
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicated_key_at_any_depth_is_refused_and_everything_else_parses_as_serde_json_does() {
        let ok = br#"{"a":[1,-2,3.5,1e300,"s",null,true,{"b":{}}],"c":{"d":"e"},"big":18446744073709551615}"#;
        assert_eq!(
            from_slice(ok).unwrap(),
            serde_json::from_slice::<Value>(ok).unwrap()
        );
        let top = from_slice(br#"{"actor":{},"actor":{}}"#).unwrap_err();
        assert!(top.to_string().contains("`actor` appears twice"), "{top}");
        assert!(from_slice(br#"[{"x":{"id":1,"id":2}}]"#).is_err());
        assert!(from_slice(b"{\"a\":1").is_err());
    }
}
