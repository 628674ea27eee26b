//! The micro MCP gateway: every endpoint in the registry as a tool for AI agents, through
//! the Model Context Protocol (revisions 2024-11-05 to 2025-11-25, the `initialize`
//! handshake), over stdio or Streamable HTTP.
//!
//! - **Tools, live.** One tool per unary or server-streaming endpoint of every registered
//!   service (the platform's own `micro.*` services left out), read from the gateway's
//!   route table, so a service that registers or leaves changes the list at once;
//!   clients are told with `notifications/tools/list_changed`.
//! - **Names every client accepts**: `service_Endpoint_Method`, only `[A-Za-z0-9_-]`, at
//!   most 64 characters (Claude Desktop's limit; OpenAI and Copilot refuse dots), unique,
//!   mapped back to the service and endpoint.
//! - **Schemas** of the request in proto3 JSON (nested messages, repeated, maps, 64-bit
//!   integers as strings); arguments are checked against the request before the call,
//!   and a mismatch is an `isError` result naming the field.
//! - **Results** as JSON text and `structuredContent`; a service's error is an `isError`
//!   result with its code and detail; protocol errors only for protocol faults (an unknown
//!   method or tool, a malformed message). A server stream is collected into a list, up
//!   to [`Options::stream_limit`] messages.
//! - **Guards**: the auth gate's tokens and rules (`MICRO_AUTH=jwt`: the MCP server is the
//!   service `micro.mcp` whose endpoints are the JSON-RPC methods, and each tool is checked
//!   again as the endpoint it calls; `tools/list` shows a caller only what it may call), a
//!   token bucket per caller and tool, and an audit line per call or refusal (target
//!   `micro::mcp::audit`: tool, service, endpoint, caller, allowed, duration, error).
//!
//! Written by hand rather than with the `rmcp` SDK: the protocol part is small (five
//! methods), the tools come from the registry at run time (the SDK's macros serve tools
//! known at compile time), and the SDK's HTTP transport brings a second web stack and a
//! new major version every few months.
//!
//! ```no_run
//! # async fn run() -> micro::Result<()> {
//! let settings = micro::Settings::from_env()?;
//! let client = micro::Client::from_settings(&settings)?;
//! let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
//! let mcp = micro_mcp::Mcp::new(gateway, micro_mcp::Options::default());
//! mcp.serve_stdio(tokio::io::stdin(), tokio::io::stdout()).await
//! # }
//! ```

mod call;
mod http;
mod rpc;
mod stdio;
mod tools;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use micro_gateway::Gateway;
use tokio::sync::watch;

pub use call::ToolResult;
pub use http::PATH;
pub use rpc::{LATEST_PROTOCOL_VERSION, PROTOCOL_VERSIONS};
pub use tools::{MAX_NAME, Tool, tool_name};

/// How often the tool list is compared with the registry's for `list_changed`.
const CHANGE_CHECK: Duration = Duration::from_millis(250);

/// What the MCP gateway does beyond the defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The name it gives itself in `initialize` (`micro`).
    pub name: String,
    /// Calls per second each tool allows (a token bucket; `0`: no limit). Default 10.
    pub rate: f64,
    /// Calls a tool may take at once above its rate. Default 20.
    pub burst: f64,
    /// The most messages of a server stream a result holds. Default 100.
    pub stream_limit: usize,
    /// How long one tool call may take. Default 30 s.
    pub call_timeout: Duration,
    /// The largest HTTP request body. Default 1 MiB.
    pub max_body: usize,
    /// Browser origins allowed to call over HTTP besides the machine's own when it listens
    /// on loopback (`http://localhost:*`, `http://127.0.0.1:*`).
    pub allowed_origins: Vec<String>,
    /// Whether the HTTP transport listens on loopback (pages of local origins may call).
    pub loopback: bool,
    /// Offer the platform's own `micro.*` services as tools too.
    pub internal: bool,
    /// Tokens and rules (`MICRO_AUTH=jwt`); `None`: no caller is checked.
    pub auth: Option<Arc<micro::auth::Gate>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            name: "micro".to_owned(),
            rate: 10.0,
            burst: 20.0,
            stream_limit: 100,
            call_timeout: Duration::from_secs(30),
            max_body: 1 << 20,
            allowed_origins: Vec::new(),
            loopback: true,
            internal: false,
            auth: None,
        }
    }
}

/// Who is calling: the `authorization` value they sent (HTTP), for the gate and to pass on.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// The `authorization` header (`Bearer …`), if any.
    pub authorization: Option<String>,
    /// Who the caller is for the audit log: the account, else how it came (`stdio`, `http`).
    pub name: String,
}

impl Caller {
    /// A caller with no credentials, named for the audit log.
    pub fn anonymous(name: impl Into<String>) -> Caller {
        Caller {
            authorization: None,
            name: name.into(),
        }
    }
}

