//! micro's one JSON rule, for serde types as for protobuf messages: proto3 JSON's
//! conventions.
//!
//! | | Writing | Reading |
//! |---|---|---|
//! | field names | lowerCamelCase (`order_id` is written `orderId`) | either form: `orderId` or `order_id` |
//! | numbers | as numbers | numbers, or strings holding them (`"qty": "2"`, as proto3 writes 64-bit integers) |
//! | unknown fields | — | ignored (a newer peer may send more), unless the type says `deny_unknown_fields` |
//!
//! Protobuf messages follow the same rule through their descriptors, so a `#[micro::service]`
//! type and a generated message with the same fields read each other's JSON, in calls and in
//! events. Errors name the field that did not fit (`items[0].qty: invalid type ...`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::ser::{self, Serialize};
use serde_json::{Map, Value};

// ===== writing =====

/// Write `value` as JSON with lowerCamelCase field names.
pub(crate) fn to_writer<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::new(writer);
    value.serialize(Camel(&mut ser))
}

/// The lowerCamelCase form of a field name: `order_id` -> `orderId` (names without `_` are
/// kept as they are).
pub fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `lower_camel(name)` with a `'static` lifetime, as serde's struct field keys need: each
/// distinct field name of the program is converted once.
fn camel_static(name: &'static str) -> &'static str {
    if !name.contains('_') {
        return name;
    }
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    names
        .entry(name)
        .or_insert_with(|| Box::leak(lower_camel(name).into_boxed_str()))
}

/// A serializer that writes struct field names in lowerCamelCase.
struct Camel<S>(S);

/// A value serialized through [`Camel`].
struct CamelValue<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for CamelValue<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Camel(serializer))
    }
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
            self.0.$name($($arg),*)
        }
    )*};
}

impl<S: ser::Serializer> ser::Serializer for Camel<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Camel<S::SerializeSeq>;
    type SerializeTuple = Camel<S::SerializeTuple>;
    type SerializeTupleStruct = Camel<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Camel<S::SerializeTupleVariant>;
    type SerializeMap = Camel<S::SerializeMap>;
    type SerializeStruct = Camel<S::SerializeStruct>;
    type SerializeStructVariant = Camel<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&CamelValue(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &CamelValue(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &CamelValue(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Camel)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Camel)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Camel)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Camel)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Camel)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Camel)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Camel)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The unnamed compounds (sequences and tuples): each item through [`Camel`].
