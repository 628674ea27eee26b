//! The dashboard's JSON API as OpenAPI 3.1: served at `{base}/api/openapi.json`, and merged
//! into the gateway's `/openapi.json` when `micro api --web` mounts the dashboard.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use crate::Web;

/// go-micro's error fields under `error` (inline: the paths are merged into the gateway's
/// document too, which has no schema of this name).
fn error_response(what: &str) -> Value {
    let fields = json!({"type": "object", "required": ["id", "code", "detail", "status"],
        "properties": {"id": {"type": "string"}, "code": {"type": "integer"},
                       "detail": {"type": "string"}, "status": {"type": "string"}}});
    let schema = json!({"type": "object", "properties": {"error": fields}});
    json!({"description": what, "content": {"application/json": {"schema": schema}}})
}

fn ok_json(what: &str, schema: Value) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": schema}}})
}

fn csrf() -> Value {
    json!({"name": "X-Micro-Csrf", "in": "header", "required": true,
           "description": "The page's token from GET api/session", "schema": {"type": "string"}})
}

fn query(name: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

/// The path items of the dashboard's API under `base` (`/_`), keyed by path.
pub fn paths(base: &str) -> Value {
    let base = base.trim_end_matches('/');
    let p = |rest: &str| format!("{base}/api/{rest}");
    let string_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let target = json!({"type": "object", "required": ["service", "endpoint"], "properties": {
        "service": {"type": "string"}, "endpoint": {"type": "string", "description": "Service.Method"},
        "request": {"type": "object"}, "metadata": string_map,
        "address": {"type": "string", "description": "a registered node of the service"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600}}});
    let mut out = serde_json::Map::new();
    let mut add = |path: String, item: Value| {
        out.insert(path, item);
    };
    add(
        p("session"),
        json!({"get": {"summary": "What the page needs to start: version, engines, whether a token is required, the CSRF token once signed in",
        "tags": ["dashboard"], "responses": {"200": ok_json("the session", json!({"type": "object"}))}}}),
    );
    add(
        p("login"),
        json!({"post": {"summary": "Sign in with the dashboard's token; sets an HttpOnly session cookie",
        "tags": ["dashboard"], "requestBody": body(json!({"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}})),
        "responses": {"204": {"description": "signed in"}, "401": error_response("wrong token")}}}),
    );
    add(
        p("logout"),
        json!({"post": {"summary": "Forget this browser's session cookie", "tags": ["dashboard"],
        "parameters": [csrf()], "responses": {"204": {"description": "signed out"}}}}),
    );
    add(
        p("services"),
        json!({"get": {"summary": "Every service: versions, node count, endpoint count, health; the web apps; counts",
        "tags": ["dashboard"], "responses": {"200": ok_json("the services", json!({"type": "object"})), "401": error_response("sign in first")}}}),
    );
    add(
        p("watch"),
        json!({"get": {"summary": "The services summary now and after every registry change (server-sent events named `services`)",
        "tags": ["dashboard"], "responses": {"200": {"description": "an event stream", "content": {"text/event-stream": {}}}}}}),
    );
    add(
        p("services/{name}"),
        json!({"get": {"summary": "One service in full: nodes with their health, endpoints with shapes and bindings, subscribers",
        "tags": ["dashboard"], "parameters": [path_param("name")],
        "responses": {"200": ok_json("the service", json!({"type": "object"})), "404": error_response("no such service")}}}),
    );
    add(
        p("health/{name}"),
        json!({"get": {"summary": "grpc.health.v1 on every node of a service", "tags": ["dashboard"],
        "parameters": [path_param("name")], "responses": {"200": ok_json("health per node", json!({"type": "object"})), "404": error_response("no such service")}}}),
    );
    add(
        p("registry"),
        json!({"get": {"summary": "Every registry record as go-micro's JSON", "tags": ["dashboard"],
        "responses": {"200": ok_json("the records", json!({"type": "object"}))}}}),
    );
    add(
        p("call"),
        json!({"post": {"summary": "Call a unary endpoint; the answer says how it went (ok, message, headers, trailers, node, elapsed_ms, or error)",
        "tags": ["dashboard"], "parameters": [csrf()], "requestBody": body(target.clone()),
        "responses": {"200": ok_json("the call's outcome", json!({"type": "object", "required": ["ok", "elapsed_ms"]})), "400": error_response("a malformed call")}}}),
    );
    add(
        p("stream"),
        json!({"get": {"summary": "A websocket for any stream: first frame {csrf, service, endpoint, metadata, address, timeout}, then one JSON request per frame, an empty frame ends the requests; one reply per frame, an error as {\"error\":{...}}",
        "tags": ["dashboard"], "responses": {"101": {"description": "switching to the websocket"}}}}),
    );
    add(
        p("publish"),
        json!({"post": {"summary": "Publish a JSON message on a topic", "tags": ["dashboard"], "parameters": [csrf()],
        "requestBody": body(json!({"type": "object", "required": ["topic", "message"], "properties": {"topic": {"type": "string"}, "message": {}, "metadata": string_map}})),
        "responses": {"200": ok_json("published", json!({"type": "object"})), "503": error_response("no broker, or it refused")}}}),
    );
    add(
        p("topics/{topic}/watch"),
        json!({"get": {"summary": "Every message on a topic while listening (server-sent events named `message`; a broadcast subscription)",
        "tags": ["dashboard"], "parameters": [path_param("topic")], "responses": {"200": {"description": "an event stream", "content": {"text/event-stream": {}}}, "503": error_response("no broker")}}}),
    );
    add(
        p("store"),
        json!({"get": {"summary": "A page of a table's keys", "tags": ["dashboard"],
        "parameters": [query("table", true, json!({"type": "string"})), query("prefix", false, json!({"type": "string"})),
                       query("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 500})), query("offset", false, json!({"type": "integer", "minimum": 0}))],
        "responses": {"200": ok_json("keys", json!({"type": "object"})), "503": error_response("no store")}}}),
    );
    add(
        p("store/record"),
        json!({
        "get": {"summary": "Read a record", "tags": ["dashboard"], "parameters": [query("table", true, json!({"type": "string"})), query("key", true, json!({"type": "string"}))],
            "responses": {"200": ok_json("the record", json!({"type": "object"})), "404": error_response("no such key")}},
        "put": {"summary": "Write a record (text value, optional time to live)", "tags": ["dashboard"], "parameters": [csrf()],
            "requestBody": body(json!({"type": "object", "required": ["table", "key", "value"], "properties": {"table": {"type": "string"}, "key": {"type": "string"}, "value": {"type": "string"}, "ttl_ms": {"type": "integer", "minimum": 0}}})),
            "responses": {"204": {"description": "written"}}},
        "delete": {"summary": "Delete a record", "tags": ["dashboard"], "parameters": [csrf(), query("table", true, json!({"type": "string"})), query("key", true, json!({"type": "string"}))],
            "responses": {"204": {"description": "deleted"}, "404": error_response("no such key")}}}),
    );
    Value::Object(out)
}

/// The whole document for the dashboard alone.
pub fn document(base: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "micro web dashboard", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The JSON API the dashboard's page uses."},
        "paths": paths(base),
    })
}

/// `GET api/openapi.json`.
pub(crate) async fn serve(State(web): State<Web>) -> Response {
    crate::json(StatusCode::OK, &document(&web.options().base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_page_is_described_under_the_base() {
        let doc = document("/_");
        let paths = doc["paths"].as_object().expect("paths");
        for p in [
            "session",
            "services",
            "services/{name}",
            "watch",
            "call",
            "stream",
            "publish",
            "store/record",
        ] {
            assert!(paths.contains_key(&format!("/_/api/{p}")), "{p}");
        }
        assert!(paths.keys().all(|k| k.starts_with("/_/api/")));
    }
}
