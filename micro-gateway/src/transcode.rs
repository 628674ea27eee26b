//! Requests from path variables, query parameters and bodies, for `google.api.http` rules.
//!
//! Field names are looked up in the request shape the service registered, by JSON name
//! (`fString`) or proto name (`f_string`). Values keep proto3 JSON's forms: 64-bit and other
//! numbers stay strings (the codec reads both), booleans become `true`/`false`, enums are a
//! number when given as one and a name otherwise, and a repeated field gathers every value of
//! a repeated key.

use micro::registry::Value;
use serde_json::{Map, Value as Json};

/// Query parameters of a raw query string, decoded (`+` is a space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

pub use micro::codec::lower_camel;

fn child<'s>(schema: &'s Value, name: &str) -> Option<&'s Value> {
    let camel = lower_camel(name);
    schema
        .values
        .iter()
        .find(|f| f.name == name || f.name == camel)
}

/// The field at dotted `path` of `schema` and the JSON names along it.
fn lookup<'s>(schema: &'s Value, path: &str) -> Option<(Vec<String>, &'s Value)> {
    let mut at = schema;
    let mut names = Vec::new();
    for word in path.split('.') {
        at = child(at, word)?;
        names.push(at.name.clone());
    }
    Some((names, at))
}

const NUMBERS: [&str; 12] = [
    "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
    "sfixed64", "double", "float",
];

/// `text` as the JSON value a field of `kind` takes.
fn typed(kind: &str, text: &str, field: &str) -> Result<Json, String> {
    let kind = kind.strip_prefix("repeated ").unwrap_or(kind);
    match kind {
        "bool" | "google.protobuf.BoolValue" => match text {
            "true" | "1" => Ok(Json::Bool(true)),
            "false" | "0" => Ok(Json::Bool(false)),
            _ => Err(format!("{field}: {text:?} is not true or false")),
        },
        k if NUMBERS.contains(&k) || k.ends_with("Value") && k.starts_with("google.protobuf.") => {
            if NUMBERS.contains(&k)
                && text.parse::<f64>().is_err()
                && !matches!(text, "NaN" | "Infinity" | "-Infinity")
            {
                return Err(format!("{field}: {text:?} is not a number"));
            }
            Ok(Json::String(text.to_owned()))
        }
        "string" | "bytes" => Ok(Json::String(text.to_owned())),
        // An enum (a type name without fields): a number stays a number.
        _ => Ok(match text.parse::<i64>() {
            Ok(n) => Json::from(n),
            Err(_) => Json::String(text.to_owned()),
        }),
    }
}

fn is_message(field: &Value) -> bool {
    !field.values.is_empty() && !field.kind.starts_with("map<")
}

/// Put `value` at `names` inside `obj`, making objects on the way; a repeated field appends.
fn put(obj: &mut Map<String, Json>, names: &[String], value: Json, repeated: bool) {
    let Some((last, path)) = names.split_last() else {
        return;
    };
    let mut at = obj;
    for name in path {
        let entry = at
            .entry(name.clone())
            .or_insert_with(|| Json::Object(Map::new()));
        if !entry.is_object() {
            *entry = Json::Object(Map::new());
        }
        let Json::Object(next) = entry else { return };
        at = next;
    }
    if repeated {
        match at
            .entry(last.clone())
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            Json::Array(items) => items.push(value),
            other => *other = Json::Array(vec![value]),
        }
    } else {
        at.insert(last.clone(), value);
    }
}

/// Set the field at dotted `path` from text (a path variable or query parameter).
/// `Ok(false)` when the request shape has no such field.
fn set_text(
    obj: &mut Map<String, Json>,
    schema: Option<&Value>,
    path: &str,
    text: &str,
    repeat: bool,
) -> Result<bool, String> {
    let Some(schema) = schema else {
        let names: Vec<String> = path.split('.').map(str::to_owned).collect();
        put(obj, &names, Json::String(text.to_owned()), false);
        return Ok(true);
    };
    let Some((names, field)) = lookup(schema, path) else {
        return Ok(false);
    };
    if is_message(field) || field.kind.starts_with("map<") {
        return Err(format!(
            "{path} is a message; set its fields instead ({path}.<field>=...)"
        ));
    }
    let repeated = field.kind.starts_with("repeated ");
    let value = typed(&field.kind, text, path)?;
    put(obj, &names, value, repeated && repeat);
    Ok(true)
}

