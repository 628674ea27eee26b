//! The integration tests of `it` again, with every micro client on gRPC over HTTP/2.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

/// The transport of every client the tests make.
pub const TRANSPORT: micro_runtime::client::Transport = micro_runtime::client::Transport::Grpc;

mod calls;
mod errors;
mod retries;
mod shutdown;
mod streaming;
mod support;
mod wire;
