//! Auth on a running service (`MICRO_AUTH=jwt`): tokens and rules checked before the
//! handler and before the body, the caller's account in the handler's context, rules
//! reloaded from the store, and a service calling another with its own token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use micro_runtime::auth::{Access, Account, Auth, Directory, Jwt, Resource, Rule};
use micro_runtime::client::{CallOptions, ClientOptions};
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Client, Context, Error, RunningService, Service};

use crate::support::{self, Echo};

struct Fleet {
    _home: tempfile::TempDir,
    home: String,
    private_key: String,
    jwt: Jwt,
    registry: MemoryRegistry,
}

impl Fleet {
    fn new() -> Fleet {
        let home = tempfile::tempdir().unwrap();
        let (private_key, _) = micro_runtime::auth::generate_ed25519().unwrap();
        Fleet {
            home: home.path().display().to_string(),
            _home: home,
            jwt: Jwt::signing(&private_key, "micro", "micro").unwrap(),
            private_key,
            registry: MemoryRegistry::new(),
        }
    }

    /// A service `name` with auth on, sharing the fleet's store (`extra`: more flags).
    fn service(&self, name: &str, extra: &[&str]) -> Service {
        self.builder(name, extra).build().expect("build")
    }

    fn builder(&self, name: &str, extra: &[&str]) -> micro_runtime::ServiceBuilder {
        let mut flags = vec![
            "--transport",
            crate::SERVER_TRANSPORT,
            "--home",
            &self.home,
            "--auth",
            "jwt",
            "--auth_private_key",
            &self.private_key,
        ];
        flags.extend_from_slice(extra);
        support::builder(&self.registry, name)
            .flags(flags)
            .shutdown_delay(Duration::ZERO)
    }

    fn directory(&self, service: &Service) -> Directory {
        Directory::new(service.store().engine().clone()).unwrap()
    }

    fn token(&self, id: &str, scopes: &[&str]) -> String {
        let token = self
            .jwt
            .issue(
                &Account::new(id, scopes.iter().copied()),
                Duration::from_secs(300),
            )
            .unwrap();
        format!("Bearer {}", token.access_token)
    }

    fn client(&self) -> Client {
        let mut options: ClientOptions = support::options();
        options.max_send_message_size = 8 << 20;
        Client::with_options(Arc::new(self.registry.clone()), options)
    }
}

fn rule(id: &str, scope: &str, endpoint: &str, access: Access, priority: i32) -> Rule {
    Rule {
        id: id.into(),
        scope: scope.into(),
        resource: Resource::endpoint("echo", endpoint),
        access,
        priority,
    }
}

/// `Who.Am` answers the caller's account id (or `anonymous`) and the account metadata the
/// handler got.
fn who_router() -> Router {
    Router::new().route(Route::unary(
        "Who.Am",
        |ctx: Context, _req: Echo| async move {
            Ok(Echo {
                text: ctx.account().map_or("anonymous".into(), |a| a.id.clone()),
                node: ctx.metadata().get("micro-account").unwrap_or("").to_owned(),
                ..Echo::default()
            })
        },
    ))
}

async fn call(client: &Client, endpoint: &str, auth: Option<&str>) -> Result<Echo, Error> {
    let mut opts = CallOptions::new();
    if let Some(auth) = auth {
        opts = opts.metadata("authorization", auth);
    }
    client
        .call_with(&Context::new(), "echo", endpoint, &Echo::text("hi"), &opts)
        .await
}

/// `Front.Relay` calls `echo`'s `Who.Am` with `client` (a service's own).
fn relay_router(client: Client) -> Router {
    Router::new().route(Route::unary(
        "Front.Relay",
        move |_ctx: Context, req: Echo| {
            let client = client.clone();
            async move { client.call::<_, Echo>("echo", "Who.Am", &req).await }
        },
    ))
}

/// Call `front`'s `Front.Relay` with `authorization`.
async fn relay(fleet: &Fleet, authorization: &str) -> Echo {
    let opts = CallOptions::new().metadata("authorization", authorization);
    fleet
        .client()
        .call_with(
            &Context::new(),
            "front",
            "Front.Relay",
            &Echo::text("x"),
            &opts,
        )
        .await
        .unwrap()
}

async fn start(service: Service, router: Router) -> RunningService {
    service.handler(router).start().await.expect("start")
}

