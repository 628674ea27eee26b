//! micro: Go Micro, rebuilt in Rust.
//!
//! Write a service as typed handlers; micro registers it, finds it, balances calls across
//! its nodes and speaks standard gRPC (plus JSON on every endpoint) on the wire.
//!
//! ```no_run
//! use micro::server::Router;
//!
//! #[derive(Clone, PartialEq, micro::prost::Message, micro::serde::Serialize, micro::serde::Deserialize)]
//! #[prost(prost_path = "::micro::prost")]
//! #[serde(crate = "micro::serde", default)]
//! struct HelloRequest {
//!     #[prost(string, tag = "1")]
//!     name: String,
//! }
//!
//! #[derive(Clone, PartialEq, micro::prost::Message, micro::serde::Serialize, micro::serde::Deserialize)]
//! #[prost(prost_path = "::micro::prost")]
//! #[serde(crate = "micro::serde", default)]
//! struct HelloResponse {
//!     #[prost(string, tag = "1")]
//!     msg: String,
//! }
//!
//! // Hand-written messages opt in to protobuf + serde JSON; generated ones need nothing.
//! impl micro::codec::ProstSerde for HelloRequest {}
//! impl micro::codec::ProstSerde for HelloResponse {}
//!
//! #[tokio::main]
//! async fn main() -> micro::Result<()> {
//!     micro::init_logging();
//!     let router = Router::new().unary("Greeter.Hello", |_ctx, req: HelloRequest| async move {
//!         Ok(HelloResponse { msg: format!("Hello {}", req.name) })
//!     });
//!     micro::Service::builder("greeter")
//!         .version("1.0.0")
//!         .handler(router)
//!         .flags(std::env::args().skip(1))
//!         .build()?
//!         .run()
//!         .await
//! }
//! ```
//!
//! See the [README](https://github.com/micro-rs/micro) for the `micro` command, the
//! configuration variables and the examples.

#[doc(inline)]
pub use micro_runtime::*;

/// Protobuf support, re-exported for generated code and hand-written messages.
pub use prost;
/// Serde, re-exported for generated code and hand-written messages.
pub use serde;

/// Install a log subscriber for a binary, filtered by `MICRO_LOG_LEVEL` (default `info`).
///
/// Libraries never call this; binaries call it once at start. It does nothing if a
/// subscriber is already installed.
pub fn init_logging() {
    let filter = std::env::var("MICRO_LOG_LEVEL").unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Include the code `micro-gen` generated for a protobuf package in build.rs:
/// `mod pb { micro::include_proto!("greeter"); }`.
///
/// The package name is the one in the `.proto` file (`acme.greeter.v1`); a file without a
/// package generates `_`.
#[macro_export]
macro_rules! include_proto {
    ($package:literal) => {
        ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/",
            $package,
            ".rs"
        ));
    };
}
