//! Integration tests: real servers, real connections. Servers run on the default transport
//! (`auto`: native and gRPC on one TCP port) and clients on `auto` (the native transport,
//! which micro servers advertise); the `it_grpc` target runs the same tests with servers and
//! clients on gRPC only, and `it_memory` with servers on the in-process transport.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

/// The transport servers run on (`MICRO_TRANSPORT`).
pub const SERVER_TRANSPORT: &str = "auto";
/// The transport policy of every client the tests make.
pub const CLIENT_TRANSPORT: micro_runtime::client::TransportPolicy =
    micro_runtime::client::TransportPolicy::Auto;

mod auth;
mod balancing;
mod calls;
mod composing;
mod errors;
mod hardening;
mod hops;
mod metrics;
mod middleware;
mod native;
mod overload;
mod raw;
mod registration;
mod retries;
mod shutdown;
mod streaming;
mod support;
mod tls;
mod traces;
mod wire;
