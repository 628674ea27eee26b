//! `/openapi.json`: an OpenAPI 3.1 document of every route the gateway serves, built from the
//! registry — each `google.api.http` rule, and `POST /api/{service}/{Endpoint}` for every
//! endpoint that does not take a stream of requests.
//!
//! Schemas follow proto3 JSON: 64-bit integers are strings of digits, `bytes` base64,
//! `Timestamp` an RFC 3339 string, wrappers their value or null; nested messages are
//! expanded as the registry holds them (a recursive message once).

use micro::registry::Value;
use serde_json::{Map, Value as Json, json};

use crate::Options;
use crate::routes::{EndpointInfo, Rule, Table};

fn int64(unsigned: bool) -> Json {
    let pattern = if unsigned { "^[0-9]+$" } else { "^-?[0-9]+$" };
    json!({"type": "string", "pattern": pattern, "maxLength": 20})
}

/// The JSON Schema of a field or message of `kind` (protobuf's words, as the registry has
/// them), with `fields` when it is a message.
fn kind_schema(kind: &str, fields: &[Value], depth: usize) -> Json {
    if let Some(inner) = kind.strip_prefix("repeated ") {
        return json!({"type": "array", "items": kind_schema(inner, fields, depth)});
    }
    if let Some(rest) = kind.strip_prefix("map<") {
        let value = rest
            .trim_end_matches('>')
            .split_once(',')
            .map(|(_, v)| v.trim())
            .unwrap_or("");
        let values = if scalar(value).is_some() {
            kind_schema(value, &[], depth)
        } else {
            json!({})
        };
        return json!({"type": "object", "additionalProperties": values});
    }
    if let Some(s) = scalar(kind) {
        return s;
    }
    if let Some(s) = well_known(kind) {
        return s;
    }
    if !fields.is_empty() && depth < 16 {
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in fields {
            let mut schema = kind_schema(&f.kind, &f.values, depth + 1);
            f.constraints.apply_to(&mut schema);
            if !f.description.is_empty()
                && let Some(obj) = schema.as_object_mut()
            {
                obj.insert("description".into(), json!(f.description));
            }
            if f.required {
                required.push(json!(f.name));
            }
            props.insert(f.name.clone(), schema);
        }
        let mut schema = json!({"type": "object", "properties": props});
        if !required.is_empty() {
            schema["required"] = Json::Array(required);
        }
        return schema;
    }
    if fields.is_empty() && kind.contains('.') {
        // A named type without fields: an enum (by name or number), or a message the
        // registry did not expand (a recursion), or one with no fields.
        return json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "object"}]});
    }
    json!({})
}

fn scalar(kind: &str) -> Option<Json> {
    Some(match kind {
        "string" => json!({"type": "string"}),
        "bytes" => json!({"type": "string", "contentEncoding": "base64"}),
        "bool" => json!({"type": "boolean"}),
        "double" | "float" => json!({"type": "number"}),
        "int32" | "sint32" | "sfixed32" => {
            json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX})
        }
        "uint32" | "fixed32" => {
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX})
        }
        "int64" | "sint64" | "sfixed64" => int64(false),
        "uint64" | "fixed64" => int64(true),
        _ => return None,
    })
}

fn nullable(mut schema: Json) -> Json {
    if let Some(Json::String(t)) = schema.get("type").cloned()
        && let Some(obj) = schema.as_object_mut()
    {
        obj.insert("type".into(), json!([t, "null"]));
    }
    schema
}

fn well_known(kind: &str) -> Option<Json> {
    let name = kind.strip_prefix("google.protobuf.")?;
    Some(match name {
        "Timestamp" => json!({"type": "string", "format": "date-time"}),
        "Duration" => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$"}),
        "FieldMask" => json!({"type": "string"}),
        "Struct" | "Any" | "Empty" => json!({"type": "object"}),
        "ListValue" => json!({"type": "array"}),
        "Value" => json!({}),
        "DoubleValue" | "FloatValue" => nullable(json!({"type": "number"})),
        "Int64Value" => nullable(int64(false)),
        "UInt64Value" => nullable(int64(true)),
        "Int32Value" => nullable(scalar("int32")?),
        "UInt32Value" => nullable(scalar("uint32")?),
        "BoolValue" => nullable(json!({"type": "boolean"})),
        "StringValue" => nullable(json!({"type": "string"})),
        "BytesValue" => nullable(json!({"type": "string", "contentEncoding": "base64"})),
        _ => return None,
    })
}

/// The JSON Schema (proto3 JSON) of a message as the registry describes it; `{"type":
/// "object"}` when the service publishes no shape.
pub fn message_schema(shape: Option<&Value>) -> Json {
    match shape {
        Some(v) => kind_schema(&v.kind, &v.values, 0),
        None => json!({"type": "object"}),
    }
}

fn field<'a>(shape: Option<&'a Value>, path: &str) -> Option<&'a Value> {
    let mut at = shape?;
    for word in path.split('.') {
        let camel = crate::transcode::lower_camel(word);
        at = at
            .values
            .iter()
            .find(|f| f.name == word || f.name == camel)?;
    }
    Some(at)
}

