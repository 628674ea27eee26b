//! Message shapes for the registry: from protobuf descriptors (generated messages) or from
//! `schemars::JsonSchema` (serde types of `#[micro::service]` traits).
//!
//! Both name fields as they appear in JSON (lowerCamelCase: micro's one JSON rule, see [`crate::codec`]) and types in
//! protobuf's words (`bool`, `int64`, `double`, `repeated string` ...), so `micro describe`
//! shows the same shape whichever front door made the service.

use std::collections::HashSet;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

use super::reflect::Descriptors;
use crate::registry::Value;

/// The registry shape of message `full_name`: its fields, nested messages expanded (a
/// recursive message is expanded once).
pub fn schema(descriptors: &Descriptors, full_name: &str) -> Option<Value> {
    let desc = descriptors.message(full_name).ok()?;
    let mut seen = HashSet::new();
    Some(message_value(desc.name(), &desc, &mut seen, 0))
}

const MAX_DEPTH: usize = 8;

/// The longest field description kept (registry records stay small enough for mDNS).
const MAX_DESCRIPTION: usize = 512;

/// `text` cut to at most `max` bytes at a word, marked with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind(' ').unwrap_or(end);
    format!("{} …", &text[..end])
}

fn message_value(
    name: &str,
    desc: &MessageDescriptor,
    seen: &mut HashSet<String>,
    depth: usize,
) -> Value {
    let mut value = Value::new(name, desc.name());
    if depth >= MAX_DEPTH || !seen.insert(desc.full_name().to_owned()) {
        return value;
    }
    for field in desc.fields() {
        let kind = field.kind();
        let type_name = kind_name(&kind);
        let shown = if field.is_map() {
            match &kind {
                Kind::Message(entry) => {
                    let key = entry.map_entry_key_field().kind();
                    let val = entry.map_entry_value_field().kind();
                    format!("map<{}, {}>", kind_name(&key), kind_name(&val))
                }
                _ => type_name.clone(),
            }
        } else if field.is_list() {
            format!("repeated {type_name}")
        } else {
            type_name
        };
        let mut child = match &kind {
            Kind::Message(m)
                if !field.is_map() && !m.full_name().starts_with("google.protobuf.") =>
            {
                message_value(field.json_name(), m, seen, depth + 1)
            }
            _ => Value::new(field.json_name(), ""),
        };
        child.name = field.json_name().to_owned();
        child.kind = shown;
        child.description = field_comment(&field);
        let (required, constraints) = super::schema_rules::field_rules(&field);
        child.required = required || field.cardinality() == prost_reflect::Cardinality::Required;
        child.constraints = constraints;
        value.values.push(child);
    }
    seen.remove(desc.full_name());
    value
}

/// The comment of `field` in its `.proto` (micro-gen keeps fields' comments, cut to 512
/// bytes, in the descriptors it embeds; other descriptors may have none).
fn field_comment(field: &FieldDescriptor) -> String {
    let file = field.parent_file();
    let Some(info) = &file.file_descriptor_proto().source_code_info else {
        return String::new();
    };
    info.location
        .iter()
        .find(|l| l.path == field.path())
        .and_then(|l| {
            l.leading_comments
                .as_deref()
                .or(l.trailing_comments.as_deref())
        })
        .map(|c| c.trim().to_owned())
        .unwrap_or_default()
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
    }
}

/// A message type of a `#[micro::service]` trait: it publishes its shape in the registry,
/// which `micro describe`, the gateway's OpenAPI, the dashboard's forms and MCP's tools read.
///
/// Every type that implements `schemars::JsonSchema` has it. Derive that through micro's
/// re-export (no extra dependency): `#[micro::message]` on the type, or
/// `#[derive(micro::JsonSchema)]` with `#[schemars(crate = "micro::schemars")]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` publishes no schema: the registry, the gateway's OpenAPI and MCP need one for every message",
    label = "`{Self}` does not implement `JsonSchema`",
    note = "put #[micro::message] on `{Self}` (it derives Serialize, Deserialize and JsonSchema through micro), or add #[derive(micro::JsonSchema)] with #[schemars(crate = \"micro::schemars\")]"
)]
pub trait HasSchema {
    /// The registry shape.
    fn micro_schema() -> Value;
}