/// A token bucket per caller and tool.
#[derive(Debug, Default)]
struct Limiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// Take a token for `tool`; false when its bucket is empty.
    fn take(&self, tool: &str, rate: f64, burst: f64) -> bool {
        if rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets
            .entry(tool.to_owned())
            .or_insert((burst.max(1.0), now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst.max(1.0));
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The MCP gateway over a [`Gateway`]'s route table and client. Cheap to clone.
///
/// Its methods need a Tokio runtime (the gateway keeps its table current in a task).
#[derive(Clone, Debug)]
pub struct Mcp {
    inner: Arc<Inner>,
}

/// The tools of one route table.
type Catalog = (Arc<micro_gateway::routes::Table>, Arc<Vec<Tool>>);

#[derive(Debug)]
struct Inner {
    gateway: Gateway,
    options: Options,
    limiter: Limiter,
    /// The tools of the last table seen, rebuilt only when the table changes.
    catalog: Mutex<Option<Catalog>>,
    /// Bumped each time the tool list changes; receivers come from `subscribe`.
    changes: OnceLock<watch::Sender<u64>>,
    /// Set when the server stops: open event streams end.
    closing: watch::Sender<bool>,
}

impl Mcp {
    /// The MCP gateway over `gateway` (which it keeps current from the registry).
    pub fn new(gateway: Gateway, options: Options) -> Mcp {
        Mcp {
            inner: Arc::new(Inner {
                gateway,
                options,
                limiter: Limiter::default(),
                catalog: Mutex::new(None),
                changes: OnceLock::new(),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The gateway it calls through.
    pub fn gateway(&self) -> &Gateway {
        &self.inner.gateway
    }

    /// The tools now, in service then endpoint order.
    pub fn tools(&self) -> Arc<Vec<Tool>> {
        self.inner.gateway.start();
        let table = self.inner.gateway.table();
        let mut cached = self.inner.catalog.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, tools)) = cached.as_ref()
            && Arc::ptr_eq(seen, &table)
        {
            return tools.clone();
        }
        let options = &self.inner.options;
        let tools = Arc::new(tools::catalog(
            &table,
            options.internal,
            options.stream_limit,
        ));
        *cached = Some((table, tools.clone()));
        tools
    }

    /// The tool called `name`, if there is one now.
    pub fn tool(&self, name: &str) -> Option<Tool> {
        self.tools().iter().find(|t| t.name == name).cloned()
    }

    /// A receiver that changes each time the tool list does (for `list_changed`); what
    /// changed before it was made counts as seen. The watching task ends with the last
    /// clone of this `Mcp`.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner
            .changes
            .get_or_init(|| {
                let (tx, _) = watch::channel(0);
                let sender = tx.clone();
                let weak = Arc::downgrade(&self.inner);
                let mut seen = self.tools();
                tokio::spawn(async move {
                    let mut last = signature(&seen);
                    loop {
                        tokio::time::sleep(CHANGE_CHECK).await;
                        let Some(inner) = weak.upgrade() else { return };
                        let tools = Mcp { inner }.tools();
                        // The same catalog (the table did not change): nothing to compare.
                        if Arc::ptr_eq(&tools, &seen) {
                            continue;
                        }
                        let now = signature(&tools);
                        seen = tools;
                        if now != last {
                            last = now;
                            sender.send_modify(|n| *n += 1);
                        }
                    }
                });
                tx
            })
            .subscribe()
    }

    /// End the open event streams (the server is stopping); later ones end at once.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once [`Mcp::close`] was called.
    pub(crate) async fn closed(&self) {
        let mut closing = self.inner.closing.subscribe();
        let _ = closing.wait_for(|c| *c).await;
    }

    /// Take a call from `caller`'s bucket for `tool`.
    fn take_token(&self, caller: &str, tool: &str) -> bool {
        let o = &self.inner.options;
        self.inner
            .limiter
            .take(&format!("{caller}\u{0}{tool}"), o.rate, o.burst)
    }
}

/// What identifies a tool list: names, targets and schemas.
fn signature(tools: &[Tool]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in tools {
        t.name.hash(&mut h);
        t.service.hash(&mut h);
        t.endpoint.hash(&mut h);
        t.description.hash(&mut h);
        t.input_schema.to_string().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_has_its_own_bucket() {
        let limiter = Limiter::default();
        assert!((0..3).all(|_| limiter.take("a", 1.0, 3.0)));
        assert!(!limiter.take("a", 1.0, 3.0), "the burst is spent");
        assert!(limiter.take("b", 1.0, 3.0), "another tool is not held up");
        assert!(
            (0..100).all(|_| limiter.take("a", 0.0, 0.0)),
            "rate 0: no limit"
        );
    }
}
