//! `micro SERVICE ENDPOINT --field value ...`: a call whose request is built from flags.
//!
//! The endpoint may be written in full (`Greeter.Hello`) or as the method alone, in any case
//! (`hello`). Flags become the fields of the JSON request: `--name John`, `--name=John`,
//! `--user.age 7` (nested), a repeated flag makes a list, a bare `--flag` is `true`. Values
//! follow the field types the registry knows; other values are read as JSON when they parse,
//! as text otherwise.

use heck::ToUpperCamelCase;
use micro::client::CallOptions;
use micro::registry::{Endpoint, Value};
use serde_json::{Map, Value as Json};

use crate::cli::Global;
use crate::commands::{CliError, call, shape};
use crate::output;

const USAGE: &str =
    "micro SERVICE ENDPOINT [--field value ...], e.g. micro greeter hello --name John";

pub(crate) async fn exec(
    _global: &Global,
    client: &micro::Client,
    args: Vec<String>,
) -> Result<(), CliError> {
    let mut args = args.into_iter();
    let service = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let help = rest.iter().any(|a| a == "--help" || a == "-h");
    let method = rest.first().filter(|m| !m.starts_with('-')).cloned();
    if method.is_none() && !help {
        return Err(CliError::usage(
            format!("unknown command {service:?}, or a call without an endpoint"),
            Some(format!(
                "`micro --help` lists the commands, `micro {service} --help` the endpoints of a service; a call is {USAGE}"
            )),
        ));
    }
    let records = client
        .selector()
        .registry()
        .get_service(&service)
        .await
        .map_err(|e| match e.code() {
            404 => CliError::usage(
                format!("{service:?} is neither a command nor a registered service"),
                Some(format!("`micro --help` lists the commands, `micro services` the services; a call is {USAGE}")),
            ),
            _ => CliError::registry(&e),
        })?;
    let endpoints: Vec<&Endpoint> = records
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| !e.is_subscriber())
        .collect();
    let Some(method) = method else {
        output::print(&service_help(&service, &endpoints));
        return Ok(());
    };
    let endpoint = resolve(&service, &method, &endpoints)?;
    let described = endpoints.iter().find(|e| e.name == endpoint).copied();
    if help {
        output::print(&endpoint_help(&service, &method, &endpoint, described));
        return Ok(());
    }
    let flags: Vec<String> = rest.into_iter().skip(1).collect();
    let schema = described.and_then(|e| e.request.as_ref());
    let request = build_request(&flags, schema, &endpoint)?;
    if let Some(schema) = schema {
        shape::check(&request, schema, &service, &endpoint)?;
    }
    call::send_one(
        client,
        &service,
        &endpoint,
        described.and_then(Endpoint::stream),
        CallOptions::new(),
        request.to_string(),
        false,
    )
    .await
}

/// `micro SERVICE --help`: the endpoints, each with its request shape.
fn service_help(service: &str, endpoints: &[&Endpoint]) -> String {
    let mut out = format!(
        "Call an endpoint of {service} with its fields as flags.\n\nUsage: micro {service} ENDPOINT [--field value ...]\n\nEndpoints:\n"
    );
    if endpoints.is_empty() {
        out.push_str("  (none declared)\n");
    }
    let rows: Vec<Vec<String>> = endpoints
        .iter()
        .map(|e| {
            let method = shape::method(&e.name);
            let mut about = e.name.clone();
            if let Some(kind) = e.stream() {
                about.push_str(&format!(" ({kind} stream)"));
            }
            if let Some(req) = &e.request {
                about.push_str(&format!("  {}", shape::inline(req)));
            }
            vec![method, about]
        })
        .collect();
    for line in output::table(&["", ""], &rows).lines().skip(1) {
        out.push_str(&format!("  {}\n", line.trim_end()));
    }
    out.push_str(&format!(
        "\n`micro {service} ENDPOINT --help` lists the fields of an endpoint; `micro describe {service}` shows everything."
    ));
    out
}

