//! Integration tests: real servers on 127.0.0.1:0, real connections.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

mod calls;
mod errors;
mod retries;
mod shutdown;
mod streaming;
mod support;
mod wire;
