//! Where a request goes: the gateway's own routes, HTTP rules, the simple form, and the
//! configured handler with its resolver.

pub(crate) mod api;
pub(crate) mod proxy;
pub(crate) mod rpc;
pub(crate) mod stream;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, Method, StatusCode, header};

use crate::resolve::{self, Target, Unresolved};
use crate::{Gateway, HandlerKind, reply};

/// The gateway's routes, around the dispatcher.
pub(crate) fn router(gateway: Gateway) -> Router {
    let mut routes = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/rpc", axum::routing::any(rpc::endpoint))
        .route("/", get(index));
    if gateway.options().metrics {
        micro::metrics::enable();
        // The gateway's calls, by service, endpoint and node (Prometheus text).
        routes = routes.route("/metrics", get(metrics));
    }
    routes
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(gateway.clone(), guard))
        .with_state(gateway)
}

async fn health(State(gw): State<Gateway>) -> Response {
    let services = gw.table().services.len();
    reply::json(
        StatusCode::OK,
        serde_json::json!({"status": "ok", "services": services}).to_string(),
    )
}

async fn metrics() -> Response {
    let mut rsp = Response::new(Body::from(micro::metrics::render()));
    rsp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(micro::metrics::CONTENT_TYPE),
    );
    rsp
}

async fn index() -> Response {
    reply::json(
        StatusCode::OK,
        serde_json::json!({"version": env!("CARGO_PKG_VERSION")}).to_string(),
    )
}

async fn openapi(State(gw): State<Gateway>) -> Response {
    let doc = crate::openapi::document(&gw.table(), gw.options());
    reply::json(StatusCode::OK, doc.to_string())
}

/// The connection a request came on (set by [`crate::Gateway::serve`]; absent when the
/// router is mounted elsewhere).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnInfo {
    /// The client's address.
    pub(crate) peer: std::net::SocketAddr,
    /// Whether the connection is TLS.
    pub(crate) tls: bool,
}

/// A request's place under the concurrency limit, shared by whatever outlives the handler:
/// a streamed body, a websocket relay, a proxied upgrade.
#[derive(Clone, Debug)]
pub(crate) struct Held(#[allow(dead_code)] std::sync::Arc<tokio::sync::OwnedSemaphorePermit>);

/// Concurrency limit (503 with `Retry-After`) and CORS for the allowed origins.
async fn guard(State(gw): State<Gateway>, mut req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| gw.options().cors_origins.iter().any(|a| a == o || a == "*"))
        .map(str::to_owned);
    if let Some(origin) = &origin
        && req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut rsp = StatusCode::NO_CONTENT.into_response();
        cors(&mut rsp, origin);
        let h = rsp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        let asked = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static("content-type"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return rsp;
    }
    let Ok(permit) = gw.inner.permits.clone().try_acquire_owned() else {
        let mut rsp = reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway is handling as many requests as it may; try again shortly",
        );
        rsp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return rsp;
    };
    let permit = Held(std::sync::Arc::new(permit));
    req.extensions_mut().insert(permit.clone());
    // The gateway's own routes (probes, scrapes) open no traces.
    let own = matches!(
        req.uri().path(),
        "/health" | "/metrics" | "/openapi.json" | "/"
    );
    let rsp = match &gw.options().tracer {
        Some(tracer) if !own => traced(tracer, req, next).await,
        _ => next.run(req).await,
    };
    // A streamed body holds the permit until it ends, so long streams count too.
    let mut rsp = rsp.map(|body| {
        Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
            let _held = &permit;
            frame
        }))
    });
    if let Some(origin) = &origin {
        cors(&mut rsp, origin);
    }
    rsp
}

