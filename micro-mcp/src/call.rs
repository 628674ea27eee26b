//! `tools/call`: the rate limit, the gate, the arguments' check, the call (a unary call, or
//! a server stream collected into a list), the result and the audit line.

use std::time::Instant;

use bytes::Bytes;
use micro::client::CallOptions;
use micro::codec::Codec;
use micro::{Context, Format};
use serde_json::{Value as Json, json};

use crate::{Caller, Mcp, Tool};

/// A tool's answer: JSON text for every client, the same JSON as `structuredContent`
/// when it is an object, and whether it is an error.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolResult {
    /// Whether the call failed (the text says why).
    pub is_error: bool,
    /// The text content: the answer as JSON, or the error.
    pub text: String,
    /// The answer as structured content, when it is a JSON object.
    pub structured: Option<Json>,
}

impl ToolResult {
    fn failed(text: impl Into<String>) -> ToolResult {
        ToolResult {
            is_error: true,
            text: text.into(),
            structured: None,
        }
    }

    fn answer(value: Json) -> ToolResult {
        let text = value.to_string();
        ToolResult {
            is_error: false,
            structured: value.is_object().then_some(value),
            text,
        }
    }

    /// The result as `tools/call` returns it.
    pub fn to_json(&self) -> Json {
        let mut out = json!({
            "content": [{"type": "text", "text": self.text}],
            "isError": self.is_error,
        });
        if let Some(structured) = &self.structured {
            out["structuredContent"] = structured.clone();
        }
        out
    }
}

