//! The gateway with auth on: callers' tokens and the rules are checked before a call leaves
//! (401 with `WWW-Authenticate`, 403), the token goes on for the service to check again, and
//! a forged identity header from outside never reaches a service.

use std::time::Duration;

use gateway_tests::*;
use micro::auth::{Access, Account, Auth as _, Directory, Gate, Jwt, Resource, Rule};
use micro::{RunningService, Service};
use micro_gateway::Options;

fn rule(id: &str, scope: &str, endpoint: &str) -> Rule {
    Rule {
        id: id.into(),
        scope: scope.into(),
        resource: Resource::endpoint(SERVICE, endpoint),
        access: Access::Granted,
        priority: 0,
    }
}

#[tokio::test]
async fn tokens_and_rules_are_checked_at_the_gateway_and_identity_headers_stripped() {
    let home = tempfile::tempdir().expect("home");
    let home_arg = home.path().display().to_string();
    let (private_key, _) = micro::auth::generate_ed25519().expect("keys");
    let (_, registry) = registry();
    let shop = Service::builder(SERVICE)
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .flags([
            "--home",
            &home_arg,
            "--auth",
            "jwt",
            "--auth_private_key",
            &private_key,
        ])
        .handler(pb::shop_server::ShopServer::new(ShopHandler))
        .build()
        .expect("build the shop");
    let directory = Directory::new(shop.store().engine().clone()).expect("directory");
    directory
        .grant(&rule("headers-public", "", "Shop.Headers"))
        .await
        .expect("grant");
    directory
        .grant(&rule("staff", "staff", "*"))
        .await
        .expect("grant");
    directory.revoke("default").await.expect("revoke");
    let _shop: RunningService = shop.start().await.expect("start the shop");

    let jwt = std::sync::Arc::new(Jwt::signing(&private_key, "micro", "micro").expect("jwt"));
    let (gate, _following) = Gate::load(jwt.clone(), directory).await.expect("gate");
    let mut options = Options::default();
    options.auth = Some(gate);
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Headers").await;
    gw.sees(SERVICE, "Shop.Nap").await;
    let token = |scopes: &[&str]| {
        let t = jwt
            .issue(
                &Account::new("ada", scopes.iter().copied()),
                Duration::from_secs(300),
            )
            .expect("token");
        format!("Bearer {}", t.access_token)
    };
    let json = ("content-type", "application/json");
    let forged = ("micro-account", r#"{"id":"root","scopes":["admin"]}"#);

    // Public, anonymous, with a forged identity: the service sees no identity at all.
    let a = send("POST", &gw.url("/shop/headers"), &[json, forged], "{}").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // (An empty text is left out of the JSON, as proto3 JSON does.)
    assert_eq!(a.json()["text"].as_str().unwrap_or(""), "", "{}", a.body);

    // Public, signed in, forged identity: the service sees the verified account only.
    let staff = token(&["staff"]);
    let a = send(
        "POST",
        &gw.url("/shop/headers"),
        &[json, forged, ("authorization", &staff)],
        "{}",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let text = a.json()["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains("account=ada"), "{text}");
    assert!(text.contains(r#"micro-account={"id":"ada""#), "{text}");
    assert!(!text.contains("root"), "{text}");

    // Not public: 401 with a challenge for no token, 401 for a bad one, 403 without the
    // scope, 200 with it.
    let nap = gw.url("/shop/nap");
    let body = r#"{"millis":"1"}"#;
    let a = send("POST", &nap, &[json], body).await;
    assert_eq!(a.status, 401, "{}", a.body);
    assert_eq!(
        a.headers.get("www-authenticate").map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    assert_eq!(a.json()["id"], "micro.auth", "{}", a.body);
    let a = send(
        "POST",
        &nap,
        &[json, ("authorization", "Bearer forged.token.here")],
        body,
    )
    .await;
    assert_eq!(a.status, 401, "{}", a.body);
    let a = send(
        "POST",
        &nap,
        &[json, ("authorization", &token(&["intern"]))],
        body,
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = send("POST", &nap, &[json, ("authorization", &staff)], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["text"], "awake");

    // /rpc names the endpoint in the body: the same check on the final endpoint.
    let mut rpc = gw.gateway.options().clone();
    rpc.enable_rpc = true;
    let rpc_gw = start_gateway(&registry, rpc).await;
    let a = send(
        "POST",
        &rpc_gw.url("/rpc"),
        &[json],
        r#"{"service":"shop","endpoint":"Shop.Nap","request":{"millis":"1"}}"#,
    )
    .await;
    assert_eq!(a.status, 401, "{}", a.body);
}
