//! Generated clients and servers, end to end: every streaming kind, well-known types,
//! several files and services per package, imports across packages, no package, keywords.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use codegen_fixtures::Loose;
use codegen_fixtures::fixtures::common::{Money, Region};
use codegen_fixtures::fixtures::kitchen::everything::Nested;
use codegen_fixtures::fixtures::kitchen::kitchen_client::KitchenClient;
use codegen_fixtures::fixtures::kitchen::kitchen_server::{Kitchen, KitchenServer};
use codegen_fixtures::fixtures::kitchen::pantry_client::PantryClient;
use codegen_fixtures::fixtures::kitchen::pantry_server::{Pantry, PantryServer};
use codegen_fixtures::fixtures::kitchen::{Everything, Item, Num, Tree};
use codegen_fixtures::loner_client::LonerClient;
use codegen_fixtures::loner_server::{Loner, LonerServer};
use codegen_fixtures::r#type::r#match::Self_;
use codegen_fixtures::r#type::r#match::loop_client::LoopClient;
use codegen_fixtures::r#type::r#match::loop_server::{Loop, LoopServer};
use micro::codegen::prost_types::Timestamp;
use micro::registry::MemoryRegistry;
use micro::stream::{StreamReceiver, StreamSender};
use micro::{Client, Context, Result, RunningService, Service};

struct K;

impl Kitchen for K {
    async fn echo(&self, _ctx: Context, request: Everything) -> Result<Everything> {
        Ok(request)
    }

    async fn count(&self, _ctx: Context, request: Num, responses: StreamSender<Num>) -> Result<()> {
        for value in 1..=request.value {
            responses.send(&Num { value }).await?;
        }
        Ok(())
    }

    async fn sum(&self, _ctx: Context, mut requests: StreamReceiver<Num>) -> Result<Num> {
        let mut value = 0;
        while let Some(n) = requests.recv().await? {
            value += n.value;
        }
        Ok(Num { value })
    }

    async fn chat(
        &self,
        _ctx: Context,
        mut requests: StreamReceiver<Num>,
        responses: StreamSender<Num>,
    ) -> Result<()> {
        while let Some(n) = requests.recv().await? {
            responses.send(&Num { value: n.value * 2 }).await?;
        }
        Ok(())
    }

    async fn now(&self, _ctx: Context, _request: ()) -> Result<Timestamp> {
        Ok(Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        })
    }

    async fn grow(&self, _ctx: Context, mut request: Tree) -> Result<Tree> {
        request.children.push(Tree {
            label: format!("child of {}", request.label),
            ..Tree::default()
        });
        Ok(request)
    }

    #[allow(deprecated)]
    async fn old(&self, _ctx: Context, request: Num) -> Result<Num> {
        Ok(request)
    }
}

struct P;

impl Pantry for P {
    async fn price(&self, _ctx: Context, request: Item) -> Result<Money> {
        Ok(Money {
            currency: "EUR".into(),
            units: request.name.len() as i64,
            nanos: 0,
        })
    }
}

struct L;

impl Loner for L {
    async fn call(&self, _ctx: Context, request: Loose) -> Result<Loose> {
        Ok(Loose {
            text: request.text.to_uppercase(),
        })
    }
}

struct Kw;

impl Loop for Kw {
    async fn r#type(&self, _ctx: Context, request: Self_) -> Result<Self_> {
        Ok(request)
    }

    async fn r#match(&self, _ctx: Context, mut request: Self_) -> Result<Self_> {
        request.r#fn += 1;
        Ok(request)
    }

    async fn new(&self, _ctx: Context, mut request: Self_) -> Result<Self_> {
        request.r#struct = true;
        Ok(request)
    }

    async fn r#return(
        &self,
        _ctx: Context,
        mut requests: StreamReceiver<Self_>,
        responses: StreamSender<Self_>,
    ) -> Result<()> {
        while let Some(s) = requests.recv().await? {
            responses.send(&s).await?;
        }
        Ok(())
    }
}