/// `micro SERVICE ENDPOINT --help`: the fields as flags, and the response.
fn endpoint_help(
    service: &str,
    method: &str,
    endpoint: &str,
    described: Option<&Endpoint>,
) -> String {
    let mut out = format!("{endpoint} of {service}");
    match described.and_then(Endpoint::stream) {
        Some("server") => out.push_str(" (server stream: one JSON line per response)"),
        Some(kind) => out.push_str(&format!(
            " ({kind} stream: use micro stream {service} {endpoint})"
        )),
        None => {}
    }
    out.push_str(&format!(
        "\n\nUsage: micro {service} {method} [--field value ...]\n\nFields:\n"
    ));
    let flags = described
        .and_then(|e| e.request.as_ref())
        .map(shape::flags)
        .unwrap_or_default();
    if flags.is_empty() {
        out.push_str("  (none declared)\n");
    }
    let rows: Vec<Vec<String>> = flags.into_iter().map(|(f, t)| vec![f, t]).collect();
    for line in output::table(&["", ""], &rows).lines().skip(1) {
        out.push_str(&format!("  {}\n", line.trim_end()));
    }
    if let Some(rsp) = described.and_then(|e| e.response.as_ref()) {
        out.push_str(&format!("\nResponse: {}\n", shape::inline(rsp)));
    }
    out.push_str(
        "\nA repeated flag makes a list, a bare --flag is true, --a.b sets a nested field.",
    );
    out
}

/// `Greeter.Hello` as given, or the endpoint whose method matches `hello` / `say-hello`.
fn resolve(service: &str, method: &str, endpoints: &[&Endpoint]) -> Result<String, CliError> {
    if method.contains('.') {
        return Ok(method.to_owned());
    }
    let wanted = method.to_upper_camel_case();
    let matches: Vec<&str> = endpoints
        .iter()
        .map(|e| e.name.as_str())
        .filter(|name| {
            name.rsplit('.')
                .next()
                .is_some_and(|m| m.eq_ignore_ascii_case(&wanted))
        })
        .collect();
    let names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
    match matches.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(CliError::usage(
            format!("{service} has no endpoint {method:?}"),
            Some(format!("its endpoints: {}", names.join(", "))),
        )),
        many => Err(CliError::usage(
            format!(
                "{method:?} matches several endpoints of {service}: {}",
                many.join(", ")
            ),
            Some("write the endpoint in full, e.g. Service.Method".to_owned()),
        )),
    }
}