macro_rules! items {
    ($($trait:ident::$method:ident;)*) => {$(
        impl<S: ser::$trait> ser::$trait for Camel<S> {
            type Ok = S::Ok;
            type Error = S::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                self.0.$method(&CamelValue(value))
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

items! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}

impl<S: ser::SerializeMap> ser::SerializeMap for Camel<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    // Map keys are data, not field names: written as they are.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&CamelValue(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStruct> ser::SerializeStruct for Camel<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0
            .serialize_field(camel_static(key), &CamelValue(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(camel_static(key))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStructVariant> ser::SerializeStructVariant for Camel<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0
            .serialize_field(camel_static(key), &CamelValue(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(camel_static(key))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

// ===== reading =====

/// Read a `T` from JSON under micro's rule; an error names the field that did not fit.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Mismatch> {
    let value: Value = serde_json::from_slice(bytes).map_err(Mismatch::Syntax)?;
    serde_path_to_error::deserialize(Lenient(value)).map_err(|e| Mismatch::Data {
        path: e.path().to_string(),
        error: e.into_inner(),
    })
}

/// Why JSON did not read as the type.
#[derive(Debug)]
pub(crate) enum Mismatch {
    /// Not JSON at all (with line and column).
    Syntax(serde_json::Error),
    /// JSON, but a field does not fit: where, and why.
    Data {
        path: String,
        error: serde_json::Error,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Syntax(e) => write!(f, "malformed JSON: {e}"),
            Mismatch::Data { path, error } if path == "." || path.is_empty() => {
                write!(f, "JSON does not match the type: {error}")
            }
            Mismatch::Data { path, error } => {
                write!(f, "JSON does not match the type at {path}: {error}")
            }
        }
    }
}

/// A JSON value read leniently: see the module docs.
struct Lenient(Value);

impl Lenient {
    fn number_from_str<N: std::str::FromStr>(&self) -> Option<N> {
        match &self.0 {
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

macro_rules! numbers {
    ($($method:ident => $visit:ident: $ty:ty;)*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.number_from_str::<$ty>() {
                Some(n) => visitor.$visit(n),
                None => self.0.$method(visitor),
            }
        }
    )*};
}

macro_rules! plain {
    ($($method:ident;)*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields::new(map, None)),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    numbers! {
        deserialize_i8 => visit_i8: i8;
        deserialize_i16 => visit_i16: i16;
        deserialize_i32 => visit_i32: i32;
        deserialize_i64 => visit_i64: i64;
        deserialize_i128 => visit_i128: i128;
        deserialize_u8 => visit_u8: u8;
        deserialize_u16 => visit_u16: u16;
        deserialize_u32 => visit_u32: u32;
        deserialize_u64 => visit_u64: u64;
        deserialize_u128 => visit_u128: u128;
        deserialize_f32 => visit_f32: f32;
        deserialize_f64 => visit_f64: f64;
    }

    plain! {
        deserialize_bool;
        deserialize_char;
        deserialize_str;
        deserialize_string;
        deserialize_bytes;
        deserialize_byte_buf;
        deserialize_unit;
        deserialize_identifier;
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_unit_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields::new(map, None)),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields::new(map, Some(fields))),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
}

/// The entries of an object; for a struct, keys written in lowerCamelCase are matched to the
/// struct's field names.
struct Fields {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(map: Map<String, Value>, fields: Option<&'static [&'static str]>) -> Fields {
        let map = match fields {
            None => map,
            Some(fields) => map
                .into_iter()
                .map(|(key, value)| {
                    let known = fields.contains(&key.as_str());
                    let renamed = (!known)
                        .then(|| fields.iter().find(|f| lower_camel(f) == key))
                        .flatten();
                    match renamed {
                        Some(field) => ((*field).to_owned(), value),
                        None => (key, value),
                    }
                })
                .collect(),
        };
        Fields {
            entries: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(IntoDeserializer::<serde_json::Error>::into_deserializer(
                    key,
                ))
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self.value.take().unwrap_or(Value::Null);
        seed.deserialize(Lenient(value))
    }
}

/// The items of an array.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|value| seed.deserialize(Lenient(value)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Line {
        sku_id: String,
        qty: u32,
        unit_cents: Option<i64>,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Order {
        order_id: String,
        lines: Vec<Line>,
        tags: BTreeMap<String, String>,
        paid: bool,
    }

    fn order() -> Order {
        Order {
            order_id: "o-1".into(),
            lines: vec![Line {
                sku_id: "apple".into(),
                qty: 2,
                unit_cents: Some(99),
            }],
            tags: [("gift_wrap".to_owned(), "yes".to_owned())].into(),
            paid: true,
        }
    }

    #[test]
    fn fields_are_written_in_lower_camel_case_and_map_keys_as_they_are() {
        let mut out = Vec::new();
        to_writer(&mut out, &order()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"orderId":"o-1","lines":[{"skuId":"apple","qty":2,"unitCents":99}],"tags":{"gift_wrap":"yes"},"paid":true}"#
        );
    }

    #[test]
    fn either_name_numbers_in_strings_and_unknown_fields_are_read() {
        let camel = br#"{"orderId":"o-1","lines":[{"skuId":"apple","qty":"2","unitCents":"99"}],"tags":{"gift_wrap":"yes"},"paid":true,"couponCode":"x"}"#;
        assert_eq!(from_slice::<Order>(camel).unwrap(), order());
        let snake = br#"{"order_id":"o-1","lines":[{"sku_id":"apple","qty":2,"unit_cents":99}],"tags":{"gift_wrap":"yes"},"paid":true}"#;
        assert_eq!(from_slice::<Order>(snake).unwrap(), order());
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let bad =
            br#"{"orderId":"o-1","lines":[{"skuId":"apple","qty":"two"}],"tags":{},"paid":true}"#;
        let err = from_slice::<Order>(bad).unwrap_err().to_string();
        assert!(err.contains("lines[0].qty"), "{err}");
        let err = from_slice::<Order>(b"{\"orderId\": ")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("malformed JSON"), "{err}");
    }

    #[test]
    fn lower_camel_matches_protobufs_json_names() {
        assert_eq!(lower_camel("order_id"), "orderId");
        assert_eq!(lower_camel("a_b_c"), "aBC");
        assert_eq!(lower_camel("plain"), "plain");
        assert_eq!(lower_camel("_private"), "private");
    }
}
