//! The arguments of `micro web`.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// `micro web`: where the dashboard listens and which web services it proxies.
#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// Where to listen. Loopback by default; on any other address the dashboard asks for a
    /// token (MICRO_WEB_TOKEN, or one printed at start).
    #[arg(
        long,
        env = "MICRO_WEB_ADDRESS",
        default_value = "127.0.0.1:8082",
        value_name = "ADDR"
    )]
    pub(crate) address: String,
    /// Namespace of web services: /chat/ is proxied to NAMESPACE.chat.
    #[arg(
        long,
        env = "MICRO_WEB_NAMESPACE",
        default_value = "micro.web",
        value_name = "NS"
    )]
    pub(crate) namespace: String,
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
    /// Deadline of calls made from the page that set none.
    #[arg(long = "call_timeout", env = "MICRO_WEB_CALL_TIMEOUT", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) call_timeout: Duration,
    /// Table the store page opens first (any table can be browsed).
    #[arg(long = "store_table", default_value = "micro", value_name = "TABLE")]
    pub(crate) store_table: String,
}
