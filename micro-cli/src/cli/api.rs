//! The arguments of `micro api`.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// `micro api`: where the gateway listens, how it routes, and its limits.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Where to listen (`:8080` is every interface).
    #[arg(
        long,
        env = "MICRO_API_ADDRESS",
        default_value = ":8080",
        value_name = "ADDR"
    )]
    pub(crate) address: String,
    /// Handler for requests no HTTP rule matches: meta (rules from the registry, else rpc),
    /// rpc, api, event, http (or proxy) or web.
    #[arg(
        long,
        env = "MICRO_API_HANDLER",
        default_value = "meta",
        value_name = "NAME"
    )]
    pub(crate) handler: String,
    /// Prefix of the services paths reach: /foo/bar calls NAMESPACE.foo (none: plain names).
    #[arg(
        long,
        env = "MICRO_API_NAMESPACE",
        default_value = "",
        value_name = "NS"
    )]
    pub(crate) namespace: String,
    /// How paths name services: micro, host, path, vpath or grpc.
    #[arg(
        long,
        env = "MICRO_API_RESOLVER",
        default_value = "micro",
        value_name = "NAME"
    )]
    pub(crate) resolver: String,
    /// Serve /rpc: POST {"service","endpoint","request"}.
    #[arg(
        long = "enable_rpc",
        visible_alias = "enable-rpc",
        env = "MICRO_API_ENABLE_RPC"
    )]
    pub(crate) enable_rpc: bool,
    /// Let /rpc callers pick a node address (lets callers reach any host: keep it off on a
    /// public gateway).
    #[arg(long = "rpc_allow_address", visible_alias = "rpc-allow-address")]
    pub(crate) rpc_allow_address: bool,
    /// Answer CORS requests from the origins given with --cors_origin.
    #[arg(
        long = "enable_cors",
        visible_alias = "enable-cors",
        env = "MICRO_API_ENABLE_CORS"
    )]
    pub(crate) enable_cors: bool,
    /// An origin CORS allows, e.g. `https://app.example.com`; repeatable.
    #[arg(
        long = "cors_origin",
        visible_alias = "cors-origin",
        env = "MICRO_API_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub(crate) cors_origin: Vec<String>,
    /// Serve HTTPS with --tls_cert_file and --tls_key_file.
    #[arg(
        long = "enable_tls",
        visible_alias = "enable-tls",
        env = "MICRO_ENABLE_TLS"
    )]
    pub(crate) enable_tls: bool,
    /// The certificate chain (PEM).
    #[arg(
        long = "tls_cert_file",
        env = "MICRO_TLS_CERT_FILE",
        value_name = "FILE"
    )]
    pub(crate) tls_cert_file: Option<String>,
    /// The private key (PEM).
    #[arg(long = "tls_key_file", env = "MICRO_TLS_KEY_FILE", value_name = "FILE")]
    pub(crate) tls_key_file: Option<String>,
    /// Refuse query parameters that name no field (400) instead of ignoring them.
    #[arg(long, env = "MICRO_API_STRICT")]
    pub(crate) strict: bool,
    /// Largest request body in bytes (413 above).
    #[arg(long = "max_body", env = "MICRO_API_MAX_BODY", default_value_t = 4 * 1024 * 1024, value_name = "BYTES")]
    pub(crate) max_body: usize,
    /// Requests handled at once (503 with Retry-After above).
    #[arg(
        long = "max_concurrent",
        env = "MICRO_API_MAX_CONCURRENT",
        default_value_t = 1024,
        value_name = "N"
    )]
    pub(crate) max_concurrent: usize,
    /// Time a client has to send the request head, and then its body.
    #[arg(long = "read_timeout", env = "MICRO_API_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) read_timeout: Duration,
    /// Deadline of calls for requests without a Timeout header.
    #[arg(long = "call_timeout", env = "MICRO_API_CALL_TIMEOUT", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) call_timeout: Duration,
    /// A sensitive header forwarded to services as metadata (authorization, cookie);
    /// repeatable.
    #[arg(long = "forward_header", value_name = "NAME")]
    pub(crate) forward_header: Vec<String>,
    /// Also serve the web dashboard under /_/ (on a non-loopback address it asks for a
    /// token: MICRO_WEB_TOKEN, or one printed at start).
    #[arg(long, env = "MICRO_API_WEB")]
    pub(crate) web: bool,
    /// Also serve every endpoint as an MCP tool for AI agents at /mcp (Streamable HTTP;
    /// pages of other sites are refused by their Origin).
    #[arg(long, env = "MICRO_API_MCP")]
    pub(crate) mcp: bool,
}
