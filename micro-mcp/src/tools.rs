//! The tools: one per endpoint the registry holds, named so that every major MCP client
//! accepts the name, with a JSON Schema of its request and a check of the arguments
//! against the request's shape before anything is called.

use std::collections::HashSet;

use micro::registry::Value;
use micro_gateway::routes::Table;
use serde_json::{Value as Json, json};

/// The longest tool name: Claude Desktop's limit (`^[a-zA-Z0-9_-]{1,64}$`), the strictest
/// of the major clients.
pub const MAX_NAME: usize = 64;

/// One tool: an endpoint of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    /// The tool's name (`greeter_Greeter_Hello`): letters, digits, `_` and `-`, at most
    /// [`MAX_NAME`] characters, unique.
    pub name: String,
    /// The service it calls.
    pub service: String,
    /// The endpoint it calls (`Greeter.Hello`).
    pub endpoint: String,
    /// What it does: the endpoint's documentation when the service publishes it, and what
    /// it calls.
    pub description: String,
    /// The JSON Schema of its arguments (the request message in proto3 JSON).
    pub input_schema: Json,
    /// Whether the endpoint answers with a stream (collected into a list).
    pub streams: bool,
    /// Whether the endpoint is safe to call again.
    pub idempotent: bool,
    /// The request's shape as the registry has it, to check arguments with.
    pub(crate) request: Option<Value>,
}

impl Tool {
    /// The tool as `tools/list` describes it.
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name,
            "title": format!("{} {}", self.service, self.endpoint),
            "description": self.description,
            "inputSchema": self.input_schema,
            "annotations": {
                "idempotentHint": self.idempotent,
            },
        })
    }
}

/// A name made of `[A-Za-z0-9_-]` only: every other character becomes `_`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a, 32 bits: a short, stable fingerprint for names that must be shortened.
fn fingerprint(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The name of the tool for `endpoint` of `service`: `service_Endpoint_Method` with every
/// character outside `[A-Za-z0-9_-]` as `_`; a name over [`MAX_NAME`] keeps its first 55
/// characters and ends in `_` and 8 hex digits of the full name's fingerprint.
pub fn tool_name(service: &str, endpoint: &str) -> String {
    let name = sanitize(&format!("{service}_{endpoint}"));
    if name.len() <= MAX_NAME {
        return name;
    }
    shortened(&name, service, endpoint)
}

fn shortened(name: &str, service: &str, endpoint: &str) -> String {
    // Sanitized names are ASCII: any byte index is a character boundary.
    format!(
        "{}_{:08x}",
        &name[..MAX_NAME - 9],
        fingerprint(&format!("{service}/{endpoint}"))
    )
}

/// The tools of every callable endpoint in `table`, in service then endpoint order; client
/// and bidirectional streams are left out (a tool call sends one request), and so are the
/// services named `micro.*` (the platform's own) unless `internal`.
pub(crate) fn catalog(table: &Table, internal: bool, stream_limit: usize) -> Vec<Tool> {
    let mut wanted = Vec::new();
    for (service, endpoints) in &table.services {
        if !internal && service.starts_with("micro.") {
            continue;
        }
        for (endpoint, info) in endpoints {
            let streams = match info.stream.as_deref() {
                None => false,
                Some("server") => true,
                Some(_) => continue,
            };
            wanted.push((
                tool_name(service, endpoint),
                service,
                endpoint,
                info,
                streams,
            ));
        }
    }
    // Endpoints whose names differ only in characters made `_` all take the fingerprinted
    // form: none keeps the plain name, so a name never moves from one service to another
    // as services come and go.
    let mut counts = std::collections::HashMap::new();
    for (name, ..) in &wanted {
        *counts.entry(name.clone()).or_insert(0usize) += 1;
    }
    let mut used = HashSet::new();
    let mut tools = Vec::new();
    for (name, service, endpoint, info, streams) in wanted {
        let mut name = if counts.get(&name).copied().unwrap_or(0) > 1 {
            let base = &name[..name.len().min(MAX_NAME - 9)];
            format!(
                "{base}_{:08x}",
                fingerprint(&format!("{service}/{endpoint}"))
            )
        } else {
            name
        };
        // Two fingerprints alike: vanishingly rare; keep the names unique regardless.
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{}_{n}", &name[..name.len().min(MAX_NAME - 6)]);
            n += 1;
        }
        used.insert(name.clone());
        tools.push(Tool {
            description: describe(service, endpoint, info, streams, stream_limit),
            input_schema: input_schema(info.request.as_ref()),
            name,
            service: service.clone(),
            endpoint: endpoint.clone(),
            streams,
            idempotent: info.idempotent,
            request: info.request.clone(),
        });
    }
    tools
}

