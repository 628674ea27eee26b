//! The micro runtime: registry, selector, gRPC and native transports, codecs, client, server and
//! service — Go Micro's concepts, in Rust.
//!
//! Most users depend on the `micro` facade crate, which re-exports this one.
//!
//! | Concept | Module | Default |
//! |---|---|---|
//! | Service discovery | [`registry`] | `local`: files under `~/.micro`, no daemon, TTL expiry |
//! | Load balancing | [`selector`] | random, connection failures cool a node off |
//! | Wire | gRPC over HTTP/2, and a native transport on the same port | micro clients speak native to nodes that advertise it; any gRPC client can call a micro service |
//! | Codecs | [`codec`] | protobuf and JSON on every endpoint |
//! | Calls | [`client`] | 30 s deadline, retries only when safe |
//! | Endpoints | [`server`] | typed async closures, all four streaming kinds |
//! | Lifecycle | [`service`] | register, heartbeat, graceful stop on SIGINT/SIGTERM |
//! | Pub/sub | [`broker`] | `http` (no broker server), or NATS core / JetStream; one delivery per service |
//! | Errors | [`error`] | go-micro's `{id, code, detail, status}` ⇄ gRPC status |

#![cfg_attr(not(test), warn(clippy::print_stdout, clippy::print_stderr))]

pub mod broker;
pub mod client;
pub mod codec;
pub mod codegen;
pub mod config;
mod context;
pub mod error;
mod grpc;
pub mod health;
mod native;
pub mod reflection;
pub mod registry;
pub mod selector;
pub mod server;
pub mod service;
pub mod stream;

pub use client::Client;
pub use codec::{Format, Message};
pub use context::{Context, Metadata};
pub use error::{Code, Error, Result};
pub use grpc::DEFAULT_MAX_MESSAGE_SIZE;
pub use service::{RunningService, Service, ServiceBuilder};

#[doc(hidden)]
pub mod __private {
    pub use prost;
    pub use serde;
}
