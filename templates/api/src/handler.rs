//! The {{ svc }} endpoints.

use micro::{Context, Result, error};

use crate::pb::{{ svc_snake }}_server::{{ svc }};
use crate::pb::{HelloRequest, Request, Response};

/// Implements the `{{ svc }}` service of the proto file.
#[derive(Debug, Default)]
pub struct Handler;

impl {{ svc }} for Handler {
    async fn call(&self, _ctx: Context, request: Request) -> Result<Response> {
        // An empty or too long name never gets here: the rules of `Request` in the proto
        // are checked first, and the caller gets INVALID_ARGUMENT naming the field.
        if request.name == "nobody" {
            return Err(crate::pb::error_name_blocked(format!(
                "{} may not be greeted",
                request.name
            )));
        }
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
    async fn a_blocked_name_is_a_typed_error() {
        let err = Handler
            .call(Context::new(), Request { name: "nobody".into() })
            .await
            .unwrap_err();
        assert!(crate::pb::is_name_blocked(&err));
        assert_eq!(err.code(), 403);
    }

    #[test]
    fn requests_are_validated_by_the_rules_of_the_proto() {
        use micro::validate::Validate as _;
        let err = Request::default().validate().unwrap_err();
        assert_eq!(err.violations()[0].field, "name");
        assert_eq!(err.violations()[0].rule, "string.min_len");
        assert!(Request { name: "John".into() }.validate().is_ok());
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