/// What a rule's request is made of.
#[derive(Debug)]
pub struct Parts<'a> {
    /// The rule's `body`: `*`, a field path, or none.
    pub body_field: Option<&'a str>,
    /// The request shape, when the service registered one.
    pub schema: Option<&'a Value>,
    /// Variables bound by the path template.
    pub vars: &'a [(String, String)],
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The JSON body, as received; none when the request had none.
    pub body: Option<&'a [u8]>,
    /// Refuse query parameters that name no field.
    pub strict: bool,
}

/// `dst` with `src` laid over it: objects merge key by key, anything else replaces.
fn merge(dst: &mut Json, src: Json) {
    match (dst, src) {
        (Json::Object(d), Json::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (dst, src) => *dst = src,
    }
}

fn json_text(s: &str) -> String {
    Json::String(s.to_owned()).to_string()
}

/// The JSON request for a rule: the body where the rule puts it, query parameters on the
/// fields neither the path nor the body set, path variables over everything. The error says
/// which parameter or field did not fit.
///
/// The body is not built into a tree: its top-level fields pass through as text, and only a
/// field that a path variable or query parameter also sets is parsed, to merge them. So a
/// large body costs its size, not a tree many times its size.
pub fn request(parts: Parts<'_>) -> Result<String, String> {
    // What the query and the path set.
    let mut obj = Map::new();
    if parts.body_field != Some("*")
        && let Some(query) = parts.query
    {
        let bound: Vec<&str> = parts.vars.iter().map(|(k, _)| k.as_str()).collect();
        for (key, value) in query_pairs(query) {
            if bound.contains(&key.as_str()) || parts.body_field == Some(key.as_str()) {
                continue;
            }
            match set_text(&mut obj, parts.schema, &key, &value, true) {
                Ok(true) => {}
                Ok(false) if parts.strict => {
                    return Err(format!("unknown query parameter {key:?}"));
                }
                Ok(false) => {}
                Err(why) => return Err(why),
            }
        }
    }
    for (path, value) in parts.vars {
        if !set_text(&mut obj, parts.schema, path, value, false)? {
            let names: Vec<String> = path.split('.').map(str::to_owned).collect();
            put(&mut obj, &names, Json::String(value.clone()), false);
        }
    }
    // The body's top-level fields, as text.
    let mut fields: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
        std::collections::BTreeMap::new();
    if let (Some(field), Some(bytes)) = (parts.body_field, parts.body) {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
        if field == "*" {
            fields = serde_json::from_slice(bytes)
                .map_err(|_| "the body must be a JSON object".to_owned())?;
        } else {
            let names = match parts.schema.and_then(|s| lookup(s, field)) {
                Some((names, _)) => names,
                None => field.split('.').map(str::to_owned).collect(),
            };
            let text = String::from_utf8_lossy(bytes);
            // {"a":{"b":BODY}} for body "a.b", written around the body's text.
            let mut wrapped = text.trim().to_owned();
            for name in names.iter().skip(1).rev() {
                wrapped = format!("{{{}:{wrapped}}}", json_text(name));
            }
            let raw = serde_json::value::RawValue::from_string(wrapped)
                .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
            if let Some(first) = names.first() {
                fields.insert(first.clone(), raw);
            }
        }
    }
    // Query and path fields over the body's: merge where both set a field.
    let mut out: Vec<(String, String)> = Vec::with_capacity(fields.len() + obj.len());
    for (key, raw) in fields {
        match obj.remove(&key) {
            Some(over) => {
                let mut base: Json = serde_json::from_str(raw.get())
                    .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
                merge(&mut base, over);
                out.push((key, base.to_string()));
            }
            None => out.push((key, raw.get().to_owned())),
        }
    }
    for (key, value) in obj {
        out.push((key, value.to_string()));
    }
    let mut text = String::with_capacity(
        out.iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>()
            + 2,
    );
    text.push('{');
    for (i, (key, value)) in out.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&json_text(key));
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    Ok(text)
}

/// The query of a GET on an rpc route, as a request: every parameter a string, typed where
/// the request shape says, repeated keys gathered.
pub fn query_request(query: Option<&str>, schema: Option<&Value>) -> Result<Json, String> {
    let mut obj = Map::new();
    for (key, value) in query.map(query_pairs).unwrap_or_default() {
        if !set_text(&mut obj, schema, &key, &value, true)? {
            obj.insert(key, Json::String(value));
        }
    }
    Ok(Json::Object(obj))
}

/// The JSON default of a field of `kind` that proto3 JSON left out.
fn default_of(field: Option<&Value>) -> Json {
    let Some(field) = field else {
        return Json::Null;
    };
    let kind = field.kind.as_str();
    if kind.starts_with("repeated ") {
        return Json::Array(Vec::new());
    }
    if kind.starts_with("map<") || is_message(field) {
        return Json::Object(Map::new());
    }
    match kind {
        "string" | "bytes" => Json::String(String::new()),
        "bool" => Json::Bool(false),
        "int64" | "uint64" | "sint64" | "fixed64" | "sfixed64" => Json::String("0".into()),
        k if NUMBERS.contains(&k) => Json::from(0),
        _ => Json::Null,
    }
}

