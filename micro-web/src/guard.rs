//! Who may use the dashboard: the host check on a loopback bind, the token wall on any
//! other, CSRF protection for state-changing requests and websockets, and the headers that
//! keep the page from being framed or sniffed.

use axum::Json;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use ring::rand::SecureRandom as _;

use crate::Web;

/// The cookie a signed-in browser carries.
pub(crate) const COOKIE: &str = "micro_web_session";

/// How long a sign-in lasts.
const SESSION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// Signed-in browsers: one random id per sign-in, until it expires or signs out.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl Sessions {
    /// A new session id, good for [`SESSION_LIFETIME`].
    fn open(&self) -> String {
        let id = random_hex();
        if let Ok(mut live) = self.live.lock() {
            let now = std::time::Instant::now();
            live.retain(|_, until| *until > now);
            live.insert(id.clone(), now + SESSION_LIFETIME);
        }
        id
    }

    /// True when `id` is a live session.
    fn valid(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        self.live.lock().is_ok_and(|live| {
            live.iter()
                .any(|(known, until)| *until > now && same(known, id))
        })
    }

    fn close(&self, id: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.retain(|known, _| !same(known, id));
        }
    }
}

/// The header state-changing requests carry the CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-micro-csrf";

/// 32 random bytes as hex.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // The system's generator does not fail on Linux; if it ever did, the token would be
    // unguessable still through the process's own state (time and address).
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &bytes);
        for (i, b) in seed.bytes().enumerate() {
            bytes[i % 32] ^= b;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What the guard covers.
#[derive(Clone, Debug)]
pub(crate) enum Scope {
    /// Every path (`micro web`: the page, its API and the proxied apps).
    Everything(Web),
    /// Only the dashboard's base (`micro api --web`: the gateway guards its own routes).
    Dashboard(Web),
}

impl Scope {
    fn web(&self) -> &Web {
        match self {
            Scope::Everything(web) | Scope::Dashboard(web) => web,
        }
    }
}

/// True when `headers` carry the session cookie or the token as a bearer.
fn signed_in(web: &Web, headers: &HeaderMap) -> bool {
    let Some(token) = &web.options().token else {
        return true;
    };
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer "))
        .any(|t| same(t.trim(), token));
    bearer || cookie(headers, COOKIE).is_some_and(|c| web.inner.sessions.valid(c))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The host name of a `Host` header or an origin's authority, without the port.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The authority a request was sent to: its `Host` header, or over HTTP/2 (which has none)
/// the URI's `:authority`.
fn request_host(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// True when `Origin` is absent (browsers send it on every websocket and every cross-site
/// change) or names the host the request was sent to.
fn same_origin(req: &Request) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://").map(|(_, a)| a));
    matches!((authority, request_host(req)), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// A request for a proxied app without the dashboard's own credentials (its session cookie,
/// a bearer of its token); the app's own cookies and headers are kept.
fn without_dashboard_credentials(web: &Web, mut req: Request) -> Request {
    let headers = req.headers_mut();
    let cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(COOKIE))
        .map(str::to_owned)
        .collect();
    headers.remove(header::COOKIE);
    if !cookies.is_empty()
        && let Ok(v) = HeaderValue::from_str(&cookies.join("; "))
    {
        headers.insert(header::COOKIE, v);
    }
    if let Some(token) = &web.options().token {
        let ours = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim(), token));
        if ours {
            headers.remove(header::AUTHORIZATION);
        }
    }
    req
}

/// The guard around the dashboard (and, for `micro web`, the proxied apps).
pub(crate) async fn guard(State(scope): State<Scope>, req: Request, next: Next) -> Response {
    let web = scope.web();
    let path = req.uri().path();
    let base = &web.options().base;
    let in_dashboard = path == "/" && matches!(scope, Scope::Everything(_)) || under(path, base);
    if !in_dashboard && matches!(scope, Scope::Dashboard(_)) {
        return next.run(req).await;
    }
    if web.options().loopback {
        let host = request_host(&req).map(host_name);
        if !host.is_some_and(loopback_name) {
            return crate::error(
                StatusCode::MISDIRECTED_REQUEST,
                "this dashboard answers requests for localhost only (it listens on a loopback address); open it as http://127.0.0.1:PORT/",
            );
        }
    }
    let api = in_dashboard && path[base.len().min(path.len())..].starts_with("/api/");
    let login = path == format!("{base}/api/login");
    let open = path == "/"
        || path == base
        || path == format!("{base}/")
        || under(path, &format!("{base}/assets"))
        || path == format!("{base}/api/session")
        || login;
    if !open && !signed_in(web, req.headers()) {
        let mut rsp = crate::error(
            StatusCode::UNAUTHORIZED,
            format!(
                "sign in first: open {base}/ and give the dashboard's token (printed by micro web at start, or MICRO_WEB_TOKEN)"
            ),
        );
        rsp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return rsp;
    }
    if api {
        let changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let upgrade = req.headers().contains_key(header::UPGRADE);
        if (changing || upgrade) && !same_origin(&req) {
            return crate::error(
                StatusCode::FORBIDDEN,
                "the request comes from another site's page (its Origin is not this dashboard)",
            );
        }
        // The login has no CSRF token to show yet (the Origin check covers it).
        if changing && !login {
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same(sent, &web.inner.csrf) {
                return crate::error(
                    StatusCode::FORBIDDEN,
                    "missing or wrong X-Micro-Csrf header: the page's token from GET api/session goes with every change",
                );
            }
        }
    }
    if !in_dashboard {
        return next.run(without_dashboard_credentials(web, req)).await;
    }
    let mut rsp = next.run(req).await;
    let h = rsp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    rsp
}

/// True when `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `GET api/session`: what the page needs to start (always answered, signed in or not).
pub(crate) async fn session(State(web): State<Web>, headers: HeaderMap) -> Response {
    let o = web.options();
    let authenticated = signed_in(&web, &headers);
    let mut body = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "namespace": o.namespace,
        "token_required": o.token.is_some(),
        "authenticated": authenticated,
        "registry": web.client().selector().registry().name(),
        "broker": o.broker.as_ref().map(|b| b.name()),
        "store": o.store.as_ref().map(|s| s.engine_name()),
    });
    // The CSRF token only to a signed-in page (it is useless without the cookie anyway).
    if authenticated {
        body["csrf"] = web.inner.csrf.clone().into();
    }
    let mut rsp = crate::json(StatusCode::OK, &body);
    rsp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    rsp
}

