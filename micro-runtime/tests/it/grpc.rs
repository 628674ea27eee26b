//! The integration tests of `it` again, with servers and clients on gRPC over HTTP/2 only.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

/// The transport servers run on (`MICRO_TRANSPORT`).
pub const SERVER_TRANSPORT: &str = "grpc";
/// The transport policy of every client the tests make.
pub const CLIENT_TRANSPORT: micro_runtime::client::TransportPolicy =
    micro_runtime::client::TransportPolicy::Grpc;

mod auth;
mod calls;
mod composing;
mod errors;
mod middleware;
mod retries;
mod shutdown;
mod streaming;
mod support;
mod tls;
mod traces;
mod wire;
