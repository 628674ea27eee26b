//! Streamable HTTP at `/mcp`: a POST carries one JSON-RPC message and gets its answer as
//! JSON (202 for a notification); a GET opens a server-sent event stream that announces
//! changes of the tool list. `initialize` answers with an `Mcp-Session-Id` (clients open
//! the event stream only with one), but nothing is kept per session: each request stands
//! alone, and DELETE has nothing to end.
//!
//! Checked before anything else: the `Origin` (a page of another site gets 403: DNS
//! rebinding), the content type (415), the protocol version header (400), the body's size
//! (413) and, with the gate, the bearer token (401).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value as Json;

use crate::{Caller, Mcp, rpc};

/// The path MCP is served at.
pub const PATH: &str = "/mcp";

fn reply(status: StatusCode, body: &Json) -> Response {
    let mut rsp = (status, body.to_string()).into_response();
    rsp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rsp
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    reply(
        status,
        &rpc::error(Json::Null, rpc::INVALID_REQUEST, message),
    )
}

/// Whether a page of `origin` may call: none given (not a browser), one listed, or a page
/// of this machine while listening on loopback.
fn origin_allowed(mcp: &Mcp, origin: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let options = mcp.options();
    if options.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    if !options.loopback {
        return false;
    }
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => rest.split(':').next().map(str::to_owned),
    };
    matches!(host.as_deref(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// The checks every request passes: origin, protocol version, token. The caller, or the
/// refusal.
fn admit(mcp: &Mcp, headers: &HeaderMap, method: &str) -> Result<Caller, Box<Response>> {
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if !origin_allowed(mcp, origin) {
        return Err(Box::new(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "origin {:?} may not call this MCP server (allow it with --allow-origin)",
                origin.unwrap_or_default()
            ),
        )));
    }
    // The handshake and the modern era's probe carry their version in the body.
    let negotiating = matches!(method, "initialize" | "server/discover");
    if let Some(version) = headers.get("mcp-protocol-version").filter(|_| !negotiating) {
        let version = version.to_str().unwrap_or_default();
        if !rpc::PROTOCOL_VERSIONS.contains(&version) {
            return Err(Box::new(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "MCP-Protocol-Version {version:?} is not spoken here: {}",
                    rpc::PROTOCOL_VERSIONS.join(", ")
                ),
            )));
        }
    }
    if headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            "send one Authorization header, not several",
        )));
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned());
    let mut caller = Caller {
        authorization,
        name: "http".to_owned(),
    };
    if let Some(gate) = &mcp.options().auth {
        // The MCP server itself is the service `micro.mcp`; each tool is checked again as
        // the endpoint it calls.
        match gate.check_endpoint(caller.authorization.as_deref(), "micro.mcp", method) {
            Ok(Some(who)) => caller.name = who.account().id.clone(),
            Ok(None) => {}
            Err(e) => {
                let status = if e.code() == 403 {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNAUTHORIZED
                };
                let mut rsp = refuse(status, e.detail());
                if status == StatusCode::UNAUTHORIZED {
                    rsp.headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                return Err(Box::new(rsp));
            }
        }
    }
    Ok(caller)
}

async fn post_message(State(mcp): State<Mcp>, headers: HeaderMap, body: Body) -> Response {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the JSON-RPC message as Content-Type: application/json",
        );
    }
    let max = mcp.options().max_body;
    let bytes = match axum::body::to_bytes(body, max).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the message is over the limit of {max} bytes"),
            );
        }
    };
    let message = match rpc::parse(&bytes) {
        Ok(message) => message,
        Err(answer) => return reply(StatusCode::BAD_REQUEST, &answer),
    };
    let method = message
        .get("method")
        .and_then(Json::as_str)
        .unwrap_or("message")
        .to_owned();
    let caller = match admit(&mcp, &headers, &method) {
        Ok(caller) => caller,
        Err(rsp) => return *rsp,
    };
    match mcp.handle(message, &caller).await {
        Some(answer) => {
            let mut rsp = reply(StatusCode::OK, &answer);
            // A session id, so that clients open the event stream (list_changed); nothing
            // is kept per session: any id, or none, is served alike.
            if method == "initialize"
                && answer.get("result").is_some()
                && let Ok(id) = HeaderValue::from_str(&micro::broker::new_message_id())
            {
                rsp.headers_mut().insert("mcp-session-id", id);
            }
            rsp
        }
        None => StatusCode::ACCEPTED.into_response(),
    }
}

async fn open_events(State(mcp): State<Mcp>, headers: HeaderMap) -> Response {
    let wants_events = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_events {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            "GET opens the server's event stream: send Accept: text/event-stream",
        );
    }
    if let Err(rsp) = admit(&mcp, &headers, "events") {
        return *rsp;
    }
    let changes = tokio_stream_of(mcp.changes());
    let events = changes.map(|_| {
        Ok::<_, Infallible>(
            Event::default()
                .event("message")
                .data(rpc::list_changed().to_string()),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Each change of the tool list, as a stream.
fn tokio_stream_of(
    changes: tokio::sync::watch::Receiver<u64>,
) -> impl futures_util::Stream<Item = u64> + Send {
    futures_util::stream::unfold(changes, |mut rx| async move {
        rx.changed().await.ok()?;
        let n = *rx.borrow_and_update();
        Some((n, rx))
    })
}

/// Ending a session: nothing is kept per session, so there is nothing to do.
async fn end_session() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

impl Mcp {
    /// The routes of Streamable HTTP at [`PATH`] (`/mcp`), to serve alone or beside the
    /// gateway's.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                PATH,
                post(post_message).get(open_events).delete(end_session),
            )
            .with_state(self.clone())
    }

    /// Serve Streamable HTTP on `listener` until `shutdown` completes.
    pub async fn serve_http(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> micro::Result<()> {
        let router = self.router().fallback(|| async {
            refuse(StatusCode::NOT_FOUND, format!("MCP is served at {PATH}"))
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| micro::Error::internal("micro.mcp", format!("serving MCP: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mcp(loopback: bool, allowed: &[&str]) -> Mcp {
        let registry = std::sync::Arc::new(micro::registry::MemoryRegistry::new());
        let gateway = micro_gateway::Gateway::new(
            micro::Client::new(registry),
            micro_gateway::Options::default(),
        );
        let options = crate::Options {
            loopback,
            allowed_origins: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..crate::Options::default()
        };
        Mcp::new(gateway, options)
    }

    #[test]
    fn origins_of_other_sites_are_refused() {
        let local = mcp(true, &["https://app.example.com"]);
        assert!(origin_allowed(&local, None));
        assert!(origin_allowed(&local, Some("http://localhost:3000")));
        assert!(origin_allowed(&local, Some("http://127.0.0.1:8080")));
        assert!(origin_allowed(&local, Some("http://[::1]:8080")));
        assert!(origin_allowed(&local, Some("https://app.example.com")));
        assert!(!origin_allowed(&local, Some("https://evil.example")));
        assert!(!origin_allowed(
            &local,
            Some("http://localhost.evil.example")
        ));
        assert!(!origin_allowed(&local, Some("null")));
        let open = mcp(false, &[]);
        assert!(!origin_allowed(&open, Some("http://localhost:3000")));
        assert!(origin_allowed(&open, None));
    }
}
