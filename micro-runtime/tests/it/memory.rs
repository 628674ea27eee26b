//! The integration tests of `it` again, with servers on the in-process `memory` transport
//! (no socket) and clients on `auto`, which reaches them through it. The suites about one
//! wire (`wire`, `native`) stay with the TCP runs.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

/// The transport servers run on (`MICRO_TRANSPORT`).
pub const SERVER_TRANSPORT: &str = "memory";
/// The transport policy of every client the tests make.
pub const CLIENT_TRANSPORT: micro_runtime::client::TransportPolicy =
    micro_runtime::client::TransportPolicy::Auto;

mod calls;
mod composing;
mod errors;
mod middleware;
mod retries;
mod shutdown;
mod streaming;
mod support;