/// Serve `req` in a server span under its `traceparent`; the request goes on naming the
/// span as its parent, so the calls it makes (and an HTTP upstream) join the trace.
async fn traced(tracer: &micro::trace::Tracer, mut req: Request, next: Next) -> Response {
    use micro::trace::{SpanContext, SpanKind, TRACEPARENT, TRACESTATE};
    use tracing::Instrument as _;
    let parent = req
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(SpanContext::parse);
    let mut span = tracer.start(SpanKind::Server, req.method().as_str().to_owned(), parent);
    if span.is_recording() {
        span.set_attribute("http.request.method", req.method().as_str().to_owned());
        span.set_attribute("url.path", req.uri().path().to_owned());
    }
    let headers = req.headers_mut();
    if parent.is_none() {
        headers.remove(TRACESTATE);
    } else if headers.get_all(TRACESTATE).iter().nth(1).is_some() {
        // Several `tracestate` fields are one list (W3C): combined, in order.
        let joined: Vec<&str> = headers
            .get_all(TRACESTATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&joined.join(",")) {
            headers.insert(TRACESTATE, value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&span.context().traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    let rsp = next.run(req).instrument(span.tracing().clone()).await;
    span.end_http(rsp.status().as_u16());
    rsp
}

fn cors(rsp: &mut Response, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        rsp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        rsp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// 404 that says what was asked and nothing about the gateway's insides.
pub(crate) fn no_route(method: &Method, path: &str) -> Response {
    let shown: String = path.chars().take(200).collect();
    reply::error(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {shown}"),
    )
}

/// A path no resolver can read (`/favicon.ico`, an encoded `/`, a dot segment) names no
/// route: 404, as any other unknown path.
fn unresolved(method: &Method, path: &str, _why: Unresolved) -> Response {
    no_route(method, path)
}

async fn dispatch(State(gw): State<Gateway>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let handler = gw.options().handler;
    let table = gw.table();
    if handler == HandlerKind::Meta {
        // HEAD is GET without the body; a websocket handshake (a GET) may open any
        // streaming rule's path.
        let method = if parts.method == Method::HEAD {
            "GET"
        } else {
            parts.method.as_str()
        };
        let found = table.find(method, &path).or_else(|| {
            rpc::wants_websocket(&parts)
                .then(|| table.find_streaming(&path))
                .flatten()
        });
        if let Some((rule, vars)) = found {
            let rule = rule.clone();
            return rpc::by_rule(&gw, &table, rule, vars, parts, body).await;
        }
        let allowed = table.methods_for(&path);
        if !allowed.is_empty() {
            let mut rsp = reply::error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not allowed on {path}", parts.method),
            );
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                rsp.headers_mut().insert(header::ALLOW, v);
            }
            return rsp;
        }
    }
    if matches!(handler, HandlerKind::Meta | HandlerKind::Rpc)
        && let Some(target) = resolve::simple(&path)
    {
        return rpc::by_target(&gw, &table, target, parts, body).await;
    }
    if gw.options().auth.is_some()
        && matches!(
            handler,
            HandlerKind::Http | HandlerKind::Web | HandlerKind::Event
        )
    {
        // Fail closed: these handlers name no endpoint a rule could cover.
        return reply::error(
            StatusCode::FORBIDDEN,
            format!(
                "the {handler} handler does not check auth yet: with auth on, use the rpc, api or meta handler"
            ),
        );
    }
    match handler {
        HandlerKind::Http | HandlerKind::Web => {
            return proxy::forward(&gw, handler == HandlerKind::Web, parts, body).await;
        }
        HandlerKind::Event => return api::event(&gw, parts, body).await,
        _ => {}
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let target: Target = match resolve::resolve(
        gw.options().resolver,
        &gw.options().namespace,
        host.as_deref(),
        &path,
    ) {
        Ok(t) => t,
        Err(why) => return unresolved(&parts.method, &path, why),
    };
    if table.endpoint(&target.service, &target.endpoint).is_none() {
        return no_route(&parts.method, &path);
    }
    match handler {
        HandlerKind::Api => api::call(&gw, target, parts, body).await,
        _ => rpc::by_target(&gw, &table, target, parts, body).await,
    }
}
