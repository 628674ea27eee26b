//! The validation rules of a field as the registry shows them: JSON Schema's keywords
//! (`minLength`, `pattern`, `minimum`, `minItems` ...), so the gateway's OpenAPI, MCP tool
//! schemas and the dashboard's forms show what a service will accept before it is called.
//!
//! They come from protovalidate's `buf.validate` rules in a `.proto` and from the JSON
//! Schema of serde types (`schemars` reads `#[garde(..)]` and `#[validate(..)]`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value as Json};

/// JSON Schema constraints of one field. Empty for a field without rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Constraints {
    /// Fewest characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Most characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// A regular expression the whole value must match somewhere (JSON Schema semantics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A well-known format: `email`, `hostname`, `ipv4`, `ipv6`, `uuid`, `uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Smallest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Largest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Values must be greater.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<Number>,
    /// Values must be smaller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<Number>,
    /// The only strings allowed (`in`).
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Fewest items of a list (or entries of a map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most items of a list (or entries of a map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// No two items of a list may be equal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique_items: bool,
    /// The constraints of each item of a list, or each value of a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Constraints>>,
}

impl Constraints {
    /// True when there is no constraint.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// Add these constraints to the JSON Schema `schema` of the field: on an array the list's
    /// own go on it and the items' on `items`; on a map, `minProperties`/`maxProperties` and
    /// the values' on `additionalProperties`.
    pub fn apply_to(&self, schema: &mut Json) {
        let Some(obj) = schema.as_object_mut() else {
            return;
        };
        let is_array = obj.get("type").and_then(Json::as_str) == Some("array");
        let is_map = obj.contains_key("additionalProperties");
        if is_array || is_map {
            let (min, max) = if is_array {
                ("minItems", "maxItems")
            } else {
                ("minProperties", "maxProperties")
            };
            put(obj, min, self.min_items.map(Json::from));
            put(obj, max, self.max_items.map(Json::from));
            if self.unique_items && is_array {
                obj.insert("uniqueItems".into(), Json::Bool(true));
            }
            let inner = if is_array {
                "items"
            } else {
                "additionalProperties"
            };
            if let (Some(items), Some(schema)) = (&self.items, obj.get_mut(inner)) {
                items.apply_to(schema);
            }
            return;
        }
        put(obj, "minLength", self.min_length.map(Json::from));
        put(obj, "maxLength", self.max_length.map(Json::from));
        put(obj, "pattern", self.pattern.clone().map(Json::from));
        put(obj, "format", self.format.clone().map(Json::from));
        put(obj, "minimum", self.minimum.clone().map(Json::Number));
        put(obj, "maximum", self.maximum.clone().map(Json::Number));
        put(
            obj,
            "exclusiveMinimum",
            self.exclusive_minimum.clone().map(Json::Number),
        );
        put(
            obj,
            "exclusiveMaximum",
            self.exclusive_maximum.clone().map(Json::Number),
        );
        if !self.allowed.is_empty() {
            obj.insert(
                "enum".into(),
                Json::Array(self.allowed.iter().cloned().map(Json::from).collect()),
            );
        }
    }
}

fn put(obj: &mut Map<String, Json>, key: &str, value: Option<Json>) {
    if let Some(value) = value {
        obj.insert(key.into(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_become_json_schema_keywords_where_they_belong() {
        let c = Constraints {
            min_items: Some(1),
            unique_items: true,
            items: Some(Box::new(Constraints {
                min_length: Some(2),
                ..Constraints::default()
            })),
            ..Constraints::default()
        };
        let mut schema = serde_json::json!({"type": "array", "items": {"type": "string"}});
        c.apply_to(&mut schema);
        assert_eq!(
            schema,
            serde_json::json!({"type": "array", "minItems": 1, "uniqueItems": true,
                "items": {"type": "string", "minLength": 2}})
        );
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"minItems":1,"uniqueItems":true,"items":{"minLength":2}}"#
        );
        assert!(Constraints::default().is_empty());
    }
}