/// The `response_body` field of a response.
pub fn response_field(response: Json, field: &str, schema: Option<&Value>) -> Json {
    let mut at = response;
    let mut shape = schema;
    for word in field.split('.') {
        let next_shape = shape.and_then(|s| child(s, word));
        let camel = lower_camel(word);
        let next = match &mut at {
            Json::Object(map) => map.remove(&camel).or_else(|| map.remove(word)),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return default_of(next_shape),
        }
        shape = next_shape;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape() -> Value {
        Value::new("Req", "Req")
            .with_field(Value::new("name", "string"))
            .with_field(Value::new("fBool", "bool"))
            .with_field(Value::new("count", "int64"))
            .with_field(Value::new("tags", "repeated string"))
            .with_field(Value::new("color", "fixtures.Color"))
            .with_field(
                Value::new("nested", "Nested")
                    .with_field(Value::new("label", "string"))
                    .with_field(Value::new("level", "Level")),
            )
    }

    fn req(
        body_field: Option<&str>,
        vars: &[(&str, &str)],
        query: &str,
        body: Option<Json>,
    ) -> Result<Json, String> {
        let body = body.map(|b| b.to_string());
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        let s = shape();
        request(Parts {
            body_field,
            schema: Some(&s),
            vars: &vars,
            query: Some(query),
            body: body.as_deref().map(str::as_bytes),
            strict: false,
        })
        .map(|text| serde_json::from_str(&text).expect("the request is JSON"))
    }

    #[test]
    fn path_query_and_body_fill_the_request() {
        let got = req(
            None,
            &[("name", "John")],
            "f_bool=true&count=5&tags=a&tags=b&color=COLOR_RED&nested.label=x&nested.level=1&junk=1",
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"name":"John","fBool":true,"count":"5","tags":["a","b"],"color":"COLOR_RED","nested":{"label":"x","level":1}})
        );
        let got = req(
            Some("*"),
            &[("name", "path")],
            "count=9",
            Some(json!({"name":"body","count":"2"})),
        )
        .unwrap();
        assert_eq!(got, json!({"name":"path","count":"2"}));
        let got = req(Some("nested"), &[], "name=q", Some(json!({"label":"b"}))).unwrap();
        assert_eq!(got, json!({"nested":{"label":"b"},"name":"q"}));
    }

    #[test]
    fn bad_parameters_say_which() {
        let err = req(None, &[], "f_bool=maybe", None).unwrap_err();
        assert!(err.contains("f_bool") && err.contains("maybe"), "{err}");
        let err = req(None, &[], "count=abc", None).unwrap_err();
        assert!(err.contains("count"), "{err}");
        let err = req(None, &[], "nested=1", None).unwrap_err();
        assert!(err.contains("nested.<field>"), "{err}");
        let err = req(Some("*"), &[], "", Some(json!([1]))).unwrap_err();
        assert!(err.contains("JSON object"), "{err}");
        // A path variable inside the body's object merges with it.
        let got = req(
            Some("*"),
            &[("nested.label", "p")],
            "",
            Some(json!({"nested":{"level":"LEVEL_HIGH","label":"b"},"name":"n"})),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"nested":{"level":"LEVEL_HIGH","label":"p"},"name":"n"})
        );
        let s = shape();
        let err = request(Parts {
            body_field: None,
            schema: Some(&s),
            vars: &[],
            query: Some("nmae=x"),
            body: None,
            strict: true,
        })
        .unwrap_err();
        assert!(err.contains("\"nmae\""), "{err}");
    }

    #[test]
    fn response_body_picks_a_field_or_its_default() {
        let s = Value::new("Rsp", "Rsp")
            .with_field(Value::new("msg", "string"))
            .with_field(Value::new("items", "repeated string"));
        assert_eq!(
            response_field(json!({"msg":"hi"}), "msg", Some(&s)),
            json!("hi")
        );
        assert_eq!(response_field(json!({}), "items", Some(&s)), json!([]));
        assert_eq!(response_field(json!({}), "msg", Some(&s)), json!(""));
    }

    #[test]
    fn query_pairs_decode() {
        assert_eq!(
            query_pairs("a=1+2&b=%2Fx&c"),
            vec![
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "/x".to_owned()),
                ("c".to_owned(), String::new())
            ]
        );
    }
}