#[tokio::test]
async fn calls_need_a_token_and_a_rule() {
    let fleet = Fleet::new();
    let service = fleet.service("echo", &[]);
    let directory = fleet.directory(&service);
    directory
        .grant(&rule("who-public", "", "Who.Am", Access::Granted, 0))
        .await
        .unwrap();
    directory
        .grant(&rule("staff", "staff", "Echo.*", Access::Granted, 0))
        .await
        .unwrap();
    // The first rule brought the default one along: delete it to deny by default.
    assert!(directory.revoke("default").await.unwrap());
    let calls = support::Counter::default();
    let router = support::echo_router("a", calls.clone()).merge(who_router());
    let _node = start(service, router).await;
    let client = fleet.client();

    // Public: anonymous callers get in, and the handler sees no account.
    let rsp = call(&client, "Who.Am", None).await.unwrap();
    assert_eq!((rsp.text.as_str(), rsp.node.as_str()), ("anonymous", ""));
    // A forged account header is dropped: the handler sees the verified one only.
    let opts = CallOptions::new().metadata("micro-account", r#"{"id":"root","scopes":["admin"]}"#);
    let rsp: Echo = client
        .call_with(&Context::new(), "echo", "Who.Am", &Echo::text("hi"), &opts)
        .await
        .unwrap();
    assert_eq!((rsp.text.as_str(), rsp.node.as_str()), ("anonymous", ""));
    let staff = fleet.token("ada", &["staff"]);
    let rsp = call(&client, "Who.Am", Some(&staff)).await.unwrap();
    assert_eq!(rsp.text, "ada");
    let seen: serde_json::Value = serde_json::from_str(&rsp.node).unwrap();
    assert_eq!(seen["id"], "ada");
    assert_eq!(seen["scopes"], serde_json::json!(["staff"]));

    // Anonymous where a scope is needed: 401; an account without it: 403; with it: in.
    let err = call(&client, "Echo.Call", None).await.unwrap_err();
    assert_eq!(err.code(), 401, "{err}");
    assert!(err.detail().contains("Bearer"), "{err}");
    let err = call(&client, "Echo.Call", Some(&fleet.token("bob", &["intern"])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), 403, "{err}");
    assert!(err.detail().contains("no rule grants it"), "{err}");
    assert_eq!(
        call(&client, "Echo.Call", Some(&staff)).await.unwrap().text,
        "hi"
    );
    // A bad token is refused even where the endpoint is public.
    for bad in [
        "Bearer nope",
        "Basic YWRhOnB3",
        &staff.replace("Bearer ", "Bearer x"),
    ] {
        let err = call(&client, "Who.Am", Some(bad)).await.unwrap_err();
        assert_eq!(err.code(), 401, "{bad}: {err}");
    }
    // Only the one granted call ran a handler.
    assert_eq!(calls.get(), 1);

    // Rules are reloaded from the store: a deny with a higher priority takes over.
    directory
        .grant(&rule("freeze", "*", "Echo.Call", Access::Denied, 10))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match call(&client, "Echo.Call", Some(&staff)).await {
            Err(e) if e.code() == 403 => {
                assert!(e.detail().contains("\"freeze\""), "{e}");
                break;
            }
            other => assert!(
                Instant::now() < deadline,
                "the new rule never applied: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_refused_call_is_answered_before_its_body_is_read() {
    let fleet = Fleet::new();
    let service = fleet
        .builder("echo", &[])
        .max_message_size(1 << 20)
        .build()
        .unwrap();
    let calls = support::Counter::default();
    let _node = start(service, support::echo_router("a", calls.clone())).await;
    let client = fleet.client();
    // 4 MiB against a server that reads at most 1 MiB: refusing the caller comes first.
    let big = Echo {
        payload: vec![7; 4 << 20],
        ..Echo::text("big")
    };
    let err = client
        .call_with::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Call",
            &big,
            &CallOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), 401, "{err}");
    assert_eq!(calls.get(), 0);
}

#[tokio::test]
async fn health_checks_need_no_token() {
    use micro_runtime::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
    let fleet = Fleet::new();
    let node = start(fleet.service("echo", &[]), who_router()).await;
    let opts = CallOptions::new()
        .address(node.node().address.clone())
        .package(PACKAGE);
    let rsp: HealthCheckResponse = fleet
        .client()
        .call_with(
            &Context::new(),
            "echo",
            "Health.Check",
            &HealthCheckRequest::default(),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(rsp.status(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_service_calls_others_with_its_own_token() {
    let fleet = Fleet::new();
    // B serves Who.Am to accounts with the `internal` scope only.
    let b = fleet.service("echo", &[]);
    let directory = fleet.directory(&b);
    directory
        .grant(&rule("internal", "internal", "*", Access::Granted, 0))
        .await
        .unwrap();
    directory.revoke("default").await.unwrap();
    let mut front = Account::new("front", ["internal"]);
    front.kind = "service".into();
    directory
        .create_account(&front, "front-secret-1")
        .await
        .unwrap();
    let _b = start(b, who_router()).await;

    // A (another service name, so the rules of `echo` do not cover it) relays to B.
    let a = fleet.service(
        "front",
        &["--auth_id", "front", "--auth_secret", "front-secret-1"],
    );
    directory
        .grant(&Rule {
            resource: Resource::endpoint("front", "*"),
            ..rule("front-public", "", "*", Access::Granted, 0)
        })
        .await
        .unwrap();
    let router = relay_router(a.client());
    let _a = start(a, router).await;

    // The caller's own token stays on its hop: B sees A's account, not the caller's.
    let rsp = relay(&fleet, &fleet.token("ada", &["internal"])).await;
    assert_eq!(rsp.text, "front");

    // A wrong secret stops a service from starting, with a reason.
    let err = fleet
        .service(
            "front",
            &["--auth_id", "front", "--auth_secret", "wrong-secret"],
        )
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.code(), 401, "{err}");
    assert!(err.detail().contains("MICRO_AUTH_ID \"front\""), "{err}");
}

#[tokio::test]
async fn a_token_shared_by_caller_and_service_still_goes_on() {
    let fleet = Fleet::new();
    // One token for everyone (as a shared MICRO_AUTH_TOKEN gives): the service's own token
    // equals the one it received, and must still go with its calls.
    let shared = fleet.token("fleet", &[]);
    let b = fleet.service("echo", &[]);
    let _b = start(b, who_router()).await;
    let raw = shared.trim_start_matches("Bearer ");
    let a = fleet.service("front", &["--auth_token", raw]);
    let router = relay_router(a.client());
    let _a = start(a, router).await;
    let rsp = relay(&fleet, &shared).await;
    assert_eq!(rsp.text, "fleet");
}

#[tokio::test]
async fn deleting_every_rule_refuses_every_call() {
    let fleet = Fleet::new();
    let service = fleet.service("echo", &[]);
    let directory = fleet.directory(&service);
    directory
        .grant(&rule("who", "*", "Who.Am", Access::Granted, 0))
        .await
        .unwrap();
    directory.revoke("default").await.unwrap();
    directory.revoke("who").await.unwrap();
    assert!(directory.effective_rules().await.unwrap().is_empty());
    let _node = start(service, who_router()).await;
    let err = call(
        &fleet.client(),
        "Who.Am",
        Some(&fleet.token("ada", &["admin"])),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), 403, "{err}");
}

#[tokio::test]
async fn bad_auth_settings_are_refused_at_build() {
    let registry = MemoryRegistry::new();
    let build = |flags: &[&str]| {
        let mut all = vec!["--transport", crate::SERVER_TRANSPORT];
        all.extend_from_slice(flags);
        support::builder(&registry, "echo")
            .flags(all)
            .build()
            .unwrap_err()
    };
    let err = build(&["--auth", "jwt"]);
    assert!(err.detail().contains("MICRO_AUTH_PUBLIC_KEY"), "{err}");
    let err = build(&["--auth", "oauth"]);
    assert!(err.detail().contains("noop and jwt"), "{err}");
    let (_, public) = micro_runtime::auth::generate_ed25519().unwrap();
    let err = build(&[
        "--auth",
        "jwt",
        "--auth_public_key",
        &public,
        "--auth_id",
        "a",
        "--auth_secret",
        "bbbbbbbb",
    ]);
    assert!(err.detail().contains("MICRO_AUTH_PRIVATE_KEY"), "{err}");
    let (private, _) = micro_runtime::auth::generate_ed25519().unwrap();
    let err = build(&[
        "--auth",
        "jwt",
        "--auth_public_key",
        &public,
        "--auth_private_key",
        &private,
    ]);
    assert!(err.detail().contains("not the public half"), "{err}");
}