fn describe(
    service: &str,
    endpoint: &str,
    info: &micro_gateway::routes::EndpointInfo,
    streams: bool,
    stream_limit: usize,
) -> String {
    let mut text = String::new();
    if let Some(doc) = info
        .metadata
        .get("description")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        // Whatever registers writes this: keep it short, cut at a character boundary.
        let mut end = doc.len().min(MAX_DESCRIPTION);
        while !doc.is_char_boundary(end) {
            end -= 1;
        }
        text.push_str(&doc[..end]);
        if end < doc.len() {
            text.push_str(" …");
        }
        text.push_str("\n\n");
    }
    text.push_str(&format!("Calls {endpoint} on the micro service {service}."));
    if streams {
        text.push_str(&format!(
            " It answers with a stream: the result lists its messages (at most {stream_limit})."
        ));
    }
    if info.idempotent {
        text.push_str(" Safe to call again.");
    }
    text
}

/// The arguments' schema: the request message as an object; fields a message does not
/// have are refused at every depth, so the schema says so.
fn input_schema(shape: Option<&Value>) -> Json {
    let mut schema = micro_gateway::openapi::message_schema(shape);
    if schema.get("type") != Some(&json!("object")) {
        // A request that is not a message with fields (an empty message, or no shape).
        return json!({"type": "object"});
    }
    closed(&mut schema, 0);
    schema
}

/// Mark every object schema with listed properties as taking no others, walking the
/// schema by its structure (a field named `properties` is a field, not a schema keyword).
fn closed(schema: &mut Json, depth: usize) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if depth > 32 {
        return;
    }
    if let Some(Json::Object(fields)) = obj.get_mut("properties") {
        for field in fields.values_mut() {
            closed(field, depth + 1);
        }
        obj.insert("additionalProperties".into(), json!(false));
    }
    if let Some(items) = obj.get_mut("items") {
        closed(items, depth + 1);
    }
    if let Some(values) = obj.get_mut("additionalProperties")
        && values.is_object()
    {
        closed(values, depth + 1);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Json::Array(options)) = obj.get_mut(key) {
            for option in options {
                closed(option, depth + 1);
            }
        }
    }
}

/// The longest description taken from the registry (what micro-gen writes at most).
const MAX_DESCRIPTION: usize = 512;

/// The JSON type of `v`, in words.
fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn integer_in(v: &Json, min: i128, max: i128) -> bool {
    let n = match v {
        Json::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1.9e19)
                    .map(|f| f as i128)
            }),
        Json::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    n.is_some_and(|n| n >= min && n <= max)
}

/// Check `args` against the request's shape: every field known, every value of its
/// field's type (proto3 JSON: 64-bit integers as numbers or strings, `null` for the
/// default). The error names the field's path.
pub(crate) fn check_arguments(shape: Option<&Value>, args: &Json) -> Result<(), String> {
    if !args.is_object() {
        return Err(format!(
            "the arguments must be an object, not {}",
            kind_of(args)
        ));
    }
    match shape {
        Some(shape) => check(&shape.kind, &shape.values, args, "", 0),
        None => Ok(()),
    }
}