async fn start() -> (RunningService, Client) {
    let registry = MemoryRegistry::new();
    let running = Service::builder("kitchen")
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .handler(KitchenServer::new(K))
        .handler(PantryServer::new(P))
        .handler(LonerServer::new(L))
        .handler(LoopServer::new(Kw))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    (running, Client::new(Arc::new(registry)))
}

#[tokio::test]
async fn every_streaming_kind() {
    let (_svc, client) = start().await;
    let kitchen = KitchenClient::new("kitchen", client);

    let everything = Everything {
        f_string: "hi".into(),
        nested: Some(Nested {
            name: "n".into(),
            level: 1,
        }),
        price: Some(Money {
            currency: "EUR".into(),
            units: 3,
            nanos: 0,
        }),
        region: Region::Eu as i32,
        maybe: Some(0),
        ..Everything::default()
    };
    assert_eq!(kitchen.echo(everything.clone()).await.unwrap(), everything);

    let mut count = kitchen.count(Num { value: 5 }).await.unwrap();
    let mut seen = Vec::new();
    while let Some(n) = count.recv().await.unwrap() {
        seen.push(n.value);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);

    let mut sum = kitchen.sum().await.unwrap();
    for value in 1..=10 {
        sum.send(&Num { value }).await.unwrap();
    }
    assert_eq!(sum.finish().await.unwrap().value, 55);

    let mut chat = kitchen.chat().await.unwrap();
    for value in [1, 2, 3] {
        chat.send(&Num { value }).await.unwrap();
        assert_eq!(chat.recv().await.unwrap().unwrap().value, value * 2);
    }
    chat.close_send();
    assert!(chat.recv().await.unwrap().is_none());

    assert_eq!(kitchen.now(()).await.unwrap().seconds, 1_700_000_000);
    let grown = kitchen
        .grow(Tree {
            label: "root".into(),
            ..Tree::default()
        })
        .await
        .unwrap();
    assert_eq!(grown.children[0].label, "child of root");
    #[allow(deprecated)]
    let old = kitchen.old(Num { value: 9 }).await.unwrap();
    assert_eq!(old.value, 9);
}

