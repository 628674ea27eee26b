//! JSON-RPC 2.0 as MCP uses it: `initialize`, `ping`, `tools/list` and `tools/call`;
//! notifications are taken without an answer.

use serde_json::{Value as Json, json};

use crate::{Caller, Mcp};

/// The protocol revisions spoken, newest first (the `initialize` handshake).
///
/// 2025-03-26 is left out: it asks servers to take JSON-RPC batches, which the revisions
/// before and after it do not.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2024-11-05"];

/// The revision offered to a client that asks for one not spoken here.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-11-25";

pub(crate) const PARSE_ERROR: i64 = -32700;
pub(crate) const INVALID_REQUEST: i64 = -32600;
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
pub(crate) const INVALID_PARAMS: i64 = -32602;

/// An error answer to the request `id`.
pub(crate) fn error(id: Json, code: i64, message: impl Into<String>) -> Json {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message.into()},
    })
}

fn result(id: Json, result: Json) -> Json {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The `tools/list_changed` notification.
pub(crate) fn list_changed() -> Json {
    json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
}

/// A line of text as a message: the parsed message, or the parse-error answer.
pub(crate) fn parse(text: &[u8]) -> Result<Json, Json> {
    serde_json::from_slice(text)
        .map_err(|e| error(Json::Null, PARSE_ERROR, format!("not JSON: {e}")))
}

impl Mcp {
    /// Handle one JSON-RPC message: the answer for a request, `None` for a notification
    /// or a response.
    pub async fn handle(&self, message: Json, caller: &Caller) -> Option<Json> {
        let Json::Object(map) = message else {
            let what = if message.is_array() {
                "batches are not taken (MCP 2025-06-18 removed them): send one message at a time"
            } else {
                "a message must be a JSON-RPC object"
            };
            return Some(error(Json::Null, INVALID_REQUEST, what));
        };
        let id = map.get("id").cloned();
        if map.get("jsonrpc").and_then(Json::as_str) != Some("2.0") {
            return Some(error(
                id.unwrap_or(Json::Null),
                INVALID_REQUEST,
                "\"jsonrpc\" must be \"2.0\"",
            ));
        }
        let Some(method) = map.get("method").and_then(Json::as_str) else {
            // A response to a request this server never sends, or nonsense: nothing to say
            // unless it claims to be a request.
            return match id {
                Some(id) if !map.contains_key("result") && !map.contains_key("error") => Some(
                    error(id, INVALID_REQUEST, "a request needs a \"method\" string"),
                ),
                _ => None,
            };
        };
        let id = match id {
            // A notification: no answer, whatever it says.
            None => return None,
            Some(id @ (Json::String(_) | Json::Number(_))) => id,
            Some(_) => {
                return Some(error(
                    Json::Null,
                    INVALID_REQUEST,
                    "a request id must be a string or a number",
                ));
            }
        };
        let params = map.get("params").cloned().unwrap_or(Json::Null);
        Some(self.request(id, method, params, caller).await)
    }

    async fn request(&self, id: Json, method: &str, params: Json, caller: &Caller) -> Json {
        match method {
            "initialize" => {
                let asked = params.get("protocolVersion").and_then(Json::as_str);
                // The newest revision spoken that is not newer than the one asked for (the
                // dates compare as text): a 2025-03-26 client gets 2024-11-05, which it knows.
                let version = asked
                    .and_then(|asked| PROTOCOL_VERSIONS.iter().find(|v| **v <= asked).copied())
                    .unwrap_or(LATEST_PROTOCOL_VERSION);
                result(
                    id,
                    json!({
                        "protocolVersion": version,
                        "capabilities": {"tools": {"listChanged": true}},
                        "serverInfo": {
                            "name": self.options().name,
                            "title": "micro services",
                            "version": env!("CARGO_PKG_VERSION"),
                        },
                        "instructions": "Each tool calls one endpoint of a micro service found in the registry; its arguments are the request message as JSON (64-bit integers as strings). The list follows the registry: services that start or stop change it.",
                    }),
                )
            }
            "ping" => result(id, json!({})),
            "tools/list" => {
                // With the gate, a caller sees only what it may call.
                let gate = self.options().auth.as_ref();
                let tools: Vec<Json> = self
                    .tools()
                    .iter()
                    .filter(|t| {
                        gate.is_none_or(|g| {
                            g.check_endpoint(
                                caller.authorization.as_deref(),
                                &t.service,
                                &t.endpoint,
                            )
                            .is_ok()
                        })
                    })
                    .map(|t| t.to_json())
                    .collect();
                result(id, json!({"tools": tools}))
            }
            "tools/call" => {
                let Some(name) = params.get("name").and_then(Json::as_str) else {
                    return error(id, INVALID_PARAMS, "tools/call needs params.name, a string");
                };
                let arguments = params
                    .get("arguments")
                    .filter(|a| !a.is_null())
                    .cloned()
                    .unwrap_or(json!({}));
                match self.call_tool(name, arguments, caller).await {
                    Some(answer) => result(id, answer.to_json()),
                    None => error(
                        id,
                        INVALID_PARAMS,
                        format!("unknown tool {name:?}: tools/list names the tools there are"),
                    ),
                }
            }
            other => error(id, METHOD_NOT_FOUND, format!("method not found: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mcp() -> Mcp {
        let registry = std::sync::Arc::new(micro::registry::MemoryRegistry::new());
        let gateway = micro_gateway::Gateway::new(
            micro::Client::new(registry),
            micro_gateway::Options::default(),
        );
        Mcp::new(gateway, crate::Options::default())
    }

    #[tokio::test]
    async fn the_handshake_and_protocol_faults() {
        let mcp = mcp();
        let me = Caller::anonymous("test");
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        let answer = mcp.handle(init, &me).await.unwrap();
        assert_eq!(answer["id"], 1);
        assert_eq!(answer["result"]["protocolVersion"], "2025-06-18");
        assert_eq!(
            answer["result"]["capabilities"]["tools"]["listChanged"],
            true
        );
        let future = json!({"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {"protocolVersion": "2099-01-01"}});
        let answer = mcp.handle(future, &me).await.unwrap();
        assert_eq!(answer["result"]["protocolVersion"], LATEST_PROTOCOL_VERSION);
        let between = json!({"jsonrpc": "2.0", "id": "b", "method": "initialize", "params": {"protocolVersion": "2025-03-26"}});
        let answer = mcp.handle(between, &me).await.unwrap();
        assert_eq!(answer["result"]["protocolVersion"], "2024-11-05");

        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(mcp.handle(note, &me).await, None);
        let code = |v: Option<Json>| v.unwrap()["error"]["code"].as_i64().unwrap();
        // The modern-era probe: not spoken here, so clients fall back to initialize.
        let discover = json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover"});
        assert_eq!(code(mcp.handle(discover, &me).await), METHOD_NOT_FOUND);
        assert_eq!(code(mcp.handle(json!([1]), &me).await), INVALID_REQUEST);
        assert_eq!(
            code(
                mcp.handle(json!({"jsonrpc": "1.0", "id": 3, "method": "ping"}), &me)
                    .await
            ),
            INVALID_REQUEST
        );
        let unknown =
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope"}});
        let answer = mcp.handle(unknown, &me).await.unwrap();
        assert_eq!(answer["error"]["code"], INVALID_PARAMS);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"nope\"")
        );
        let ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping"});
        assert_eq!(mcp.handle(ping, &me).await.unwrap()["result"], json!({}));
        assert_eq!(parse(b"{nope").unwrap_err()["error"]["code"], PARSE_ERROR);
    }
}
