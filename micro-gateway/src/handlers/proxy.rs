//! The `http` (or `proxy`) and `web` handlers: a reverse proxy to an HTTP service found in
//! the registry (`/foo/...` → `<namespace>.foo`, path kept); `web` also carries websocket
//! upgrades through.

use axum::body::Body;
use axum::response::{IntoResponse as _, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::resolve;
use crate::{Gateway, reply};

/// The header that tells a proxied web app the path prefix it is mounted under.
pub const WEB_BASE_PATH: &str = "x-micro-web-base-path";

/// The client the proxy forwards with.
pub(crate) type HttpClient = Client<HttpConnector, Body>;

/// A pooled HTTP/1.1 client.
pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(std::time::Duration::from_secs(5)));
    Client::builder(TokioExecutor::new()).build(connector)
}

const HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
];

fn strip_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Headers the Connection header names are hop-by-hop too.
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !(v.is_empty() || keep_upgrade && v == "upgrade"))
        .collect();
    for name in named {
        headers.remove(name.as_str());
    }
    for name in HOP {
        if keep_upgrade && name == "connection" {
            continue;
        }
        headers.remove(name);
    }
    if !keep_upgrade {
        headers.remove(header::UPGRADE);
    }
}

/// Forward the request to a node of the service its path names.
pub(crate) async fn forward(gw: &Gateway, web: bool, parts: Parts, body: Body) -> Response {
    let path = parts.uri.path().to_owned();
    let Ok(service) = resolve::proxy_service(&gw.options().namespace, &path) else {
        return super::no_route(&parts.method, &path);
    };
    let node = match gw.client().selector().select(&service, &[]).await {
        Ok(mut next) => match next.next() {
            Some(candidate) => candidate.node,
            None => return super::no_route(&parts.method, &path),
        },
        Err(err) if err.grpc_code() == micro::Code::NotFound => {
            return super::no_route(&parts.method, &path);
        }
        Err(err) => return reply::call_failed(&err, &service),
    };
    let mut path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    // With `web_base_path`, the app sees its own paths: `/chat/room` arrives as `/room`,
    // and `X-Micro-Web-Base-Path: /chat` says where it is mounted (micro v1's web proxy).
    let mut base_path = None;
    if gw.options().web_base_path {
        // The same segments proxy_service read (`//chat`, `/v2/` name no app here).
        let Some(prefix) = resolve::proxy_prefix(&path) else {
            return super::no_route(&parts.method, &path);
        };
        let rest = &path[prefix.len()..];
        if rest.is_empty() {
            // `/chat` → `/chat/`, so the app's relative links resolve under its prefix.
            let query = parts
                .uri
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let mut rsp = StatusCode::PERMANENT_REDIRECT.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("{prefix}/{query}")) {
                rsp.headers_mut().insert(header::LOCATION, v);
            }
            return rsp;
        }
        let query = parts
            .uri
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        path_and_query = format!("{rest}{query}");
        base_path = Some(prefix.to_owned());
    }
    let Ok(uri) = format!("http://{}{}", node.address, path_and_query).parse::<Uri>() else {
        return reply::error(StatusCode::BAD_REQUEST, "the request path is not valid");
    };
    let upgrading = web && super::rpc::wants_websocket(&parts);
    let mut out = Request::builder().method(parts.method.clone()).uri(uri);
    let mut headers = parts.headers.clone();
    strip_hop(&mut headers, upgrading);
    if upgrading {
        // The handshake goes on without its body, so it says it has none.
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::TRANSFER_ENCODING);
    }
    // Credentials stay at the gateway unless configured, as for RPC metadata.
    for name in crate::body::SENSITIVE {
        if !gw.options().forward_headers.iter().any(|h| h == name) {
            headers.remove(name);
        }
    }
    // What the gateway says about the client replaces what the client says about itself.
    for name in [
        micro::auth::ACCOUNT_HEADER,
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
        "x-real-ip",
    ] {
        headers.remove(name);
    }
    let info = parts.extensions.get::<super::ConnInfo>().copied();
    if let Some(info) = info
        && let Ok(v) = HeaderValue::from_str(&info.peer.ip().to_string())
    {
        headers.insert("x-forwarded-for", v);
    }
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.insert("x-forwarded-host", host.clone());
    }
    let proto = if info.is_some_and(|i| i.tls) {
        "https"
    } else {
        "http"
    };
    headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
    headers.remove(WEB_BASE_PATH);
    if let Some(base) = base_path
        && let Ok(v) = HeaderValue::from_str(&base)
    {
        headers.insert(WEB_BASE_PATH, v);
    }
    let held = parts.extensions.get::<super::Held>().cloned();
    if let Some(h) = out.headers_mut() {
        *h = headers;
    }
    let mut incoming = Request::from_parts(parts, Body::empty());
    let out = if upgrading {
        out.body(Body::empty())
    } else {
        out.body(body)
    };
    let Ok(out) = out else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "the request could not be forwarded",
        );
    };
    let sent = tokio::time::timeout(gw.options().call_timeout, gw.inner.proxy.request(out)).await;
    let mut rsp = match sent {
        Err(_) => {
            return reply::error(
                StatusCode::GATEWAY_TIMEOUT,
                format!("service {service} did not answer before the deadline"),
            );
        }
        Ok(Err(err)) => {
            tracing::debug!("proxy to {service} at {}: {err}", node.address);
            return reply::error(
                StatusCode::BAD_GATEWAY,
                format!("service {service} could not be reached"),
            );
        }
        Ok(Ok(rsp)) => rsp,
    };
    if upgrading && rsp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let backend = hyper::upgrade::on(&mut rsp);
        let client = hyper::upgrade::on(&mut incoming);
        tokio::spawn(async move {
            let (Ok(backend), Ok(client)) = (backend.await, client.await) else {
                return;
            };
            let mut backend = TokioIo::new(backend);
            let mut client = TokioIo::new(client);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
            drop(held);
        });
        let (head, _) = rsp.into_parts();
        return Response::from_parts(head, Body::empty());
    }
    let (mut head, body) = rsp.into_parts();
    strip_hop(&mut head.headers, false);
    Response::from_parts(head, Body::new(body))
}