/// The JSON request the flags describe.
pub(crate) fn build_request(
    flags: &[String],
    schema: Option<&Value>,
    endpoint: &str,
) -> Result<Json, CliError> {
    let mut request = Map::new();
    let mut i = 0;
    while i < flags.len() {
        let flag = &flags[i];
        let Some(spec) = flag.strip_prefix("--").filter(|s| !s.is_empty()) else {
            return Err(CliError::usage(
                format!("unexpected argument {flag:?}: fields are given as --field value"),
                Some(USAGE.to_owned()),
            ));
        };
        let (path, value) = match spec.split_once('=') {
            Some((p, v)) => (p.to_owned(), Some(v.to_owned())),
            None => match flags.get(i + 1).filter(|v| !v.starts_with("--")) {
                Some(v) => {
                    i += 1;
                    (spec.to_owned(), Some(v.clone()))
                }
                None => (spec.to_owned(), None),
            },
        };
        i += 1;
        let field = field_schema(schema, &path);
        if schema.is_some_and(|s| !s.values.is_empty()) && field.is_none() {
            let known = schema
                .map(|s| {
                    s.values
                        .iter()
                        .map(|v| format!("--{}", v.name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            return Err(CliError::usage(
                format!("{endpoint} has no field --{path}"),
                Some(format!("its fields: {}", known.join(", "))),
            ));
        }
        let kind = field.as_ref().map(|(f, _)| f.kind.as_str());
        // Fields as the registry spells them (--order_id fills orderId).
        let path = field
            .as_ref()
            .map_or(path, |(_, canonical)| canonical.clone());
        match kind.and_then(|k| k.strip_prefix("repeated ")) {
            // Each flag of a repeated field is one item.
            Some(item) => {
                let json = typed(value.as_deref(), Some(item), &path)?;
                insert_item(&mut request, &path, json)?;
            }
            None => {
                let json = typed(value.as_deref(), kind, &path)?;
                insert(&mut request, &path, json)?;
            }
        }
    }
    Ok(Json::Object(request))
}

/// The schema of `a.b.c` inside `schema`, and the path as the schema spells it.
fn field_schema<'a>(schema: Option<&'a Value>, path: &str) -> Option<(&'a Value, String)> {
    let mut current = schema?;
    let mut names = Vec::new();
    for part in path.split('.') {
        current = shape::find(current, part)?;
        names.push(current.name.as_str());
    }
    Some((current, names.join(".")))
}

fn typed(value: Option<&str>, kind: Option<&str>, path: &str) -> Result<Json, CliError> {
    let bad = |what: &str| {
        CliError::usage(
            format!("--{path} wants {what}, not {:?}", value.unwrap_or("")),
            None,
        )
    };
    let Some(value) = value else {
        return match kind {
            None | Some("bool" | "boolean") => Ok(Json::Bool(true)),
            Some(other) => Err(CliError::usage(
                format!("--{path} needs a value ({other})"),
                None,
            )),
        };
    };
    let kind = kind.unwrap_or("");
    Ok(match kind {
        "string" | "bytes" => Json::String(value.to_owned()),
        "bool" | "boolean" => Json::Bool(value.parse().map_err(|_| bad("true or false"))?),
        "int32" | "sint32" | "sfixed32" | "uint32" | "fixed32" | "int64" | "sint64"
        | "sfixed64" | "uint64" | "fixed64" | "integer" => {
            let n: i128 = value.parse().map_err(|_| bad("a whole number"))?;
            if kind.ends_with("64") {
                // proto3 JSON writes 64-bit integers as strings; both are accepted.
                Json::String(n.to_string())
            } else {
                serde_json::from_str(&n.to_string()).map_err(|_| bad("a whole number"))?
            }
        }
        "float" | "double" | "number" => {
            let n: f64 = value.parse().map_err(|_| bad("a number"))?;
            serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
        }
        _ => serde_json::from_str(value).unwrap_or_else(|_| Json::String(value.to_owned())),
    })
}

/// Append `value` to the list at `path`.
fn insert_item(request: &mut Map<String, Json>, path: &str, value: Json) -> Result<(), CliError> {
    let (parent, last) = parent(request, path)?;
    match parent.get_mut(last) {
        Some(Json::Array(items)) => items.push(value),
        Some(_) => {
            return Err(CliError::usage(
                format!("--{path} is set to a value already"),
                None,
            ));
        }
        None => {
            parent.insert(last.to_owned(), Json::Array(vec![value]));
        }
    }
    Ok(())
}

/// Set `path` to `value`; setting it again makes a list.
fn insert(request: &mut Map<String, Json>, path: &str, value: Json) -> Result<(), CliError> {
    let (parent, last) = parent(request, path)?;
    match parent.get_mut(last) {
        Some(Json::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Json::Array(vec![first, value]);
        }
        None => {
            parent.insert(last.to_owned(), value);
        }
    }
    Ok(())
}

/// The object holding the last part of `a.b.c` (made on the way), and that part.
fn parent<'a, 'p>(
    request: &'a mut Map<String, Json>,
    path: &'p str,
) -> Result<(&'a mut Map<String, Json>, &'p str), CliError> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut current = request;
    for part in parts {
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| Json::Object(Map::new()));
        current = entry.as_object_mut().ok_or_else(|| {
            CliError::usage(format!("--{path}: {part} is set to a value already"), None)
        })?;
    }
    Ok((current, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        Value::new("Request", "Request")
            .with_field(Value::new("name", "string"))
            .with_field(Value::new("count", "int32"))
            .with_field(Value::new("big", "int64"))
            .with_field(Value::new("ok", "bool"))
            .with_field(Value::new("user", "User").with_field(Value::new("age", "int32")))
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_become_a_typed_request() {
        let s = schema();
        let json = build_request(
            &args(&[
                "--name",
                "007",
                "--count=3",
                "--big",
                "9",
                "--ok",
                "--user.age",
                "40",
            ]),
            Some(&s),
            "X.Y",
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name":"007","count":3,"big":"9","ok":true,"user":{"age":40}})
        );
    }

    #[test]
    fn without_a_schema_values_are_json_or_text() {
        let json =
            build_request(&args(&["--a", "1", "--b", "x", "--b", "y"]), None, "X.Y").unwrap();
        assert_eq!(json, serde_json::json!({"a":1,"b":["x","y"]}));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let s = schema();
        for (flags, why) in [
            (vec!["--nope", "1"], "has no field --nope"),
            (vec!["--count", "many"], "wants a whole number"),
            (vec!["--ok", "maybe"], "wants true or false"),
            (vec!["stray"], "unexpected argument"),
            (vec!["--name"], "needs a value"),
        ] {
            let err = build_request(&args(&flags), Some(&s), "X.Y").unwrap_err();
            assert!(err.message.contains(why), "{flags:?}: {}", err.message);
            assert_eq!(err.exit_code, 2);
        }
    }

    #[test]
    fn methods_resolve_in_any_case() {
        let e1 = Endpoint::new("Greeter.Hello");
        let e2 = Endpoint::new("Greeter.SayHi");
        let eps = [&e1, &e2];
        assert_eq!(resolve("greeter", "hello", &eps).unwrap(), "Greeter.Hello");
        assert_eq!(resolve("greeter", "say-hi", &eps).unwrap(), "Greeter.SayHi");
        assert_eq!(resolve("greeter", "Other.X", &eps).unwrap(), "Other.X");
        let err = resolve("greeter", "bye", &eps).unwrap_err();
        assert!(err.message.contains("no endpoint"));
    }
}