impl Mcp {
    /// Call the tool `name` with `arguments`; `None` when there is no such tool.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Json,
        caller: &Caller,
    ) -> Option<ToolResult> {
        let Some(tool) = self.tool(name) else {
            audit(name, None, caller, false, 0.0, Some("no such tool"));
            return None;
        };
        let started = Instant::now();
        let (allowed, result) = self.run(&tool, arguments, caller).await;
        let error = result.is_error.then_some(result.text.as_str());
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        audit(&tool.name, Some(&tool), caller, allowed, ms, error);
        Some(result)
    }

    /// Whether the call was let through, and its result.
    async fn run(&self, tool: &Tool, arguments: Json, caller: &Caller) -> (bool, ToolResult) {
        if let Some(gate) = &self.options().auth
            && let Err(e) = gate.check_endpoint(
                caller.authorization.as_deref(),
                &tool.service,
                &tool.endpoint,
            )
        {
            return (
                false,
                ToolResult::failed(format!(
                    "not allowed to call {} {}: {}",
                    tool.service,
                    tool.endpoint,
                    e.detail()
                )),
            );
        }
        // After the gate: a caller who may not call a tool cannot spend its bucket either.
        if !self.take_token(&caller.name, &tool.name) {
            let o = self.options();
            return (
                false,
                ToolResult::failed(format!(
                    "rate limited: {} allows {} calls per second (bursts of {}) per caller; try again shortly",
                    tool.name, o.rate, o.burst
                )),
            );
        }
        if let Err(why) = crate::tools::check_arguments(tool.request.as_ref(), &arguments) {
            return (
                true,
                ToolResult::failed(format!("invalid arguments for {}: {why}", tool.name)),
            );
        }
        let mut ctx = Context::new();
        if let Some(value) = &caller.authorization {
            ctx.metadata_mut().insert("authorization", value.clone());
        }
        let mut opts = CallOptions::new().timeout(self.options().call_timeout);
        if tool.idempotent {
            opts = opts.idempotent(true);
        }
        let request = Bytes::from(arguments.to_string());
        let client = self.gateway().client();
        if !tool.streams {
            let answer = client
                .call_raw(
                    &ctx,
                    &tool.service,
                    &tool.endpoint,
                    Format::Json,
                    request,
                    &opts,
                )
                .await;
            return (
                true,
                match answer {
                    Ok(rsp) => match serde_json::from_slice::<Json>(&rsp.message) {
                        Ok(value) => ToolResult::answer(value),
                        Err(e) => ToolResult::failed(format!(
                            "{} {} answered with something that is not JSON: {e}",
                            tool.service, tool.endpoint
                        )),
                    },
                    Err(e) => self.service_error(&e, tool),
                },
            );
        }
        (true, self.collect(tool, &ctx, request, opts).await)
    }

    /// A server stream's messages as `{"messages": [...], "truncated": bool}`.
    async fn collect(
        &self,
        tool: &Tool,
        ctx: &Context,
        request: Bytes,
        opts: CallOptions,
    ) -> ToolResult {
        let limit = self.options().stream_limit.max(1);
        let opened = self
            .gateway()
            .client()
            .server_stream_codec(
                ctx,
                &tool.service,
                &tool.endpoint,
                &request,
                &opts.format(Format::Json),
                Codec::raw(),
                Codec::raw(),
            )
            .await;
        let mut stream = match opened {
            Ok(stream) => stream,
            Err(e) => return self.service_error(&e, tool),
        };
        let mut messages = Vec::new();
        let mut truncated = false;
        loop {
            match stream.recv().await {
                Ok(Some(bytes)) => {
                    if messages.len() == limit {
                        truncated = true;
                        break;
                    }
                    match serde_json::from_slice::<Json>(&bytes) {
                        Ok(value) => messages.push(value),
                        Err(e) => {
                            return ToolResult::failed(format!(
                                "{} {} sent a message that is not JSON: {e}",
                                tool.service, tool.endpoint
                            ));
                        }
                    }
                }
                Ok(None) => break,
                // A stream that outlives the call's deadline (a watch): what came so far.
                Err(e)
                    if !messages.is_empty()
                        && e.grpc_code() == micro::Code::DeadlineExceeded
                        // The client's own deadline, not the service's 408 or 504.
                        && e.id() == "micro.client" =>
                {
                    truncated = true;
                    break;
                }
                Err(e) => {
                    if messages.is_empty() {
                        return self.service_error(&e, tool);
                    }
                    // What came before the error, and the error.
                    let (_, body) = micro_gateway::reply::call_error(&e, &tool.service);
                    let error: Json = serde_json::from_str(&body).unwrap_or(Json::Null);
                    let mut result = ToolResult::answer(json!({
                        "messages": messages,
                        "truncated": false,
                        "error": error,
                    }));
                    result.is_error = true;
                    return result;
                }
            }
        }
        ToolResult::answer(json!({"messages": messages, "truncated": truncated}))
    }

    /// A call's error as the gateway would answer it: the service's id, code and detail,
    /// or a fixed text for the client's own failures (nothing internal).
    fn service_error(&self, e: &micro::Error, tool: &Tool) -> ToolResult {
        let (status, body) = micro_gateway::reply::call_error(e, &tool.service);
        let mut result = ToolResult::failed(format!(
            "{} {} failed ({}): {body}",
            tool.service,
            tool.endpoint,
            status.as_u16()
        ));
        result.structured = serde_json::from_str::<Json>(&body)
            .ok()
            .map(|error| json!({"error": error}));
        result
    }
}

/// One audit line (target `micro::mcp::audit`); names from the registry are quoted, so
/// none can forge a line.
pub(crate) fn audit(
    name: &str,
    tool: Option<&Tool>,
    caller: &Caller,
    allowed: bool,
    duration_ms: f64,
    error: Option<&str>,
) {
    tracing::info!(
        target: "micro::mcp::audit",
        tool = ?name,
        service = ?tool.map(|t| t.service.as_str()),
        endpoint = ?tool.map(|t| t.endpoint.as_str()),
        caller = ?caller.name,
        allowed,
        duration_ms,
        error,
        "mcp audit"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_carry_text_and_structured_content() {
        let ok = ToolResult::answer(json!({"msg": "Hello John"})).to_json();
        assert_eq!(ok["isError"], false);
        assert_eq!(ok["content"][0]["type"], "text");
        assert_eq!(ok["content"][0]["text"], r#"{"msg":"Hello John"}"#);
        assert_eq!(ok["structuredContent"]["msg"], "Hello John");
        // Structured content must be an object: a bare value is text only.
        let bare = ToolResult::answer(json!(42)).to_json();
        assert!(bare.get("structuredContent").is_none());
        let failed = ToolResult::failed("nope").to_json();
        assert_eq!(failed["isError"], true);
        assert_eq!(failed["content"][0]["text"], "nope");
    }
}
