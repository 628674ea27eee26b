//! The HelloWorld endpoints.

use micro::{Context, Result, error};

use crate::pb::hello_world_server::HelloWorld;
use crate::pb::{HelloRequest, Request, Response};

/// Implements the `HelloWorld` service of the proto file.
#[derive(Debug, Default)]
pub struct Handler;

impl HelloWorld for Handler {
    async fn call(&self, _ctx: Context, request: Request) -> Result<Response> {
        Ok(Response {
            msg: format!("Hello {}", request.name),
        })
    }

    async fn hello(&self, _ctx: Context, request: HelloRequest) -> Result<Response> {
        if request.name.is_empty() {
            return Err(error::bad_request("the path needs a name"));
        }
        Ok(Response {
            msg: format!("Hello {}", request.name),
        })
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
    async fn hello_needs_a_name() {
        let err = Handler
            .hello(Context::new(), HelloRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), 400);
    }
}
