//! Streamable HTTP at `/mcp`: a POST carries one JSON-RPC message and gets its answer as
//! JSON (202 for a notification); a GET opens a server-sent event stream that announces
//! changes of the tool list. `initialize` answers with an `Mcp-Session-Id` (clients open
//! the event stream only with one), but nothing is kept per session: each request stands
//! alone, and DELETE has nothing to end.
//!
//! Checked first: the `Origin` (a page of another site gets 403) and, while listening on
//! loopback, the `Host` (a name that is not this machine's gets 403: DNS rebinding); then
//! the content type (415), the body's size (413), the JSON (400), the protocol version
//! header (400) and, with the gate, the bearer token (401). Pages of allowed origins get
//! CORS headers and preflight answers.

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

/// Whether the `Host` names this machine while listening on loopback (a rebound DNS name
/// does not); anything goes beyond loopback.
fn host_allowed(mcp: &Mcp, headers: &HeaderMap) -> bool {
    if !mcp.options().loopback {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => host.split(':').next().map(str::to_owned),
    };
    name.is_some_and(|n| n.eq_ignore_ascii_case("localhost") || n == "127.0.0.1" || n == "[::1]")
}

/// The first check of every request: a page of another site, or a name rebound to this
/// machine, gets 403 (and an audit line).
fn check_origin(mcp: &Mcp, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let why = if !origin_allowed(mcp, origin) {
        format!(
            "origin {:?} may not call this MCP server (micro mcp serve --allow-origin adds one)",
            origin.unwrap_or_default()
        )
    } else if !host_allowed(mcp, headers) {
        "this MCP server answers to localhost, 127.0.0.1 and [::1] only".to_owned()
    } else {
        return Ok(());
    };
    crate::call::audit(
        "-",
        None,
        &Caller::anonymous("http"),
        false,
        0.0,
        Some(&why),
    );
    Err(Box::new(refuse(StatusCode::FORBIDDEN, why)))
}

/// CORS headers for a page of an allowed origin.
fn cors(headers: &HeaderMap, rsp: &mut Response) {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let h = rsp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("mcp-session-id"),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

/// The checks after the body: protocol version and token. The caller, or the refusal.
fn admit(mcp: &Mcp, headers: &HeaderMap, method: &str) -> Result<Caller, Box<Response>> {
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
        // The MCP server itself is the service `micro.mcp` whose endpoints are the
        // JSON-RPC methods; each tool is checked again as the endpoint it calls.
        match gate.check_endpoint(caller.authorization.as_deref(), "micro.mcp", method) {
            Ok(Some(who)) => caller.name = who.account().id.clone(),
            Ok(None) => {}
            Err(e) => {
                crate::call::audit(method, None, &caller, false, 0.0, Some(e.detail()));
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
    if let Err(rsp) = check_origin(&mcp, &headers) {
        return *rsp;
    }
    let mut rsp = answer(&mcp, &headers, body).await;
    cors(&headers, &mut rsp);
    rsp
}

async fn answer(mcp: &Mcp, headers: &HeaderMap, body: Body) -> Response {
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
        Err(e) => {
            let over = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.to_string().contains("length limit"));
            return if over {
                refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the message is over the limit of {max} bytes"),
                )
            } else {
                refuse(
                    StatusCode::BAD_REQUEST,
                    format!("reading the message failed: {e}"),
                )
            };
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
    let caller = match admit(mcp, headers, &method) {
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
    if let Err(rsp) = check_origin(&mcp, &headers) {
        return *rsp;
    }
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
    // The stream ends when the server stops, so that stopping need not wait for agents.
    let closing = mcp.clone();
    let changes =
        tokio_stream_of(mcp.changes()).take_until(Box::pin(async move { closing.closed().await }));
    let events = changes.map(|_| {
        Ok::<_, Infallible>(
            Event::default()
                .event("message")
                .data(rpc::list_changed().to_string()),
        )
    });
    let mut rsp = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    cors(&headers, &mut rsp);
    rsp
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
async fn end_session(State(mcp): State<Mcp>, headers: HeaderMap) -> Response {
    if let Err(rsp) = check_origin(&mcp, &headers) {
        return *rsp;
    }
    let mut rsp = StatusCode::NO_CONTENT.into_response();
    cors(&headers, &mut rsp);
    rsp
}

/// A browser's preflight: allowed origins may POST, GET and DELETE with MCP's headers.
async fn preflight(State(mcp): State<Mcp>, headers: HeaderMap) -> Response {
    if let Err(rsp) = check_origin(&mcp, &headers) {
        return *rsp;
    }
    let mut rsp = StatusCode::NO_CONTENT.into_response();
    cors(&headers, &mut rsp);
    let h = rsp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "content-type, authorization, mcp-protocol-version, mcp-session-id, last-event-id",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    rsp
}

impl Mcp {
    /// The routes of Streamable HTTP at [`PATH`] (`/mcp`), to serve alone or beside the
    /// gateway's.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                PATH,
                post(post_message)
                    .get(open_events)
                    .delete(end_session)
                    .options(preflight),
            )
            .with_state(self.clone())
    }

    /// Serve Streamable HTTP on `listener` until `shutdown` completes; then the event
    /// streams end and the requests in flight get the gateway's grace period.
    pub async fn serve_http(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> micro::Result<()> {
        let router = self.router().fallback(|| async {
            refuse(StatusCode::NOT_FOUND, format!("MCP is served at {PATH}"))
        });
        let options = self.gateway().options().clone();
        let mcp = self.clone();
        let shutdown = async move {
            shutdown.await;
            mcp.close();
        };
        micro_gateway::serve_router(router, &options, listener, None, shutdown).await
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
