//! The greeter example: `Greeter.Hello` takes `{"name": ...}` and answers
//! `{"msg": "Hello <name>"}`.
//!
//! It is written with micro's low-level handler API (typed async closures); the messages are
//! plain Rust structs that speak protobuf (prost) and JSON (serde), so the endpoint answers
//! stock gRPC clients and `micro call` alike.

use std::time::Duration;

use micro::registry::Value;
use micro::server::{Route, Router};

/// The request of `Greeter.Hello`.
#[derive(
    Clone, PartialEq, micro::prost::Message, micro::serde::Serialize, micro::serde::Deserialize,
)]
#[prost(prost_path = "::micro::prost")]
#[serde(crate = "micro::serde", default)]
pub struct HelloRequest {
    /// Who to greet.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// The response of `Greeter.Hello`.
#[derive(
    Clone, PartialEq, micro::prost::Message, micro::serde::Serialize, micro::serde::Deserialize,
)]
#[prost(prost_path = "::micro::prost")]
#[serde(crate = "micro::serde", default)]
pub struct HelloResponse {
    /// The greeting.
    #[prost(string, tag = "1")]
    pub msg: String,
}

impl micro::codec::ProstSerde for HelloRequest {}
impl micro::codec::ProstSerde for HelloResponse {}

/// The registry name of the service.
pub const SERVICE: &str = "greeter";

/// The protobuf package, so stock gRPC clients call `/greeter.Greeter/Hello`.
pub const PACKAGE: &str = "greeter";

/// The greeter's endpoints. `delay` simulates work in each call (zero for none), which makes
/// graceful draining visible.
pub fn router(delay: Duration) -> Router {
    let hello = Route::unary("Greeter.Hello", move |_ctx, req: HelloRequest| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(HelloResponse {
            msg: format!("Hello {}", req.name),
        })
    })
    .package(PACKAGE)
    // Greeting twice does no harm, so callers may retry on another node.
    .idempotent()
    .request(Value::new("HelloRequest", "HelloRequest").with_field(Value::new("name", "string")))
    .response(Value::new("HelloResponse", "HelloResponse").with_field(Value::new("msg", "string")));
    Router::new().route(hello)
}
