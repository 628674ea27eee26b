//! `#[micro::service]` on the wire: JSON by default, MessagePack when chosen, and JSON still
//! accepted by a MessagePack service (so `micro call` works against it).

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use micro::client::CallOptions;
use micro::registry::MemoryRegistry;
use micro::{Client, Context, Format, Result, Service};

#[micro::message]
#[derive(Debug, PartialEq)]
pub struct Point {
    pub x: i32,
    pub label: String,
}

#[micro::service(codec = "msgpack")]
pub trait Packed {
    async fn flip(&self, ctx: Context, req: Point) -> Result<Point>;
}

#[micro::service(name = "Plain")]
pub trait Json {
    #[micro(name = "Flip")]
    async fn reverse(&self, ctx: Context, req: Point) -> Result<Point>;
}

struct Flipper;

impl Packed for Flipper {
    async fn flip(&self, ctx: Context, req: Point) -> Result<Point> {
        Ok(Point {
            x: -req.x,
            label: format!(
                "{} flipped for {}",
                req.label,
                ctx.endpoint().unwrap_or("?")
            ),
        })
    }
}

impl Json for Flipper {
    async fn reverse(&self, _ctx: Context, req: Point) -> Result<Point> {
        Ok(Point {
            x: -req.x,
            label: req.label.chars().rev().collect(),
        })
    }
}

#[tokio::test]
async fn msgpack_and_json() {
    let registry = MemoryRegistry::new();
    let _svc = Service::builder("shapes")
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .handler(PackedServer::new(Flipper))
        .handler(JsonServer::new(Flipper))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = Client::new(Arc::new(registry));

    let packed = PackedClient::new("shapes", client.clone());
    let p = packed
        .flip(Point {
            x: 3,
            label: "p".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        p,
        Point {
            x: -3,
            label: "p flipped for Packed.Flip".into()
        }
    );

    // MessagePack on the wire, by hand.
    let body = rmp_serde::to_vec_named(&Point {
        x: 7,
        label: "m".into(),
    })
    .unwrap();
    let rsp = client
        .call_raw(
            &Context::new(),
            "shapes",
            "Packed.Flip",
            Format::MsgPack,
            body.into(),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let p: Point = rmp_serde::from_slice(&rsp.message).unwrap();
    assert_eq!(p.x, -7);

    let plain = JsonClient::new("shapes", client.clone());
    let p = plain
        .reverse(Point {
            x: 1,
            label: "abc".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        p,
        Point {
            x: -1,
            label: "cba".into()
        }
    );

    // The MessagePack service answers JSON too (what micro call and the gateway send).
    for (endpoint, format, body) in [
        ("Packed.Flip", Format::Json, &br#"{"x":5,"label":"j"}"#[..]),
        ("Plain.Flip", Format::Json, &br#"{"x":5,"label":"ab"}"#[..]),
    ] {
        let rsp = client
            .call_raw(
                &Context::new(),
                "shapes",
                endpoint,
                format,
                body.to_vec().into(),
                &CallOptions::new(),
            )
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&rsp.message).unwrap();
        assert_eq!(json["x"], -5, "{endpoint}");
    }

    // Protobuf is refused with a clear error: serde types have no protobuf form.
    let err = client
        .call_raw(
            &Context::new(),
            "shapes",
            "Plain.Flip",
            Format::Proto,
            vec![].into(),
            &CallOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(err.detail().contains("does not accept proto"), "{err}");
}