#[tokio::test]
async fn several_services_packages_and_keywords_in_one_server() {
    let (_svc, client) = start().await;
    let pantry = PantryClient::new("kitchen", client.clone());
    assert_eq!(
        pantry
            .price(Item {
                name: "salt".into()
            })
            .await
            .unwrap()
            .units,
        4
    );

    let loner = LonerClient::new("kitchen", client.clone());
    assert_eq!(
        loner
            .call(Loose {
                text: "quiet".into()
            })
            .await
            .unwrap()
            .text,
        "QUIET"
    );

    let kw = LoopClient::new("kitchen", client);
    let me = Self_ {
        r#type: "t".into(),
        r#fn: 1,
        ..Self_::default()
    };
    assert_eq!(kw.r#type(me.clone()).await.unwrap(), me);
    assert_eq!(kw.r#match(me.clone()).await.unwrap().r#fn, 2);
    assert!(kw.new_rpc(me.clone()).await.unwrap().r#struct);
    let mut ret = kw.r#return().await.unwrap();
    ret.send(&me).await.unwrap();
    assert_eq!(ret.recv().await.unwrap().unwrap(), me);
}

#[tokio::test]
async fn registry_carries_paths_schemas_streams_and_http_rules() {
    let (svc, _client) = start().await;
    let record = svc.record();
    let echo = record.endpoint("Kitchen.Echo").unwrap();
    assert_eq!(echo.metadata["grpc_path"], "/fixtures.kitchen.Kitchen/Echo");
    assert_eq!(echo.metadata["method"], "POST");
    assert_eq!(
        echo.metadata["path"],
        "/v1/kitchen/echo,/v1/kitchen/echo/{f_string}"
    );
    assert_eq!(echo.metadata["body"], "*");
    let rules: serde_json::Value = serde_json::from_str(&echo.metadata["http"]).unwrap();
    assert_eq!(rules[1]["method"], "GET");

    let request = echo.request.as_ref().unwrap();
    assert_eq!(request.kind, "Everything");
    let nested = request.values.iter().find(|v| v.name == "nested").unwrap();
    assert_eq!(nested.kind, "fixtures.kitchen.Everything.Nested");
    assert_eq!(
        nested
            .values
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["name", "level"]
    );
    let counts = request.values.iter().find(|v| v.name == "counts").unwrap();
    assert_eq!(counts.kind, "map<string, int64>");
    let tags = request.values.iter().find(|v| v.name == "tags").unwrap();
    assert_eq!(tags.kind, "repeated string");

    let tree = record
        .endpoint("Kitchen.Grow")
        .unwrap()
        .request
        .as_ref()
        .unwrap();
    let children = tree.values.iter().find(|v| v.name == "children").unwrap();
    assert!(
        children.values.is_empty(),
        "a recursive message is expanded once"
    );

    assert_eq!(
        record.endpoint("Kitchen.Count").unwrap().metadata["stream"],
        "server"
    );
    assert!(record.endpoint("Kitchen.Count").unwrap().is_idempotent());
    assert_eq!(
        record.endpoint("Kitchen.Sum").unwrap().metadata["stream"],
        "client"
    );
    assert_eq!(
        record.endpoint("Kitchen.Chat").unwrap().metadata["stream"],
        "bidirectional"
    );
    assert_eq!(
        record.endpoint("Kitchen.Old").unwrap().metadata["deprecated"],
        "true"
    );
    assert_eq!(
        record.endpoint("Loop.Type").unwrap().metadata["grpc_path"],
        "/type.match.Loop/Type"
    );
    assert_eq!(
        record.endpoint("Loner.Call").unwrap().metadata["grpc_path"],
        "/Loner/Call"
    );
}

#[allow(deprecated)]
/// Code written against the service trait: it cannot tell a local implementation (a test
/// double) from the remote client.
async fn exercise<T: Kitchen>(kitchen: &T) -> Result<(Num, Vec<i64>, Num, Vec<i64>)> {
    let ctx = Context::new();
    let echoed = kitchen.old(ctx.clone(), Num { value: 4 }).await?;

    let (tx, mut rx) = micro::stream::channel::<Num>(8);
    kitchen.count(ctx.clone(), Num { value: 3 }, tx).await?;
    let mut counted = Vec::new();
    while let Some(n) = rx.recv().await? {
        counted.push(n.value);
    }

    let (tx, rx) = micro::stream::channel::<Num>(8);
    for value in [5, 6] {
        tx.send(&Num { value }).await?;
    }
    drop(tx);
    let summed = kitchen.sum(ctx.clone(), rx).await?;

    let (req_tx, req_rx) = micro::stream::channel::<Num>(8);
    let (resp_tx, mut resp_rx) = micro::stream::channel::<Num>(8);
    for value in [1, 2] {
        req_tx.send(&Num { value }).await?;
    }
    drop(req_tx);
    kitchen.chat(ctx, req_rx, resp_tx).await?;
    let mut chatted = Vec::new();
    while let Some(n) = resp_rx.recv().await? {
        chatted.push(n.value);
    }
    Ok((echoed, counted, summed, chatted))
}

#[tokio::test]
#[allow(deprecated)]
async fn the_client_implements_the_service_trait() {
    let local = exercise(&K).await.unwrap();
    let (_svc, client) = start().await;
    let remote = exercise(&KitchenClient::new("kitchen", client))
        .await
        .unwrap();
    assert_eq!(local, remote);
    assert_eq!(remote.1, [1, 2, 3]);
    assert_eq!(remote.2.value, 11);
    assert_eq!(remote.3, [2, 4]);
}
