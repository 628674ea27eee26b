//! The plugin's output runs: a server and a client from protoc's files, from buf's files,
//! and from services-only files next to prost-build's messages.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use micro::registry::MemoryRegistry;
use micro::{Client, Context, Result, Service};

struct Loner;

impl protoc_fixtures::protoc::loner_server::Loner for Loner {
    async fn call(
        &self,
        _ctx: Context,
        request: protoc_fixtures::protoc::Loose,
    ) -> Result<protoc_fixtures::protoc::Loose> {
        Ok(protoc_fixtures::protoc::Loose {
            text: format!("protoc {}", request.text),
        })
    }
}

impl protoc_fixtures::buf::loner_server::Loner for Loner {
    async fn call(
        &self,
        _ctx: Context,
        request: protoc_fixtures::buf::Loose,
    ) -> Result<protoc_fixtures::buf::Loose> {
        Ok(protoc_fixtures::buf::Loose {
            text: format!("buf {}", request.text),
        })
    }
}

struct Greeter;

impl protoc_fixtures::services_only::greeter_server::Greeter for Greeter {
    async fn hello(
        &self,
        _ctx: Context,
        request: protoc_fixtures::services_only::HelloRequest,
    ) -> Result<protoc_fixtures::services_only::HelloResponse> {
        Ok(protoc_fixtures::services_only::HelloResponse {
            msg: format!("Hello {}", request.name),
        })
    }

    async fn stream(
        &self,
        _ctx: Context,
        request: protoc_fixtures::services_only::StreamRequest,
        responses: micro::stream::StreamSender<protoc_fixtures::services_only::StreamResponse>,
    ) -> Result<()> {
        for count in 1..=request.count {
            responses
                .send(&protoc_fixtures::services_only::StreamResponse {
                    msg: request.name.clone(),
                    count,
                })
                .await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn generated_by_protoc_buf_and_services_only_serve_and_call() {
    let registry = MemoryRegistry::new();
    let start = |name: &'static str, handler: micro::server::Router| {
        let registry = registry.clone();
        async move {
            Service::builder(name)
                .ignore_env()
                .registry(Arc::new(registry))
                .address("127.0.0.1:0")
                .handler(handler)
                .build()
                .unwrap()
                .start()
                .await
                .unwrap()
        }
    };
    let _a = start(
        "from-protoc",
        micro::server::Router::new().merge(
            protoc_fixtures::protoc::loner_server::LonerServer::new(Loner),
        ),
    )
    .await;
    let _b = start(
        "from-buf",
        micro::server::Router::new()
            .merge(protoc_fixtures::buf::loner_server::LonerServer::new(Loner)),
    )
    .await;
    let _c = start(
        "greeter",
        micro::server::Router::new()
            .merge(protoc_fixtures::services_only::greeter_server::GreeterServer::new(Greeter)),
    )
    .await;
    let client = Client::new(Arc::new(registry));

    let protoc =
        protoc_fixtures::protoc::loner_client::LonerClient::new("from-protoc", client.clone());
    let rsp = protoc
        .call(protoc_fixtures::protoc::Loose { text: "x".into() })
        .await
        .unwrap();
    assert_eq!(rsp.text, "protoc x");

    let buf = protoc_fixtures::buf::loner_client::LonerClient::new("from-buf", client.clone());
    let rsp = buf
        .call(protoc_fixtures::buf::Loose { text: "y".into() })
        .await
        .unwrap();
    assert_eq!(rsp.text, "buf y");

    let greeter = protoc_fixtures::services_only::greeter_client::GreeterClient::new(
        "greeter",
        client.clone(),
    );
    let rsp = greeter
        .hello(protoc_fixtures::services_only::HelloRequest {
            name: "John".into(),
        })
        .await
        .unwrap();
    assert_eq!(rsp.msg, "Hello John");
    let mut stream = greeter
        .stream(protoc_fixtures::services_only::StreamRequest {
            name: "s".into(),
            count: 3,
        })
        .await
        .unwrap();
    let mut n = 0;
    while let Some(m) = stream.recv().await.unwrap() {
        n += 1;
        assert_eq!(m.count, n);
    }
    assert_eq!(n, 3);

    // JSON works through the descriptors the services-only file carries.
    let rsp = client
        .call_raw(
            &Context::new(),
            "greeter",
            "Greeter.Hello",
            micro::Format::Json,
            micro::codegen::Bytes::from_static(br#"{"name":"Json"}"#),
            &micro::client::CallOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(&rsp.message[..], br#"{"msg":"Hello Json"}"#);
}
