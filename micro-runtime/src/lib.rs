//! The micro runtime: registry, selector, transports, codecs, client, server, broker and
//! service — Go Micro's concepts, in Rust.
//!
//! Most users depend on the `micro` facade crate, which re-exports this one.
//!
//! | Concept | Module | Default |
//! |---|---|---|
//! | Service discovery | [`registry`] | `local`: files under `~/.micro`, no daemon, TTL expiry |
//! | Load balancing | [`selector`] | random, connection failures cool a node off |
//! | Codecs | [`codec`] | protobuf and JSON on every endpoint |
//! | Calls | [`client`] | 30 s deadline, retries only when safe |
//! | Endpoints | [`server`] | typed async closures, all four streaming kinds |
//! | Middleware | [`middleware`] | wrappers (async closures or tower layers) on handlers, calls and subscribers |
//! | Pub/sub | [`broker`] | `http` (no broker server), or NATS core / JetStream; one delivery per service |
//! | Settings | [`options`], [`plugins`] | `MICRO_*` variables and flags; engines by name |
//! | Lifecycle | [`service`] | register, heartbeat, graceful stop on SIGINT/SIGTERM |
//! | Errors | [`error`] | go-micro's `{id, code, detail, status}` ⇄ gRPC status |
//! | Auth | [`auth`] | `noop`; `jwt`: accounts, tokens and rules, checked before the handler |
//!
//! Transports (gRPC over HTTP/2, micro's native framing, and an in-process one) sit behind a
//! trait pair inside the crate; `MICRO_TRANSPORT` picks them.
//!
//! # Layers
//!
//! Modules import only modules below them (checked in CI):
//!
//! ```text
//! error, context, net, middleware     foundation; middleware is the generic wrapper chain
//! registry                            service discovery
//! codec                               formats, descriptors, JSON mapping, schemas
//! store, auth                         key-value state; accounts, tokens and rules kept in it
//! selector                            node choice
//! wire, stream                        framing, call heads, bodies; typed message streams
//! endpoint                            routes, router, route table, the erased handler
//! transport                           Connector/Connection, Acceptor; grpc, native, memory
//! client, server, health, reflection  calls; the accept loop; framework services
//! broker                              pub/sub engines (http uses client and server)
//! plugins, options                    the engine table; settings
//! service                             builder, lifecycle, engines from settings
//! codegen                             the facade generated code names (imported by nothing)
//! ```

#![cfg_attr(not(test), warn(clippy::print_stdout, clippy::print_stderr))]

pub mod auth;
pub mod broker;
pub mod cache;
pub mod client;
pub mod codec;
pub mod codegen;
pub mod config;
mod context;
mod duration;
mod endpoint;
pub mod error;
mod files;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod metrics;
pub mod middleware;
mod net;
pub mod options;
pub mod platform;
pub mod plugins;
#[cfg(feature = "redis")]
mod redis_conn;
pub mod reflection;
pub mod registry;
pub mod selector;
pub mod server;
pub mod service;
pub mod store;
pub mod stream;
pub mod tls;
pub mod trace;
mod transport;
pub mod validate;
mod wire;

pub use client::Client;
pub use codec::{Format, Message};
pub use context::{Cleanup, Context, HOP_LOCAL, Metadata};
pub use error::{Code, Error, Result, Violation};
pub use options::Settings;
pub use service::{RunningService, Service, ServiceBuilder};
pub use wire::DEFAULT_MAX_MESSAGE_SIZE;

/// A boxed, `Send` future: what the runtime's object-safe traits (registry, broker,
/// middleware, transports) return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

#[doc(hidden)]
pub mod __private {
    pub use prost;
    pub use serde;
}
