//! The hello-world service, declared as a Rust trait: `#[micro::service]` generates
//! `HelloWorldClient` and `HelloWorldServer`; the endpoints are `HelloWorld.Call` and
//! `HelloWorld.Stream`. Messages are `#[micro::message]` types (serde and JSON on the wire);
//! their fields reach the registry, where `micro describe` and the gateway read them.

use micro::stream::StreamSender;
use micro::{Context, Result};

/// The name the service registers as.
pub const SERVICE: &str = "hello-world";

/// The most responses one `Stream` call sends.
pub const MAX_STREAM: i64 = 10_000;

/// A greeting request.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Who to greet.
    pub name: String,
}

/// A greeting.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// The greeting.
    pub msg: String,
}

/// How many responses to stream.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamRequest {
    /// The number of responses.
    pub count: i64,
}

/// One streamed response.
#[micro::message]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamResponse {
    /// Its position, from 1.
    pub count: i64,
}

/// The hello-world service.
#[micro::service]
pub trait HelloWorld {
    /// Answers with a greeting. Safe to retry.
    #[micro(idempotent)]
    async fn call(&self, ctx: Context, req: Request) -> Result<Response>;

    /// Sends `count` responses.
    async fn stream(
        &self,
        ctx: Context,
        req: StreamRequest,
        responses: StreamSender<StreamResponse>,
    ) -> Result<()>;
}

/// Implements the service (feature `server`, on by default: a project that only calls this
/// service leaves it out).
#[cfg(feature = "server")]
#[derive(Debug, Default)]
pub struct Handler;

#[cfg(feature = "server")]
impl HelloWorld for Handler {
    async fn call(&self, _ctx: Context, req: Request) -> Result<Response> {
        Ok(Response {
            msg: format!("Hello {}", req.name),
        })
    }

    async fn stream(
        &self,
        _ctx: Context,
        req: StreamRequest,
        responses: StreamSender<StreamResponse>,
    ) -> Result<()> {
        if !(0..=MAX_STREAM).contains(&req.count) {
            return Err(micro::error::bad_request(format!(
                "count must be between 0 and {MAX_STREAM}"
            )));
        }
        for count in 1..=req.count {
            responses.send(&StreamResponse { count }).await?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn call_greets() {
        let response = Handler
            .call(Context::new(), Request { name: "John".into() })
            .await
            .unwrap();
        assert_eq!(response.msg, "Hello John");
    }

    #[tokio::test]
    async fn stream_counts() {
        let (tx, mut rx) = micro::stream::serde_channel(8);
        let sent = tokio::spawn(async move {
            Handler
                .stream(Context::new(), StreamRequest { count: 2 }, tx)
                .await
        });
        let mut counts = Vec::new();
        while let Some(response) = rx.recv().await.unwrap() {
            counts.push(response.count);
        }
        sent.await.unwrap().unwrap();
        assert_eq!(counts, [1, 2]);
    }
}