fn check(kind: &str, fields: &[Value], v: &Json, path: &str, depth: usize) -> Result<(), String> {
    if v.is_null() || depth > 32 {
        return Ok(());
    }
    let at = |what: &str| {
        let field = if path.is_empty() {
            "the arguments"
        } else {
            path
        };
        format!("{field}: expected {what}, got {}", kind_of(v))
    };
    if let Some(inner) = kind.strip_prefix("repeated ") {
        let Json::Array(items) = v else {
            return Err(at("an array"));
        };
        for (i, item) in items.iter().enumerate() {
            let here = format!("{path}[{i}]");
            if item.is_null() {
                return Err(format!("{here}: null is not a value of a repeated field"));
            }
            check(inner, fields, item, &here, depth + 1)?;
        }
        return Ok(());
    }
    if let Some(rest) = kind.strip_prefix("map<") {
        let Json::Object(entries) = v else {
            return Err(at("an object (a map)"));
        };
        let value_kind = rest
            .trim_end_matches('>')
            .split_once(',')
            .map(|(_, v)| v.trim())
            .unwrap_or("");
        for (key, item) in entries {
            let here = format!("{path}[{key:?}]");
            if item.is_null() {
                return Err(format!("{here}: null is not a value of a map"));
            }
            check(value_kind, &[], item, &here, depth + 1)?;
        }
        return Ok(());
    }
    let ok = match kind {
        "string" | "bytes" => v.is_string(),
        "bool" => v.is_boolean(),
        "double" | "float" => {
            v.is_number()
                || v.as_str().is_some_and(|t| {
                    matches!(t, "NaN" | "Infinity" | "-Infinity") || t.trim().parse::<f64>().is_ok()
                })
        }
        "int32" | "sint32" | "sfixed32" => integer_in(v, i32::MIN.into(), i32::MAX.into()),
        "uint32" | "fixed32" => integer_in(v, 0, u32::MAX.into()),
        "int64" | "sint64" | "sfixed64" => integer_in(v, i64::MIN.into(), i64::MAX.into()),
        "uint64" | "fixed64" => integer_in(v, 0, u64::MAX.into()),
        "google.protobuf.Timestamp" | "google.protobuf.Duration" | "google.protobuf.FieldMask" => {
            v.is_string()
        }
        _ if !fields.is_empty() => {
            let Json::Object(given) = v else {
                return Err(at("an object"));
            };
            for (key, item) in given {
                // The registry holds the JSON (lowerCamel) names; the proto names are
                // accepted too.
                let camel = micro::codec::lower_camel(key);
                let field = fields.iter().find(|f| f.name == *key || f.name == camel);
                let Some(field) = field else {
                    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    let here = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    return Err(format!(
                        "{here}: no such field (the fields are {})",
                        known.join(", ")
                    ));
                };
                let here = if path.is_empty() {
                    field.name.clone()
                } else {
                    format!("{path}.{}", field.name)
                };
                check(&field.kind, &field.values, item, &here, depth + 1)?;
            }
            for field in fields.iter().filter(|f| f.required) {
                let given = given.iter().any(|(key, item)| {
                    !item.is_null()
                        && (*key == field.name || micro::codec::lower_camel(key) == field.name)
                });
                if !given {
                    let here = if path.is_empty() {
                        field.name.clone()
                    } else {
                        format!("{path}.{}", field.name)
                    };
                    return Err(format!("{here}: required, but not given"));
                }
            }
            return Ok(());
        }
        // Enums (by name or number), wrappers, Struct, Any, and messages the registry did
        // not expand: the service decides.
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let what = match kind {
        "string" => "a string".to_owned(),
        "bytes" => "a base64 string".to_owned(),
        "bool" => "true or false".to_owned(),
        "double" | "float" => "a number".to_owned(),
        k if k.contains("int") || k.contains("fixed") => {
            format!("an integer ({k})")
        }
        k => format!("a {k}"),
    };
    Err(at(&what))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use micro_gateway::routes::EndpointInfo;

    use super::*;

    fn strict(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn names_pass_the_strictest_client_and_stay_unique() {
        assert_eq!(
            tool_name("greeter", "Greeter.Hello"),
            "greeter_Greeter_Hello"
        );
        assert_eq!(
            tool_name("shop.orders.v1", "Orders.Place"),
            "shop_orders_v1_Orders_Place"
        );
        let long = tool_name(&"very.long.service.name".repeat(4), "Endpoint.Method");
        assert!(strict(&long), "{long}");
        assert_eq!(long.len(), MAX_NAME);
        // Stable across runs.
        assert_eq!(
            long,
            tool_name(&"very.long.service.name".repeat(4), "Endpoint.Method")
        );

        let mut table = Table::default();
        let info = Arc::new(EndpointInfo::default());
        let endpoints = |names: &[&str]| {
            names
                .iter()
                .map(|n| ((*n).to_owned(), info.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        // `a.b` and `a_b` sanitize to the same name: both take the fingerprinted form, so
        // the plain name never moves from one to the other.
        table
            .services
            .insert("a.b".into(), endpoints(&["S.M", "S.N"]));
        table.services.insert("a_b".into(), endpoints(&["S.M"]));
        table
            .services
            .insert("micro.server".into(), endpoints(&["Store.Write"]));
        let tools = catalog(&table, false, 100);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tools.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| strict(n)), "{names:?}");
        let unique: HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), 3, "{names:?}");
        assert!(!names.contains(&"a_b_S_M"), "{names:?}");
        assert!(names.contains(&"a_b_S_N"), "{names:?}");
        // The same names whichever registered first.
        let mut alone = Table::default();
        alone.services.insert("a_b".into(), endpoints(&["S.M"]));
        let before = catalog(&alone, false, 100);
        assert_eq!(before[0].name, "a_b_S_M", "alone, the plain name");
        assert!(
            catalog(&table, true, 100)
                .iter()
                .any(|t| t.service == "micro.server")
        );
    }

    fn shape() -> Value {
        let mut address = Value::new("address", "shop.Address");
        // The registry holds JSON names (lowerCamel).
        address.values = vec![Value::new("city", "string"), Value::new("zipCode", "int32")];
        let mut req = Value::new("PlaceRequest", "shop.PlaceRequest");
        req.values = vec![
            Value::new("name", "string"),
            Value::new("count", "int64"),
            Value::new("tags", "repeated string"),
            address,
        ];
        req
    }

    #[test]
    fn arguments_are_checked_against_the_request_naming_the_field() {
        let s = shape();
        let ok = json!({"name": "x", "count": "9007199254740993", "tags": ["a"], "address": {"city": "Oslo", "zipCode": 150}});
        assert_eq!(check_arguments(Some(&s), &ok), Ok(()));
        // The proto name is proto3 JSON too.
        let snake = json!({"address": {"zip_code": "150"}});
        assert_eq!(check_arguments(Some(&s), &snake), Ok(()));
        assert_eq!(check_arguments(Some(&s), &json!({"count": 3})), Ok(()));
        let err = |v: Json| check_arguments(Some(&s), &v).unwrap_err();
        assert_eq!(
            err(json!({"name": 5})),
            "name: expected a string, got a number"
        );
        assert_eq!(
            err(json!({"nmae": "x"})),
            "nmae: no such field (the fields are name, count, tags, address)"
        );
        assert_eq!(
            err(json!({"address": {"zip_code": "north"}})),
            "address.zipCode: expected an integer (int32), got a string"
        );
        assert_eq!(
            err(json!({"tags": [null]})),
            "tags[0]: null is not a value of a repeated field"
        );
        assert_eq!(
            err(json!({"tags": ["a", 1]})),
            "tags[1]: expected a string, got a number"
        );
        assert_eq!(
            err(json!({"count": 1.5})),
            "count: expected an integer (int64), got a number"
        );
        assert_eq!(
            err(json!([1])),
            "the arguments must be an object, not an array"
        );
    }

    #[test]
    fn the_schema_is_an_object_that_refuses_unknown_fields() {
        let schema = input_schema(Some(&shape()));
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["properties"]["count"]["type"], "string");
        assert_eq!(schema["properties"]["tags"]["type"], "array");
        assert_eq!(
            schema["properties"]["address"]["properties"]["city"]["type"],
            "string"
        );
        assert_eq!(
            schema["properties"]["address"]["additionalProperties"],
            false
        );
        assert_eq!(input_schema(None), json!({"type": "object"}));
    }
}