fn error_response() -> Json {
    json!({
        "description": "An error: go-micro's id, code (the HTTP status), detail and status text.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn ok_response(info: &EndpointInfo, response_body: Option<&str>) -> Json {
    if info.stream.as_deref() == Some("server") {
        let item = message_schema(info.response.as_ref());
        return json!({
            "description": "The stream: one JSON message per line, or server-sent events with Accept: text/event-stream; an error is the last line ({\"error\": ...}).",
            "content": {
                "application/x-ndjson": {"schema": item.clone()},
                "text/event-stream": {"schema": {"type": "string"}}
            }
        });
    }
    let schema = match response_body {
        Some(f) => field(info.response.as_ref(), f)
            .map(|v| kind_schema(&v.kind, &v.values, 0))
            .unwrap_or(json!({})),
        None => message_schema(info.response.as_ref()),
    };
    json!({"description": "The reply.", "content": {"application/json": {"schema": schema}}})
}

fn describe(info: &EndpointInfo) -> Option<String> {
    info.metadata
        .get("description")
        .or_else(|| info.metadata.get("doc"))
        .cloned()
}

fn rule_operation(rule: &Rule, info: &EndpointInfo, id: String) -> Json {
    let mut params = Vec::new();
    let bound: Vec<&str> = rule.template.fields().collect();
    for name in &bound {
        let schema = field(info.request.as_ref(), name)
            .map(|v| kind_schema(&v.kind, &v.values, 0))
            .unwrap_or(json!({"type": "string"}));
        params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    if rule.body.as_deref() != Some("*")
        && let Some(shape) = &info.request
    {
        for f in &shape.values {
            let top_bound = bound
                .iter()
                .any(|b| b.split('.').next() == Some(f.name.as_str()));
            let is_body = rule
                .body
                .as_deref()
                .is_some_and(|b| b == f.name || crate::transcode::lower_camel(b) == f.name);
            let queryable = f.values.is_empty() && !f.kind.starts_with("map<");
            if top_bound || is_body || !queryable || well_known(&f.kind).is_some() {
                continue;
            }
            let schema = kind_schema(&f.kind, &[], 0);
            let mut p = json!({"name": f.name, "in": "query", "required": false, "schema": schema});
            if f.kind.starts_with("repeated ") {
                p["style"] = json!("form");
                p["explode"] = json!(true);
            }
            params.push(p);
        }
    }
    let mut op = json!({
        "operationId": id,
        "summary": format!("{} on {}", rule.endpoint, rule.service),
        "tags": [rule.service],
        "parameters": params,
        "responses": {"200": ok_response(info, rule.response_body.as_deref()), "default": error_response()},
    });
    if let Some(text) = describe(info) {
        op["description"] = json!(text);
    }
    if let Some(body) = &rule.body {
        let schema = if body == "*" {
            message_schema(info.request.as_ref())
        } else {
            field(info.request.as_ref(), body)
                .map(|v| kind_schema(&v.kind, &v.values, 0))
                .unwrap_or(json!({}))
        };
        op["requestBody"] =
            json!({"required": false, "content": {"application/json": {"schema": schema}}});
    }
    op
}

fn simple_operation(service: &str, endpoint: &str, info: &EndpointInfo, id: String) -> Json {
    let mut op = json!({
        "operationId": id,
        "summary": format!("{endpoint} on {service}"),
        "tags": [service],
        "requestBody": {"required": false, "content": {"application/json": {"schema": message_schema(info.request.as_ref())}}},
        "responses": {"200": ok_response(info, None), "default": error_response()},
    });
    if let Some(text) = describe(info) {
        op["description"] = json!(text);
    }
    op
}

/// The document for `table`.
pub fn document(table: &Table, options: &Options) -> Json {
    let mut paths = Map::new();
    let mut n = 0usize;
    if options.handler == crate::HandlerKind::Meta {
        for rule in &table.rules {
            let method = rule.method.to_ascii_lowercase();
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let Some(info) = table.endpoint(&rule.service, &rule.endpoint) else {
                continue;
            };
            n += 1;
            let id = format!("{}.{}.{n}", rule.service, rule.endpoint);
            let entry = paths
                .entry(rule.template.openapi_path())
                .or_insert_with(|| json!({}));
            if entry.get(&method).is_none() {
                entry[&method] = rule_operation(rule, info, id);
            }
        }
    }
    for (service, endpoints) in &table.services {
        for (endpoint, info) in endpoints {
            if matches!(info.stream.as_deref(), Some("client" | "bidirectional")) {
                continue;
            }
            if crate::resolve::simple(&format!("/api/{service}/{endpoint}")).is_none() {
                continue;
            }
            let path = format!("/api/{service}/{endpoint}");
            paths.insert(
                path,
                json!({"post": simple_operation(service, endpoint, info, format!("{service}.{endpoint}"))}),
            );
        }
    }
    if let Some(Json::Object(more)) = options.openapi_paths.as_deref() {
        for (path, item) in more {
            paths.entry(path.clone()).or_insert_with(|| item.clone());
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "micro API gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every route of the services in the registry, as the gateway serves them."
        },
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "code": {"type": "integer"},
                "detail": {"type": "string"},
                "status": {"type": "string"}
            },
            "required": ["id", "code", "detail", "status"]
        }}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto3_json_shapes() {
        let shape = Value::new("Req", "Req")
            .with_field(Value::new("id", "int64"))
            .with_field(Value::new("n", "uint32"))
            .with_field(Value::new("tags", "repeated string"))
            .with_field(Value::new("counts", "map<string, int64>"))
            .with_field(Value::new("at", "google.protobuf.Timestamp"))
            .with_field(Value::new("inner", "Inner").with_field(Value::new("ok", "bool")));
        let s = message_schema(Some(&shape));
        assert_eq!(s["properties"]["id"]["type"], "string");
        assert_eq!(s["properties"]["n"]["minimum"], 0);
        assert_eq!(s["properties"]["tags"]["items"]["type"], "string");
        assert_eq!(
            s["properties"]["counts"]["additionalProperties"]["type"],
            "string"
        );
        assert_eq!(s["properties"]["at"]["format"], "date-time");
        assert_eq!(
            s["properties"]["inner"]["properties"]["ok"]["type"],
            "boolean"
        );
    }
}
