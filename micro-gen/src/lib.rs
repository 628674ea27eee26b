//! Code generation for micro.
//!
//! From `.proto` files, `micro-gen` generates prost messages that also speak the canonical
//! proto3 JSON mapping, and for every service a typed client (`<svc>_client`) and a handler
//! trait with its server (`<svc>_server`), ready for `micro::Service::builder(..).handler(..)`.
//!
//! Two ways in, one output:
//!
//! - **build.rs**, no `protoc` needed (protox compiles `.proto` files in pure Rust):
//!   ```no_run
//!   fn main() -> Result<(), Box<dyn std::error::Error>> {
//!       micro_gen::compile_protos(&["proto/greeter.proto"], &["proto"])?;
//!       Ok(())
//!   }
//!   ```
//!   and in the crate: `mod pb { micro::include_proto!("greeter"); }`.
//! - **protoc or buf** with the `protoc-gen-micro` plugin:
//!   `protoc --plugin=protoc-gen-micro --micro_out=src/gen -I proto proto/greeter.proto`,
//!   or in `buf.gen.yaml`: `plugins: [{local: protoc-gen-micro, out: src/gen}]`.
//!
//! The service model ([`model`]) and its emitter ([`emit`]) are shared with the
//! `#[micro::service]` macro: one mechanism, two parsers.

pub mod emit;
pub mod ident;
pub mod model;

#[cfg(feature = "protobuf")]
mod protobuf;

#[cfg(feature = "protobuf")]
pub use protobuf::{Builder, Error, compile_protos, configure};

/// The services declared in `protos` (found under `includes`), for tools that write handler
/// stubs: see [`Builder::services`].
#[cfg(feature = "protobuf")]
pub fn services(
    protos: &[impl AsRef<std::path::Path>],
    includes: &[impl AsRef<std::path::Path>],
) -> Result<Vec<model::Service>, Error> {
    configure().services(protos, includes)
}

/// The `protoc-gen-micro` plugin protocol: request bytes in, response bytes out.
#[cfg(feature = "protobuf")]
pub mod plugin {
    pub use crate::protobuf::plugin::{execute, execute_reporting};
}
