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

/// Schemars, re-exported so `#[derive(micro::JsonSchema)]` needs no dependency (with
/// `#[schemars(crate = "micro::schemars")]`; [`message`] writes both for you).
pub use micro_runtime::codegen::schemars;
/// The `JsonSchema` trait and derive: message types of `#[micro::service]` traits publish
/// their shape in the registry through it.
pub use micro_runtime::codegen::schemars::JsonSchema;
/// Protobuf support, re-exported for generated code and hand-written messages.
pub use prost;
/// Serde, re-exported for generated code and hand-written messages.
pub use serde;
/// Logging macros (`micro::tracing::info!` ...), printed by [`init_logging`].
pub use tracing;

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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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

/// Turn a trait of async methods into a micro service: a typed client, a server for
/// [`Service::builder`]`(..).handler(..)`, and registry metadata — no `.proto` needed.
///
/// ```
/// use micro::stream::{StreamReceiver, StreamSender};
///
/// #[micro::message]
/// pub struct AddRequest { pub a: i64, pub b: i64 }
/// #[micro::message]
/// pub struct AddResponse { pub sum: i64 }
///
/// /// A calculator.
/// #[micro::service]
/// pub trait Calculator {
///     /// Adds two numbers.
///     #[micro(idempotent, timeout = "5s")]
///     async fn add(&self, ctx: micro::Context, req: AddRequest) -> micro::Result<AddResponse>;
///
///     /// Sums a stream of numbers.
///     async fn sum(&self, ctx: micro::Context, numbers: StreamReceiver<AddRequest>) -> micro::Result<AddResponse>;
///
///     /// Counts up to `a`.
///     #[micro(name = "CountUp")]
///     async fn count(&self, ctx: micro::Context, req: AddRequest, out: StreamSender<AddResponse>) -> micro::Result<()>;
/// }
///
/// struct Calc;
///
/// impl Calculator for Calc {
///     async fn add(&self, _ctx: micro::Context, req: AddRequest) -> micro::Result<AddResponse> {
///         Ok(AddResponse { sum: req.a + req.b })
///     }
///
///     async fn sum(&self, _ctx: micro::Context, mut numbers: StreamReceiver<AddRequest>) -> micro::Result<AddResponse> {
///         let mut sum = 0;
///         while let Some(n) = numbers.recv().await? {
///             sum += n.a + n.b;
///         }
///         Ok(AddResponse { sum })
///     }
///
///     async fn count(&self, _ctx: micro::Context, req: AddRequest, out: StreamSender<AddResponse>) -> micro::Result<()> {
///         for sum in 1..=req.a {
///             out.send(&AddResponse { sum }).await?;
///         }
///         Ok(())
///     }
/// }
///
/// // Serve it:  micro::Service::builder("calculator").handler(CalculatorServer::new(Calc))
/// // Call it:   CalculatorClient::new("calculator", client).add(AddRequest { a: 1, b: 2 }).await?
/// let _server = CalculatorServer::new(Calc);
/// ```
///
/// Endpoints are named `Trait.Method` with the method in UpperCamel (`Calculator.Add`,
/// `Calculator.Sum`, `Calculator.CountUp` above).
///
/// | Option | Where | Meaning |
/// |---|---|---|
/// | `name = "Calc"` | `#[micro::service(..)]` | the service half of endpoint names |
/// | `codec = "msgpack"` | `#[micro::service(..)]` | clients send MessagePack (default `"json"`); servers accept both |
/// | `crate = "::my_micro"` | `#[micro::service(..)]` | the path of this crate when it is renamed |
/// | `name = "Add"` | `#[micro(..)]` on a method | the method half of the endpoint name |
/// | `idempotent` | `#[micro(..)]` on a method | clients may retry the call on another node |
/// | `timeout = "5s"` | `#[micro(..)]` on a method | the server's cap and the client's default deadline |
///
/// Message types need `serde::Serialize`, `serde::Deserialize` and `schemars::JsonSchema`
/// (their fields are published in the registry, where `micro describe`, the gateway's
/// OpenAPI and MCP read them): [`message`] derives all three through this crate. A type
/// without a schema is a compile error that says so. The generated `<Trait>Client` also implements the trait, so
/// code written against the trait takes the client in production and a plain implementation
/// in tests (with [`stream::serde_channel`] for the streams).
pub use micro_macros::service;

/// A Rust enum of unit variants as a typed error set, as an enum with
/// `(micro.errors.default_code)` is in a `.proto`: each variant an error with its own
/// HTTP-style code (`#[code(404)]`, else the set's `default`) and its name in
/// SCREAMING_SNAKE_CASE as the reason, which travels with the error over every hop (as
/// `google.rpc.ErrorInfo` for stock gRPC clients).
///
/// ```
/// #[micro::error_set(default = 500)]
/// #[derive(Debug, PartialEq)]
/// pub enum OrderError {
///     /// No order has that id.
///     #[code(404)]
///     OrderNotFound,
///     #[code(409)]
///     AlreadyPaid,
///     StorageFailed,
/// }
///
/// let err = OrderError::OrderNotFound.error("no order 7");
/// assert_eq!((err.code(), err.reason()), (404, Some("ORDER_NOT_FOUND")));
/// assert!(OrderError::OrderNotFound.is(&err));
/// assert_eq!(OrderError::of(&err), Some(&OrderError::OrderNotFound));
/// assert_eq!(OrderError::StorageFailed.code(), 500);
/// // The caller's side: the reason survives the wire.
/// assert!(OrderError::OrderNotFound.is(&micro::Error::parse(&err.to_json())));
/// ```
pub use micro_macros::error_set;

/// Derive what a message type of a [`service`](macro@service) trait needs — `Serialize`, `Deserialize` and
/// `JsonSchema` — through this crate, so a project needs no serde or schemars dependency.
///
/// ```
/// /// One line of an order.
/// #[micro::message]
/// #[derive(Clone, Debug, PartialEq)]
/// pub struct Line {
///     pub sku: String,
///     pub qty: u32,
/// }
///
/// #[micro::message]
/// pub enum Size { Small, Large }
///
/// let line: Line = serde_json::from_str(r#"{"sku":"a","qty":2}"#).unwrap();
/// assert_eq!(line.qty, 2);
/// ```
///
/// `#[micro::message(crate = "::my_micro")]` when the crate is renamed.
pub use micro_macros::message;
