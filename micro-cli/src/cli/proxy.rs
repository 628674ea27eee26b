//! The arguments of `micro proxy`.

use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// `micro proxy`: the sidecar, its app and its Dapr components.
#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// Where the HTTP API (go-micro's sidecar routes and Dapr's) listens.
    #[arg(
        long,
        env = "MICRO_PROXY_ADDRESS",
        default_value = "127.0.0.1:8081",
        value_name = "ADDR"
    )]
    pub(crate) address: String,
    /// Where micro's transports listen: calls to the app, and calls of clients with
    /// MICRO_PROXY set to this address.
    #[arg(
        long = "rpc_address",
        env = "MICRO_PROXY_RPC_ADDRESS",
        default_value = "127.0.0.1:8085",
        value_name = "ADDR"
    )]
    pub(crate) rpc_address: String,
    /// Register the app behind the sidecar under this name (Dapr's app id).
    #[arg(long = "server_name", env = "MICRO_SERVER_NAME", value_name = "NAME")]
    pub(crate) server_name: Option<String>,
    /// Where the app serves HTTP (host:port or URL); calls reach it as POST /{Endpoint}.
    #[arg(
        long = "server_address",
        env = "MICRO_SERVER_ADDRESS",
        value_name = "ADDR"
    )]
    pub(crate) server_address: Option<String>,
    /// The app is registered while this URL answers 2xx, and deregistered when it does not.
    #[arg(
        long = "healthcheck_url",
        env = "MICRO_HEALTHCHECK_URL",
        value_name = "URL"
    )]
    pub(crate) healthcheck_url: Option<String>,
    /// How often the health URL is asked.
    #[arg(long = "healthcheck_interval", env = "MICRO_HEALTHCHECK_INTERVAL", default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) healthcheck_interval: Duration,
    /// Namespace of go-micro's /SERVICE/METHOD paths.
    #[arg(
        long,
        env = "MICRO_PROXY_NAMESPACE",
        default_value = "",
        value_name = "NS"
    )]
    pub(crate) namespace: String,
    /// A Dapr state store, NAME or NAME=TABLE of micro's store (repeat for more).
    #[arg(
        long = "state_store",
        value_name = "NAME[=TABLE]",
        default_value = "statestore"
    )]
    pub(crate) state_store: Vec<String>,
    /// A Dapr pub/sub name on micro's broker (repeat for more).
    #[arg(long = "pubsub", value_name = "NAME", default_value = "pubsub")]
    pub(crate) pubsub: Vec<String>,
    /// A Dapr secret store: NAME=env, NAME=env:PREFIX or NAME=file:PATH (repeat for more).
    #[arg(long = "secret_store", value_name = "NAME=KIND")]
    pub(crate) secret_store: Vec<String>,
    /// Deliveries of an event to the app before it is dead-lettered.
    #[arg(long = "max_deliver", default_value_t = 5, value_name = "N")]
    pub(crate) max_deliver: u32,
    /// The first wait before an event the app failed is delivered again (it doubles).
    #[arg(long = "retry_backoff", default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) retry_backoff: Duration,
    /// Deadline of calls that set none.
    #[arg(long = "call_timeout", env = "MICRO_PROXY_CALL_TIMEOUT", default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) call_timeout: Duration,
}
