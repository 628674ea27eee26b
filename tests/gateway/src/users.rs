//! The contract fixture (`proto/users/v1/users.proto`): typed errors from proto enums
//! (micro's options and Kratos's) and protovalidate rules, served for the tests.

use std::time::Duration;

use micro::registry::SharedRegistry;
use micro::{Context, Result, RunningService, Service};

/// The generated code for package `users.v1`.
pub mod pb {
    micro::include_proto!("users.v1");
}

use pb::users_server::{Users, UsersServer};
use pb::{CreateRequest, GetRequest, User};

/// The registry name of the users service.
pub const SERVICE: &str = "users";

/// Users: id `7` exists; `locked` is a Kratos-style error; `taken@example.com` is taken.
#[derive(Debug, Default)]
pub struct UsersHandler;

impl Users for UsersHandler {
    async fn create(&self, _ctx: Context, req: CreateRequest) -> Result<User> {
        if req.email == "taken@example.com" {
            return Err(pb::error_email_taken(format!("{} is taken", req.email))
                .with_metadata("email", req.email));
        }
        Ok(User {
            id: "8".into(),
            name: req.name,
            email: req.email,
        })
    }

    async fn get(&self, _ctx: Context, req: GetRequest) -> Result<User> {
        match req.id.as_str() {
            "7" => Ok(User {
                id: "7".into(),
                name: "Ada".into(),
                email: "ada@example.com".into(),
            }),
            "locked" => Err(pb::AccountReason::AccountLocked.error("the account is locked")),
            id => Err(pb::error_user_not_found(format!("no user {id}")).with_metadata("id", id)),
        }
    }
}

/// Start a node of the users service on 127.0.0.1:0.
pub async fn start_users(registry: &SharedRegistry) -> RunningService {
    Service::builder(SERVICE)
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .handler(UsersServer::new(UsersHandler))
        .build()
        .expect("build the users service")
        .start()
        .await
        .expect("start the users service")
}

/// The conformance fixture (`proto/conformance/v1/cases.proto`): one field per standard rule.
pub mod conformance {
    micro::include_proto!("conformance.v1");
}
