//! The macro front door's contract: a request type deriving `garde::Validate` is checked
//! before the handler (INVALID_ARGUMENT with every violation, its rules in the registry's
//! schema), and `#[micro::error_set]` errors keep their reason over the wire.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use micro::registry::{MemoryRegistry, Registry as _};
use micro::{Client, Code, Context, Result, Service};

#[micro::message]
#[derive(Debug, garde::Validate)]
pub struct Signup {
    #[garde(email)]
    pub email: String,
    #[garde(length(min = 1, max = 64))]
    pub name: String,
}

#[micro::message]
#[derive(Debug)]
pub struct Reply {
    pub id: u32,
}

#[micro::error_set(default = 500)]
#[derive(Debug, PartialEq)]
pub enum SignupError {
    #[code(409)]
    EmailTaken,
}

#[micro::service]
pub trait Accounts {
    async fn signup(&self, ctx: Context, req: Signup) -> Result<Reply>;
}

static CALLS: AtomicUsize = AtomicUsize::new(0);

struct Handler;

impl Accounts for Handler {
    async fn signup(&self, _ctx: Context, req: Signup) -> Result<Reply> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        if req.email == "taken@example.com" {
            return Err(SignupError::EmailTaken.error("taken"));
        }
        Ok(Reply { id: 1 })
    }
}

#[tokio::test]
async fn garde_rules_run_before_the_handler_and_error_sets_cross_the_wire() {
    let registry = MemoryRegistry::new();
    let _svc = Service::builder("accounts")
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .handler(AccountsServer::new(Handler))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = AccountsClient::new("accounts", Client::new(Arc::new(registry.clone())));

    let err = client
        .signup(Signup {
            email: "nope".into(),
            name: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::InvalidArgument, "{err:#?}");
    let fields: Vec<&str> = err.violations().iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["email", "name"]);
    assert_eq!(CALLS.load(Ordering::SeqCst), 0, "the handler never ran");

    let taken = client
        .signup(Signup {
            email: "taken@example.com".into(),
            name: "T".into(),
        })
        .await
        .unwrap_err();
    assert!(SignupError::EmailTaken.is(&taken), "{taken:#?}");
    assert_eq!(taken.code(), 409);

    let ok = client
        .signup(Signup {
            email: "a@example.com".into(),
            name: "A".into(),
        })
        .await
        .unwrap();
    assert_eq!(ok.id, 1);

    // The rules are in the registry, where OpenAPI, MCP and the dashboard read them.
    let services = registry.get_service("accounts").await.unwrap();
    let endpoint = services[0]
        .endpoints
        .iter()
        .find(|e| e.name == "Accounts.Signup")
        .unwrap();
    let request = endpoint.request.as_ref().unwrap();
    let name = request.values.iter().find(|v| v.name == "name").unwrap();
    assert_eq!(name.constraints.min_length, Some(1));
    assert_eq!(name.constraints.max_length, Some(64));
    let email = request.values.iter().find(|v| v.name == "email").unwrap();
    assert_eq!(email.constraints.format.as_deref(), Some("email"));
}
