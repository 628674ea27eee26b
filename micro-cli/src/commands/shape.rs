//! Requests against the shapes the registry knows: a JSON request checked field by field
//! before it is sent (services ignore unknown fields, as proto3 JSON says, so a typo would
//! otherwise pass silently), and the field list `micro SERVICE ENDPOINT --help` prints.

use micro::registry::Value;
use serde_json::Value as Json;

use crate::commands::CliError;

/// Check `request` against `schema`: every field must exist (by its JSON or proto name) and
/// every value must fit the field's type. Shapes the registry does not detail (enums,
/// well-known types, messages without fields) are left to the service.
pub(crate) fn check(
    request: &Json,
    schema: &Value,
    service: &str,
    endpoint: &str,
) -> Result<(), CliError> {
    if schema.values.is_empty() {
        return Ok(());
    }
    check_message(request, schema, endpoint, "").map_err(|mut e| {
        e.hint = Some(match e.hint.take() {
            Some(fields) => fields,
            None => format!(
                "`micro {service} {} --help` lists its fields",
                method(endpoint)
            ),
        });
        e
    })
}

/// `place` for `Orders.Place`: the method as `micro SERVICE METHOD` takes it.
pub(crate) fn method(endpoint: &str) -> String {
    use heck::ToKebabCase;
    endpoint
        .rsplit('.')
        .next()
        .unwrap_or(endpoint)
        .to_kebab_case()
}

fn check_message(value: &Json, schema: &Value, endpoint: &str, at: &str) -> Result<(), CliError> {
    let Json::Object(fields) = value else {
        if value.is_null() {
            return Ok(());
        }
        return Err(mismatch(endpoint, at, &schema.kind, value));
    };
    for (name, value) in fields {
        let path = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}.{name}")
        };
        let Some(field) = find(schema, name) else {
            let known: Vec<&str> = schema.values.iter().map(|v| v.name.as_str()).collect();
            let whose = if at.is_empty() {
                endpoint.to_owned()
            } else {
                format!("{at} of {endpoint}")
            };
            return Err(CliError::usage(
                format!("{whose} has no field {name:?}"),
                Some(format!("its fields: {}", known.join(", "))),
            ));
        };
        check_value(value, field, &field.kind, endpoint, &path)?;
    }
    Ok(())
}

fn check_value(
    value: &Json,
    field: &Value,
    kind: &str,
    endpoint: &str,
    path: &str,
) -> Result<(), CliError> {
    if value.is_null() {
        return Ok(());
    }
    if let Some(item) = kind.strip_prefix("repeated ") {
        let Json::Array(items) = value else {
            return Err(mismatch(endpoint, path, kind, value));
        };
        for (i, v) in items.iter().enumerate() {
            check_value(v, field, item, endpoint, &format!("{path}[{i}]"))?;
        }
        return Ok(());
    }
    if let Some(entry) = kind.strip_prefix("map<").and_then(|k| k.strip_suffix('>')) {
        let Json::Object(entries) = value else {
            return Err(mismatch(endpoint, path, kind, value));
        };
        let of = entry.split_once(',').map_or("", |(_, v)| v.trim());
        for (k, v) in entries {
            check_value(v, field, of, endpoint, &format!("{path}.{k}"))?;
        }
        return Ok(());
    }
    let fits = match kind {
        "string" | "bytes" => value.is_string(),
        "bool" => value.is_boolean(),
        "int32" | "sint32" | "sfixed32" | "uint32" | "fixed32" | "int64" | "sint64"
        | "sfixed64" | "uint64" | "fixed64" => match value {
            Json::Number(n) => n.is_i64() || n.is_u64(),
            Json::String(s) => s.trim().parse::<i128>().is_ok(),
            _ => false,
        },
        "double" | "float" => match value {
            Json::Number(_) => true,
            Json::String(s) => {
                matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") || s.parse::<f64>().is_ok()
            }
            _ => false,
        },
        // A message the registry details: its fields are checked in turn.
        _ if !field.values.is_empty() => return check_message(value, field, endpoint, path),
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(mismatch(endpoint, path, kind, value))
    }
}

/// The field `name` of `schema`, by its JSON name or its proto (snake_case) name.
pub(crate) fn find<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    let plain = |s: &str| s.replace(['_', '-'], "").to_ascii_lowercase();
    schema
        .values
        .iter()
        .find(|v| v.name == name)
        .or_else(|| schema.values.iter().find(|v| plain(&v.name) == plain(name)))
}