/// The body of `POST api/login`.
#[derive(serde::Deserialize)]
pub(crate) struct Login {
    token: String,
}

fn session_cookie(value: &str, max_age: Option<u32>, secure: bool) -> Option<HeaderValue> {
    let mut cookie = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).ok()
}

fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"))
}

/// `POST api/login {"token"}`: the session cookie for the right token. Bodies that are not
/// this JSON get axum's 4xx; the login needs the Origin check only (the page has no CSRF
/// token before it signs in).
pub(crate) async fn login(
    State(web): State<Web>,
    headers: HeaderMap,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(login) = match body {
        Ok(b) => b,
        Err(why) => {
            return crate::error(
                StatusCode::BAD_REQUEST,
                format!("api/login takes {{\"token\": \"...\"}} as JSON: {why}"),
            );
        }
    };
    let Some(token) = &web.options().token else {
        return StatusCode::NO_CONTENT.into_response();
    };
    if !same(login.token.trim(), token) {
        return crate::error(
            StatusCode::UNAUTHORIZED,
            "that is not the dashboard's token (micro web printed it at start, or it is MICRO_WEB_TOKEN)",
        );
    }
    let mut rsp = StatusCode::NO_CONTENT.into_response();
    let session = web.inner.sessions.open();
    let lifetime = u32::try_from(SESSION_LIFETIME.as_secs()).ok();
    if let Some(v) = session_cookie(&session, lifetime, over_tls(&headers)) {
        rsp.headers_mut().insert(header::SET_COOKIE, v);
    }
    rsp
}

/// `POST api/logout`: end this browser's session (here and in its cookie).
pub(crate) async fn logout(State(web): State<Web>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        web.inner.sessions.close(id);
    }
    let mut rsp = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = session_cookie("", Some(0), over_tls(&headers)) {
        rsp.headers_mut().insert(header::SET_COOKIE, v);
    }
    rsp
}

/// A path under the base that is no page, file or API.
pub(crate) async fn not_found(method: Method, uri: http::Uri) -> Response {
    let shown: String = uri.path().chars().take(200).collect();
    crate::error(
        StatusCode::NOT_FOUND,
        format!("the dashboard has no {method} {shown}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        assert_eq!(host_name("127.0.0.1:8082"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8082"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert!(loopback_name("localhost") && loopback_name("127.0.0.1") && loopback_name("::1"));
        assert!(!loopback_name("evil.example") && !loopback_name("198.51.100.7"));
        let req = |origin: Option<&'static str>, host: Option<&'static str>, uri: &str| {
            let mut b = http::Request::builder().uri(uri);
            if let Some(o) = origin {
                b = b.header(header::ORIGIN, o);
            }
            if let Some(h) = host {
                b = b.header(header::HOST, h);
            }
            b.body(axum::body::Body::empty()).expect("a request")
        };
        assert!(same_origin(&req(None, Some("127.0.0.1:8082"), "/")));
        let ok = req(Some("http://127.0.0.1:8082"), Some("127.0.0.1:8082"), "/");
        assert!(same_origin(&ok));
        assert!(!same_origin(&req(
            Some("http://evil.example"),
            Some("127.0.0.1:8082"),
            "/"
        )));
        assert!(!same_origin(&req(
            Some("null"),
            Some("127.0.0.1:8082"),
            "/"
        )));
        // HTTP/2 has no Host header: the URI's authority stands in.
        let h2 = req(
            Some("https://127.0.0.1:8082"),
            None,
            "https://127.0.0.1:8082/_/api/call",
        );
        assert!(same_origin(&h2));
        assert_eq!(request_host(&h2), Some("127.0.0.1:8082"));
    }

    #[test]
    fn sessions_are_one_per_sign_in_and_end_on_sign_out() {
        let sessions = Sessions::default();
        let a = sessions.open();
        let b = sessions.open();
        assert_ne!(a, b);
        assert!(sessions.valid(&a) && sessions.valid(&b));
        sessions.close(&a);
        assert!(!sessions.valid(&a) && sessions.valid(&b));
        assert!(!sessions.valid("guess"));
    }

    #[test]
    fn tokens_compare_whole_and_cookies_are_found_by_name() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab") && !same("", "a"));
        let t = random_hex();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_hex());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; micro_web_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(under("/_/api/x", "/_") && under("/_", "/_") && !under("/_x", "/_"));
    }
}