impl<T: schemars::JsonSchema> HasSchema for T {
    fn micro_schema() -> Value {
        json_schema_value::<T>()
    }
}

/// The registry shape of `T` (for generated code).
pub fn schema_of<T: HasSchema>() -> Option<Value> {
    Some(T::micro_schema())
}

/// The registry shape of a `schemars::JsonSchema` type: its properties, nested types
/// expanded (a recursive type once).
pub fn json_schema_value<T: schemars::JsonSchema>() -> Value {
    let schema = schemars::schema_for!(T);
    let root = schema.as_value();
    let empty = serde_json::Map::new();
    let defs = root
        .get("$defs")
        .and_then(|d| d.as_object())
        .unwrap_or(&empty);
    let name = T::schema_name().into_owned();
    let mut seen = HashSet::new();
    let mut value = json_node(&name, root, defs, &mut seen, 0);
    value.kind = name;
    value
}

fn json_kind(node: &serde_json::Value) -> String {
    if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = node.get(key).and_then(|v| v.as_array()).and_then(|a| {
            a.iter()
                .find(|s| s.get("type").and_then(|t| t.as_str()) != Some("null"))
        }) {
            return json_kind(first);
        }
    }
    let ty = match node.get("type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(types)) => types
            .iter()
            .filter_map(|t| t.as_str())
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ => String::new(),
    };
    match ty.as_str() {
        "array" => format!(
            "repeated {}",
            node.get("items").map(json_kind).unwrap_or_default()
        ),
        "integer" => match node.get("format").and_then(|f| f.as_str()) {
            Some(f @ ("int32" | "int64" | "uint32" | "uint64")) => f.to_owned(),
            Some("uint8" | "uint16" | "uint") => "uint32".to_owned(),
            Some("int8" | "int16" | "int") => "int32".to_owned(),
            _ => "int64".to_owned(),
        },
        "number" => match node.get("format").and_then(|f| f.as_str()) {
            Some("float") => "float".to_owned(),
            _ => "double".to_owned(),
        },
        "boolean" => "bool".to_owned(),
        "object" if node.get("additionalProperties").is_some() => format!(
            "map<string, {}>",
            node.get("additionalProperties")
                .map(json_kind)
                .unwrap_or_default()
        ),
        _ => ty,
    }
}

fn json_node(
    name: &str,
    node: &serde_json::Value,
    defs: &serde_json::Map<String, serde_json::Value>,
    seen: &mut HashSet<String>,
    depth: usize,
) -> Value {
    let mut value = Value::new(name, json_kind(node));
    let (target, def) = match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => {
            let def = r.rsplit('/').next().unwrap_or(r).to_owned();
            (defs.get(&def), Some(def))
        }
        None => (Some(node), None),
    };
    let Some(target) = target else { return value };
    if depth >= MAX_DEPTH {
        return value;
    }
    if let Some(def) = &def
        && !seen.insert(def.clone())
    {
        return value;
    }
    if let Some(props) = target.get("properties").and_then(|p| p.as_object()) {
        let required: HashSet<&str> = target
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| r.iter().filter_map(|n| n.as_str()).collect())
            .unwrap_or_default();
        for (field, schema) in props {
            let mut child = json_node(
                &super::json::lower_camel(field),
                schema,
                defs,
                seen,
                depth + 1,
            );
            child.required = required.contains(field.as_str());
            if let Some(text) = schema.get("description").and_then(|d| d.as_str()) {
                child.description = cut(text.trim(), MAX_DESCRIPTION);
            }
            child.constraints = json_constraints(schema);
            value.values.push(child);
        }
    }
    if let Some(def) = def {
        seen.remove(&def);
    }
    value
}

