//! What keeps web pages and strangers out: on loopback the sidecar answers only requests for
//! a loopback host (no DNS rebinding); a request a browser sends from a page of another
//! origin is refused (apps do not send `Origin`); with a token set, every request carries
//! it (`dapr-api-token`, as Dapr's SDKs send `DAPR_API_TOKEN`, or `Authorization: Bearer`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};

use crate::Sidecar;
use crate::reply::error;

/// The header Dapr's SDKs put `DAPR_API_TOKEN` in.
pub(crate) const TOKEN_HEADER: &str = "dapr-api-token";

pub(crate) async fn guard(State(sidecar): State<Sidecar>, req: Request, next: Next) -> Response {
    let options = sidecar.options();
    let headers = req.headers();
    if options.loopback {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
        if !host.as_deref().is_some_and(is_loopback) {
            return error(
                StatusCode::FORBIDDEN,
                "this sidecar listens on loopback and answers only requests for localhost, 127.0.0.1 or [::1]",
            );
        }
    }
    if let Some(why) = cross_site(headers) {
        return error(StatusCode::FORBIDDEN, why);
    }
    if let Some(token) = &options.token
        && !carries(headers, token)
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "this sidecar wants its token: the dapr-api-token header (DAPR_API_TOKEN) or Authorization: Bearer",
        );
    }
    next.run(req).await
}

/// `host[:port]` names this machine's loopback.
fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h).to_owned()
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// Why a browser request from another site's page is refused, if it is one.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Some("requests from another site's web page are refused".into());
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("");
    let host = origin.split_once("://").map_or("", |(_, h)| h);
    (!is_loopback(host)).then(|| format!("requests from web pages of {origin} are refused"))
}

/// The request carries `token`.
fn carries(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        });
    given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes()))
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        for ok in ["localhost", "127.0.0.1:8081", "[::1]:8081", "LOCALHOST:1"] {
            assert!(is_loopback(ok), "{ok}");
        }
        for bad in ["evil.example", "127.0.0.1.evil.example:80", "[::2]:1", ""] {
            assert!(!is_loopback(bad), "{bad}");
        }
        let mut h = HeaderMap::new();
        assert!(cross_site(&h).is_none(), "apps send no Origin");
        h.insert(header::ORIGIN, "http://127.0.0.1:8081".parse().unwrap());
        assert!(cross_site(&h).is_none());
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_site(&h).unwrap().contains("evil.example"));
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
