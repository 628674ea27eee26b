//! What a gateway does with a request it cannot match to an HTTP rule, and its limits.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How a request is handed to a service (go-micro's `--handler`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerKind {
    /// Routes from the registry: `google.api.http` rules and endpoint `handler` metadata, and
    /// otherwise `rpc` (go-micro's `meta`, the default).
    #[default]
    Meta,
    /// The body (JSON or protobuf; for a GET the query as JSON) as an RPC request.
    Rpc,
    /// The whole HTTP request as a `micro.api.Request` message; the service answers a
    /// `micro.api.Response`.
    Api,
    /// The request published as a `micro.api.Event` on topic `<namespace>.<first segment>`.
    Event,
    /// A reverse proxy to an HTTP service found in the registry.
    Http,
    /// [`HandlerKind::Http`] plus websocket upgrades.
    Web,
}

impl HandlerKind {
    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            HandlerKind::Meta => "meta",
            HandlerKind::Rpc => "rpc",
            HandlerKind::Api => "api",
            HandlerKind::Event => "event",
            HandlerKind::Http => "http",
            HandlerKind::Web => "web",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HandlerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "meta" | "" => HandlerKind::Meta,
            "rpc" => HandlerKind::Rpc,
            "api" => HandlerKind::Api,
            "event" => HandlerKind::Event,
            "http" | "proxy" => HandlerKind::Http,
            "web" => HandlerKind::Web,
            other => {
                return Err(format!(
                    "unknown handler {other:?}: use meta, rpc, api, event, http, proxy or web"
                ));
            }
        })
    }
}

/// How a path names a service and an endpoint (go-micro's `--resolver`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolverKind {
    /// go-micro's namespace mapping: `/foo/bar` → `<ns>.foo` `Foo.Bar`, versions as
    /// `/v1/foo/bar` → `<ns>.v1.foo` (the default).
    #[default]
    Micro,
    /// The service is the `Host` header; the endpoint comes from the path.
    Host,
    /// The service is the first path segment; the endpoint comes from the rest.
    Path,
    /// Like [`ResolverKind::Path`], with a leading `vN` segment kept in the service name.
    Vpath,
    /// gRPC paths: `/pkg.Svc/Method` → service `pkg`, endpoint `Svc.Method`.
    Grpc,
}

impl ResolverKind {
    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            ResolverKind::Micro => "micro",
            ResolverKind::Host => "host",
            ResolverKind::Path => "path",
            ResolverKind::Vpath => "vpath",
            ResolverKind::Grpc => "grpc",
        }
    }
}

impl fmt::Display for ResolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ResolverKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "micro" | "" => ResolverKind::Micro,
            "host" => ResolverKind::Host,
            "path" => ResolverKind::Path,
            "vpath" => ResolverKind::Vpath,
            "grpc" => ResolverKind::Grpc,
            other => {
                return Err(format!(
                    "unknown resolver {other:?}: use micro, host, path, vpath or grpc"
                ));
            }
        })
    }
}

/// A gateway's settings. [`Options::default`] is what `micro api` runs with no flags.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The handler for requests no HTTP rule matches.
    pub handler: HandlerKind,
    /// How paths name services.
    pub resolver: ResolverKind,
    /// Prefix of the services the gateway reaches through the resolver (`go.micro.api` in
    /// go-micro v1); empty (the default) reaches services by their plain names.
    pub namespace: String,
    /// Serve `/rpc` (off by default, as in go-micro since 2019).
    pub enable_rpc: bool,
    /// Let `/rpc` callers name a node `address` (off: it lets callers reach any host).
    pub rpc_allow_address: bool,
    /// Origins allowed by CORS; empty means no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Reject unknown query parameters on HTTP-rule routes with 400 instead of ignoring them.
    pub strict: bool,
    /// Largest request body, in bytes (413 above it).
    pub max_body: usize,
    /// Largest request head (request line and headers), in bytes (431 above it).
    pub max_header: usize,
    /// Time a client has to send the request head and then the body (408 or a closed
    /// connection after it).
    pub read_timeout: Duration,
    /// Requests handled at once; more get 503 with `Retry-After`.
    pub max_concurrent: usize,
    /// Deadline of a call made for a request that does not set one.
    pub call_timeout: Duration,
    /// Request headers forwarded as call metadata although they are sensitive
    /// (`authorization`, `cookie`), lower case.
    pub forward_headers: Vec<String>,
    /// Record this process's [`micro::metrics`] and answer `GET /metrics` with them (off by
    /// default: the gateway's port is public, and the series name internal nodes; `micro api`
    /// turns it on with `MICRO_METRICS_ADDRESS`).
    pub metrics: bool,
    /// Check callers' tokens and the auth rules on every call before it leaves (401/403
    /// otherwise), and pass the caller's token on for the service to check again; `None`
    /// (default): auth off. `micro api` sets it when `MICRO_AUTH=jwt`.
    pub auth: Option<std::sync::Arc<micro::auth::Gate>>,
    /// Open a server span per request (under the request's `traceparent`) and a client span
    /// per call it makes ([`micro::trace`]); `None` (default): tracing off, `traceparent`
    /// passed on as it came. `micro api` sets it when `MICRO_TRACER` is set.
    pub tracer: Option<micro::trace::Tracer>,
    /// The `web` and `http` handlers strip the path segments that name the service and tell
    /// the app where it is mounted in `X-Micro-Web-Base-Path` (`/chat/room` reaches the app
    /// as `/room`, with `X-Micro-Web-Base-Path: /chat`), as micro v1's web proxy did; off
    /// (default) forwards the path whole. `micro web` turns it on.
    pub web_base_path: bool,
    /// More OpenAPI path items (an object keyed by path) merged into `/openapi.json`: the
    /// dashboard's JSON API when `micro api --web` mounts it.
    pub openapi_paths: Option<std::sync::Arc<serde_json::Value>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            handler: HandlerKind::Meta,
            resolver: ResolverKind::Micro,
            namespace: String::new(),
            enable_rpc: false,
            rpc_allow_address: false,
            cors_origins: Vec::new(),
            strict: false,
            max_body: 4 * 1024 * 1024,
            max_header: 16 * 1024,
            read_timeout: Duration::from_secs(10),
            max_concurrent: 1024,
            call_timeout: Duration::from_secs(30),
            forward_headers: Vec::new(),
            metrics: false,
            auth: None,
            tracer: None,
            web_base_path: false,
            openapi_paths: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_what_exists() {
        for kind in [
            HandlerKind::Meta,
            HandlerKind::Rpc,
            HandlerKind::Api,
            HandlerKind::Event,
            HandlerKind::Http,
            HandlerKind::Web,
        ] {
            assert_eq!(kind.name().parse::<HandlerKind>(), Ok(kind));
        }
        assert_eq!("proxy".parse::<HandlerKind>(), Ok(HandlerKind::Http));
        let err = "soap".parse::<HandlerKind>().unwrap_err();
        assert!(
            err.contains("\"soap\"") && err.contains("meta, rpc"),
            "{err}"
        );
        for kind in [
            ResolverKind::Micro,
            ResolverKind::Host,
            ResolverKind::Path,
            ResolverKind::Vpath,
            ResolverKind::Grpc,
        ] {
            assert_eq!(kind.name().parse::<ResolverKind>(), Ok(kind));
        }
        assert!("dns".parse::<ResolverKind>().unwrap_err().contains("vpath"));
    }
}
