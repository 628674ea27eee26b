//! The greeter example, generated from `proto/greeter.proto`.
//!
//! `build.rs` runs `micro_gen::compile_protos`; [`pb`] includes the result: the messages,
//! `greeter_client::GreeterClient` and `greeter_server::{Greeter, GreeterServer}`. This crate
//! implements the handler ([`GreeterHandler`]); the binaries serve and call it.

use std::time::Duration;

use micro::stream::StreamSender;
use micro::{Context, Error, Result};

/// The generated code for package `greeter`.
pub mod pb {
    micro::include_proto!("greeter");
}

pub use pb::greeter_client::GreeterClient;
pub use pb::greeter_server::{Greeter, GreeterServer};
pub use pb::{HelloRequest, HelloResponse, StreamRequest, StreamResponse};

/// The registry name of the service.
pub const SERVICE: &str = "greeter";

/// The most greetings one `Stream` call sends.
pub const MAX_STREAM: i64 = 10_000;

/// The greeter's handler. `delay` simulates work in each `Hello` (zero for none), which makes
/// graceful draining visible.
#[derive(Debug, Default)]
pub struct GreeterHandler {
    /// Time spent in each `Hello`.
    pub delay: Duration,
}

impl Greeter for GreeterHandler {
    async fn hello(&self, _ctx: Context, request: HelloRequest) -> Result<HelloResponse> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(HelloResponse {
            msg: format!("Hello {}", request.name),
        })
    }

    async fn stream(
        &self,
        _ctx: Context,
        request: StreamRequest,
        responses: StreamSender<StreamResponse>,
    ) -> Result<()> {
        if !(0..=MAX_STREAM).contains(&request.count) {
            return Err(Error::bad_request(
                SERVICE,
                format!(
                    "count must be between 0 and {MAX_STREAM}, not {}",
                    request.count
                ),
            ));
        }
        for i in 1..=request.count {
            responses
                .send(&StreamResponse {
                    msg: format!("Hello {} #{i}", request.name),
                    count: i,
                })
                .await?;
        }
        Ok(())
    }
}