fn mismatch(endpoint: &str, path: &str, kind: &str, value: &Json) -> CliError {
    let shown = match value {
        Json::String(s) => format!("{s:?}"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "an object".to_owned(),
        other => other.to_string(),
    };
    let field = if path.is_empty() {
        "the request".to_owned()
    } else {
        format!("field {path:?}")
    };
    CliError::usage(
        format!("{field} of {endpoint} wants {}, not {shown}", wanted(kind)),
        None,
    )
}

fn wanted(kind: &str) -> String {
    match kind {
        "string" => "a string".to_owned(),
        "bytes" => "base64 text".to_owned(),
        "bool" => "true or false".to_owned(),
        k if k.starts_with("repeated ") => format!("a list ({k})"),
        k if k.starts_with("map<") => format!("an object ({k})"),
        k if k.contains("int") || k.contains("fixed") => format!("a whole number ({k})"),
        "double" | "float" => format!("a number ({kind})"),
        other => format!("an object ({other})"),
    }
}

/// `name string, age int32`, nested messages in braces: one line of a message's fields.
pub(crate) fn inline(value: &Value) -> String {
    if value.values.is_empty() {
        return value.kind.clone();
    }
    let inner: Vec<String> = value
        .values
        .iter()
        .map(|f| format!("{} {}", f.name, inline(f)))
        .collect();
    format!("{} {{ {} }}", value.kind, inner.join(", "))
}

/// The flags a request of shape `schema` takes, one `(--path, type)` per scalar field;
/// nested messages by dotted path, repeated messages and maps as JSON.
pub(crate) fn flags(schema: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect_flags(schema, "", &mut out, 0);
    out
}

fn collect_flags(schema: &Value, prefix: &str, out: &mut Vec<(String, String)>, depth: usize) {
    for field in &schema.values {
        let path = format!("{prefix}{}", field.name);
        let nested = !field.values.is_empty()
            && !field.kind.starts_with("repeated ")
            && !field.kind.starts_with("map<");
        if nested && depth < 4 {
            collect_flags(field, &format!("{path}."), out, depth + 1);
            continue;
        }
        let shown = if field.values.is_empty() {
            field.kind.clone()
        } else {
            format!("JSON: {}", inline(field))
        };
        let note = if field.kind.starts_with("repeated ") {
            " (repeat the flag for each item)"
        } else {
            ""
        };
        out.push((format!("--{path}"), format!("{shown}{note}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        Value::new("PlaceRequest", "PlaceRequest")
            .with_field(Value::new("orderId", "string"))
            .with_field(Value::new("qty", "int32"))
            .with_field(Value::new("tags", "repeated string"))
            .with_field(
                Value::new("customer", "Customer")
                    .with_field(Value::new("name", "string"))
                    .with_field(Value::new("vip", "bool")),
            )
            .with_field(Value::new("labels", "map<string, int64>"))
    }

    #[test]
    fn requests_that_fit_pass() {
        let s = schema();
        for ok in [
            json!({}),
            json!({"orderId": "o1", "qty": 2}),
            json!({"order_id": "o1", "qty": "2"}),
            json!({"tags": ["a", "b"], "customer": {"name": "Ann", "vip": true}}),
            json!({"labels": {"a": "7"}, "customer": null}),
        ] {
            check(&ok, &s, "orders", "Orders.Place").unwrap();
        }
    }

    #[test]
    fn misfits_name_the_field() {
        let s = schema();
        for (bad, why) in [
            (
                json!({"qty": "two"}),
                "field \"qty\" of Orders.Place wants a whole number (int32), not \"two\"",
            ),
            (json!({"qty": 1.5}), "field \"qty\""),
            (
                json!({"orderid": 1}),
                "field \"orderid\" of Orders.Place wants a string",
            ),
            (
                json!({"tags": "a"}),
                "field \"tags\" of Orders.Place wants a list",
            ),
            (json!({"tags": [1]}), "field \"tags[0]\""),
            (
                json!({"customer": {"vip": "yes"}}),
                "field \"customer.vip\" of Orders.Place wants true or false",
            ),
            (json!({"labels": {"a": "x"}}), "field \"labels.a\""),
            (json!({"qtty": 1}), "Orders.Place has no field \"qtty\""),
            (
                json!({"customer": {"nme": "x"}}),
                "customer of Orders.Place has no field \"nme\"",
            ),
            (json!([1]), "the request of Orders.Place wants an object"),
        ] {
            let err = check(&bad, &s, "orders", "Orders.Place").unwrap_err();
            assert!(err.message.contains(why), "{bad}: {}", err.message);
            assert_eq!(err.exit_code, 2);
        }
    }

    #[test]
    fn flags_follow_nested_fields() {
        let names: Vec<String> = flags(&schema()).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            names,
            [
                "--orderId",
                "--qty",
                "--tags",
                "--customer.name",
                "--customer.vip",
                "--labels"
            ]
        );
    }
}
