//! The HelloWorld endpoints.

use micro::stream::StreamSender;
use micro::{Context, Result, error};

use crate::pb::hello_world_server::HelloWorld;
use crate::pb::{Request, Response, StreamRequest, StreamResponse};

/// The most responses one `Stream` call sends.
pub const MAX_STREAM: i64 = 10_000;

/// Implements the `HelloWorld` service of the proto file.
#[derive(Debug, Default)]
pub struct Handler;

impl HelloWorld for Handler {
    async fn call(&self, _ctx: Context, request: Request) -> Result<Response> {
        Ok(Response {
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
            return Err(error::bad_request(format!(
                "count must be between 0 and {MAX_STREAM}"
            )));
        }
        for count in 1..=request.count {
            responses.send(&StreamResponse { count }).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
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
        let (tx, mut rx) = micro::stream::channel(8);
        let sent = tokio::spawn(async move {
            Handler
                .stream(Context::new(), StreamRequest { count: 3 }, tx)
                .await
        });
        let mut counts = Vec::new();
        while let Some(response) = rx.recv().await.unwrap() {
            counts.push(response.count);
        }
        sent.await.unwrap().unwrap();
        assert_eq!(counts, [1, 2, 3]);
    }

    #[tokio::test]
    async fn stream_refuses_a_negative_count() {
        let (tx, _rx) = micro::stream::channel(1);
        let err = Handler
            .stream(Context::new(), StreamRequest { count: -1 }, tx)
            .await
            .unwrap_err();
        assert_eq!(err.code(), 400);
    }
}
