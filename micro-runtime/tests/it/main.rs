//! Integration tests: real servers on 127.0.0.1:0, real connections. Clients run on the
//! default transport (`auto`: the native transport, which micro servers advertise); the
//! `it_grpc` target runs the same tests with clients on gRPC.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

/// The transport of every client the tests make.
pub const TRANSPORT: micro_runtime::client::Transport = micro_runtime::client::Transport::Auto;

mod calls;
mod errors;
mod native;
mod retries;
mod shutdown;
mod streaming;
mod support;
mod wire;
