//! The hygienic expansion also works.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hygiene::{EchoClient, EchoServer, Impl, Msg};
use renamed::registry::MemoryRegistry;

#[tokio::test]
async fn serve_and_call() {
    let registry = MemoryRegistry::new();
    let _svc = renamed::Service::builder("echo")
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .handler(EchoServer::new(Impl))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = EchoClient::new("echo", renamed::Client::new(Arc::new(registry)));
    let msg = Msg { text: "hi".into() };
    assert_eq!(client.echo(msg.clone()).await.unwrap(), msg);
    let mut many = client.many(msg.clone()).await.unwrap();
    assert_eq!(many.recv().await.unwrap().unwrap(), msg);
    assert_eq!(many.recv().await.unwrap().unwrap(), msg);
    assert!(many.recv().await.unwrap().is_none());
    let mut gather = client.gather().await.unwrap();
    gather.send(&msg).await.unwrap();
    gather.send(&msg).await.unwrap();
    assert_eq!(gather.finish().await.unwrap().text, "hihi");
}