/// The validation keywords of a serde field's JSON Schema (schemars writes them from
/// `#[garde(..)]` and `#[validate(..)]`). The bounds schemars gives every integer type (an
/// unsigned type's `minimum: 0`, a format's range) are the type's, not rules: left out.
fn json_constraints(node: &serde_json::Value) -> crate::registry::Constraints {
    let mut c = crate::registry::Constraints::default();
    let u64_of = |key: &str| node.get(key).and_then(serde_json::Value::as_u64);
    let number = |key: &str| match node.get(key) {
        Some(serde_json::Value::Number(n)) => Some(n.clone()),
        _ => None,
    };
    // The range schemars gives the integer type itself (its `format`), which is no rule.
    let type_range: Option<(f64, f64)> = match node.get("format").and_then(|f| f.as_str()) {
        Some("int8") => Some((-128.0, 127.0)),
        Some("uint8") => Some((0.0, 255.0)),
        Some("int16") => Some((-32768.0, 32767.0)),
        Some("uint16") => Some((0.0, 65535.0)),
        Some("int32") => Some((-2147483648.0, 2147483647.0)),
        Some("uint32") => Some((0.0, 4294967295.0)),
        Some("uint64" | "uint" | "uint128") => Some((0.0, f64::INFINITY)),
        _ => None,
    };
    c.min_length = u64_of("minLength");
    c.max_length = u64_of("maxLength");
    c.pattern = node
        .get("pattern")
        .and_then(|p| p.as_str())
        .map(str::to_owned);
    c.format = node
        .get("format")
        .and_then(|f| f.as_str())
        .filter(|f| matches!(*f, "email" | "uri" | "uuid" | "hostname" | "ipv4" | "ipv6"))
        .map(str::to_owned);
    let (minimum, maximum) = (number("minimum"), number("maximum"));
    let value = |n: &Option<serde_json::Number>| n.as_ref().and_then(serde_json::Number::as_f64);
    if !matches!((type_range, value(&minimum)), (Some((lo, _)), Some(v)) if v == lo) {
        c.minimum = minimum;
    }
    if !matches!((type_range, value(&maximum)), (Some((_, hi)), Some(v)) if v == hi) {
        c.maximum = maximum;
    }
    c.exclusive_minimum = number("exclusiveMinimum");
    c.exclusive_maximum = number("exclusiveMaximum");
    c.min_items = u64_of("minItems");
    c.max_items = u64_of("maxItems");
    c.unique_items = node.get("uniqueItems").and_then(|u| u.as_bool()) == Some(true);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Order {
        /// The order's id, e.g. `order-1`.
        order_id: String,
        #[serde(default)]
        note: String,
        coupon: Option<String>,
        paid: bool,
        qty: u32,
        total: f64,
        lines: Vec<String>,
        tags: std::collections::BTreeMap<String, i64>,
    }

    #[test]
    fn serde_shapes_use_json_names_and_protobufs_type_words() {
        let v = json_schema_value::<Order>();
        let fields: Vec<(String, String)> = v
            .values
            .iter()
            .map(|f| (f.name.clone(), f.kind.clone()))
            .collect();
        let want = [
            ("orderId", "string"),
            ("paid", "bool"),
            ("qty", "uint32"),
            ("total", "double"),
            ("lines", "repeated string"),
            ("tags", "map<string, int64>"),
        ];
        for (name, kind) in want {
            assert!(
                fields.iter().any(|(n, k)| n == name && k == kind),
                "{name}: {kind} missing in {fields:?}"
            );
        }
    }

    #[test]
    fn serde_shapes_carry_doc_comments_and_what_is_required() {
        let v = json_schema_value::<Order>();
        let field = |name: &str| {
            v.values
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| panic!("{name} in {v:?}"))
        };
        assert_eq!(
            field("orderId").description,
            "The order's id, e.g. `order-1`."
        );
        assert!(field("orderId").required && field("paid").required);
        assert!(!field("note").required, "a field with a default");
        assert!(!field("coupon").required, "an Option");
        assert_eq!(field("paid").description, "");
    }

    #[test]
    fn long_descriptions_are_cut_at_a_word() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("one two three", 9), "one two …");
    }
}
