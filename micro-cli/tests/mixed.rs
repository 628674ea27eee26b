//! A `#[micro::service]` trait service and a `.proto` service in one server: called by their
//! typed clients and by `micro call`, described by `micro describe`.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use example_calculator::{CalculatorClient, CalculatorHandler, CalculatorServer, Operands};
use example_greeter::{GreeterClient, GreeterHandler, GreeterServer, HelloRequest};
use micro::registry::LocalRegistry;
use micro::{Client, Service};

async fn micro(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_micro"));
    cmd.env("MICRO_HOME", home)
        .env_remove("MICRO_REGISTRY")
        .args(args)
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn macro_and_proto_services_side_by_side() {
    let home = tempfile::tempdir().unwrap();
    let registry = Arc::new(LocalRegistry::new(home.path().join("registry")).unwrap());
    let svc = Service::builder("mixed")
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .handler(CalculatorServer::new(CalculatorHandler))
        .handler(GreeterServer::new(GreeterHandler::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();

    // Typed clients.
    let client = Client::new(registry);
    let calc = CalculatorClient::new("mixed", client.clone());
    assert_eq!(
        calc.add(Operands { a: 1.5, b: 2.0 }).await.unwrap().result,
        3.5
    );
    let greeter = GreeterClient::new("mixed", client);
    let hello = greeter
        .hello(HelloRequest {
            name: "John".into(),
        })
        .await
        .unwrap();
    assert_eq!(hello.msg, "Hello John");

    // micro call, with JSON, on both.
    let out = micro(
        home.path(),
        &["call", "mixed", "Calculator.Add", r#"{"a":1,"b":2}"#],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"result\":3.0}\n");
    let out = micro(
        home.path(),
        &["call", "mixed", "Greeter.Hello", r#"{"name":"Jane"}"#],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"msg\":\"Hello Jane\"}\n"
    );
    let out = micro(
        home.path(),
        &["call", "mixed", "Calculator.Divide", r#"{"a":1,"b":0}"#],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot divide by zero (400 Bad Request)"),
        "{err}"
    );
    let out = micro(
        home.path(),
        &["call", "mixed", "Calculator.Add", r#"{"a":"one"}"#],
    )
    .await;
    // Refused before it is sent: the registry knows `a` is a number.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("field \"a\" of Calculator.Add wants a number (double), not \"one\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // micro describe shows the fields of both kinds of service.
    let out = micro(home.path(), &["describe", "mixed", "--output", "json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let endpoints = json[0]["endpoints"].as_array().unwrap();
    let add = endpoints
        .iter()
        .find(|e| e["name"] == "Calculator.Add")
        .unwrap();
    let fields: Vec<&str> = add["request"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["a", "b"]);
    assert_eq!(add["metadata"]["idempotent"], "true");
    let sum = endpoints
        .iter()
        .find(|e| e["name"] == "Calculator.Sum")
        .unwrap();
    assert_eq!(sum["metadata"]["stream"], "client");
    let hello = endpoints
        .iter()
        .find(|e| e["name"] == "Greeter.Hello")
        .unwrap();
    assert_eq!(hello["request"]["values"][0]["name"], "name");
    assert_eq!(hello["metadata"]["grpc_path"], "/greeter.Greeter/Hello");

    svc.stop().await.unwrap();
}
