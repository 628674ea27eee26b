//! The gateway with auth on: callers' tokens and the rules are checked before a call leaves
//! and before its body is read (401 with `WWW-Authenticate`, 403), the token goes on, and a
//! forged identity header from outside never reaches a service. The shop runs with auth off,
//! so every refusal and every stripped header here is the gateway's doing.

use std::sync::Arc;
use std::time::Duration;

use gateway_tests::*;
use micro::auth::{Access, Account, Auth as _, Directory, Gate, Jwt, Resource, Rule};
use micro_gateway::{HandlerKind, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    let (private_key, _) = micro::auth::generate_ed25519().expect("keys");
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let directory = Directory::new(Arc::new(micro::store::MemoryStore::new())).expect("directory");
    directory
        .grant(&rule("headers-public", "", "Shop.Headers"))
        .await
        .expect("grant");
    directory
        .grant(&rule("staff", "staff", "*"))
        .await
        .expect("grant");
    directory.revoke("default").await.expect("revoke");
    let jwt = Arc::new(Jwt::signing(&private_key, "micro", "micro").expect("jwt"));
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

    // Public, anonymous, with a forged identity: it never reaches the service.
    let a = send("POST", &gw.url("/shop/headers"), &[json, forged], "{}").await;
    assert_eq!(a.status, 200, "{}", a.body);
    // (An empty text is left out of the JSON, as proto3 JSON does.)
    assert_eq!(a.json()["text"].as_str().unwrap_or(""), "", "{}", a.body);

    // Signed in: the token goes on (for the service to check), the forged identity not.
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
    assert_eq!(text, format!("authorization={staff}"));

    // Not public: 401 with a challenge for no token, 401 for a bad one, 403 without the
    // scope, 200 with it; refusals come from the gateway (micro.auth), not the shop.
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
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no rule grants it"),
        "{}",
        a.body
    );
    let a = send("POST", &nap, &[json, ("authorization", &staff)], body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["text"], "awake");
    // Two Authorization headers: which one counts would be a guess.
    let a = send(
        "POST",
        &nap,
        &[
            json,
            ("authorization", &staff),
            ("authorization", "Bearer x"),
        ],
        body,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);

    // An anonymous caller announcing 5 MiB and sending none of it: answered for who it is,
    // without waiting for (or reading) the body.
    let mut tcp = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /shop/nap HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        5 << 20
    );
    tcp.write_all(head.as_bytes()).await.expect("send the head");
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut answer))
        .await
        .expect("an answer before any body byte")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // /rpc names the endpoint in its body: the same check on the final endpoint.
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
    assert_eq!(a.json()["id"], "micro.auth", "{}", a.body);

    // Handlers that name no endpoint a rule could cover are closed while auth is on.
    let mut http = gw.gateway.options().clone();
    http.handler = HandlerKind::Http;
    let http_gw = start_gateway(&registry, http).await;
    let a = send(
        "GET",
        &http_gw.url("/shop/anything"),
        &[("authorization", &staff)],
        "",
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("does not check auth yet"), "{}", a.body);
}
