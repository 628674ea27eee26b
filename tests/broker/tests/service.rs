//! Subscribers and publishers on services: the service's instances share a topic, other
//! services get every message, subscriber endpoints appear in the registry, and a stopped
//! instance hands its share to the others.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_tests::{Fixture, wait_for_http_subscribers, wait_until};
use micro::broker::{Envelope, Subscriber};
use micro::codec::{Codec, ProstSerde};
use micro::{Context, RunningService, Service};

#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
struct Invoice {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(int64, tag = "2")]
    cents: i64,
}
impl ProstSerde for Invoice {}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct AuditEntry {
    what: String,
}

async fn start(
    fixture: &Fixture,
    name: &str,
    count: Arc<AtomicUsize>,
    request_ids: Option<Arc<std::sync::Mutex<Vec<String>>>>,
) -> RunningService {
    Service::builder(name)
        .ignore_env()
        .registry(fixture.registry.clone())
        .flags([
            "--server_address",
            "127.0.0.1:0",
            "--broker_address",
            "127.0.0.1:0",
        ])
        .shutdown_delay(Duration::ZERO)
        .subscriber("invoices", move |ctx: Context, invoice: Invoice| {
            let count = count.clone();
            let request_ids = request_ids.clone();
            async move {
                assert!(invoice.id.starts_with("inv-"));
                count.fetch_add(1, Ordering::SeqCst);
                if let Some(ids) = request_ids {
                    ids.lock()
                        .unwrap()
                        .push(ctx.metadata().get("x-request-id").unwrap_or("").to_owned());
                }
                Ok(())
            }
        })
        .build()
        .unwrap()
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_a_topic_and_other_services_get_every_message() {
    let fixture = Fixture::new();
    let (b1, b2, a) = (Arc::default(), Arc::default(), Arc::default());
    let ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    let billing1 = start(&fixture, "billing", Arc::clone(&b1), None).await;
    let billing2 = start(&fixture, "billing", Arc::clone(&b2), None).await;
    let audit = start(&fixture, "audit", Arc::clone(&a), Some(ids.clone())).await;
    wait_for_http_subscribers(&fixture.registry, "invoices", 3).await;

    // The subscriber endpoint is in the registry, with its topic and queue group.
    let record = &fixture.registry.get_service("billing").await.unwrap()[0];
    let endpoint = record.endpoint("invoices").expect("subscriber endpoint");
    assert_eq!(endpoint.metadata["subscriber"], "true");
    assert_eq!(endpoint.metadata["topic"], "invoices");
    assert_eq!(endpoint.metadata["queue"], "billing");
    assert_eq!(endpoint.request.as_ref().unwrap().name, "Invoice");

    // A publisher on another service, passing its context's metadata along.
    let shop = Service::builder("shop")
        .ignore_env()
        .registry(fixture.registry.clone())
        .build()
        .unwrap();
    let invoices = shop.publisher::<Invoice>("invoices");
    let ctx = Context::new().with_metadata("x-request-id", "req-42");
    for i in 0..100 {
        let invoice = Invoice {
            id: format!("inv-{i}"),
            cents: i,
        };
        invoices.publish_with(&ctx, &invoice).await.unwrap();
    }
    let count = |c: &Arc<AtomicUsize>| c.load(Ordering::SeqCst);
    assert!(
        wait_until(Duration::from_secs(10), || count(&b1) + count(&b2) == 100
            && count(&a) == 100)
        .await,
        "billing {} + {}, audit {}",
        count(&b1),
        count(&b2),
        count(&a)
    );
    assert!(
        count(&b1) > 0 && count(&b2) > 0,
        "both billing instances took a share"
    );
    assert!(
        ids.lock().unwrap().iter().all(|id| id == "req-42"),
        "metadata travels as headers"
    );

    // One billing instance stops: the other takes everything from now on.
    billing1.stop().await.unwrap();
    let before = (count(&b1), count(&b2));
    for i in 0..50 {
        invoices
            .publish(&Invoice {
                id: format!("inv-late-{i}"),
                cents: i,
            })
            .await
            .unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(10), || count(&b2) == before.1 + 50).await,
        "the remaining instance got {} of 50",
        count(&b2) - before.1
    );
    assert_eq!(count(&b1), before.0, "a stopped instance gets nothing");
    billing2.stop().await.unwrap();
    audit.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_serde_messages_reach_typed_subscribers() {
    let fixture = Fixture::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let invoices_tx = tx.clone();
    let service = Service::builder("ledger")
        .ignore_env()
        .registry(fixture.registry.clone())
        .flags([
            "--server_address",
            "127.0.0.1:0",
            "--broker_address",
            "127.0.0.1:0",
        ])
        .shutdown_delay(Duration::ZERO)
        .subscriber("invoices", move |_ctx: Context, invoice: Invoice| {
            let tx = invoices_tx.clone();
            async move {
                let _ = tx.send(format!("invoice {} {}", invoice.id, invoice.cents));
                Ok(())
            }
        })
        .subscribe(
            Subscriber::with_codec("audit", Codec::serde(), move |_ctx, entry: AuditEntry| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(format!("audit {}", entry.what));
                    Ok(())
                }
            })
            .broadcast(),
        )
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    wait_for_http_subscribers(&fixture.registry, "audit", 1).await;
    let broker = service.broker().clone();

    // JSON, as `micro publish` sends it, to a protobuf subscriber.
    broker
        .publish(
            "invoices",
            Envelope::new(r#"{"id":"inv-json","cents":250}"#)
                .with_header("content-type", "application/json"),
        )
        .await
        .unwrap();
    assert_eq!(recv(&mut rx).await, "invoice inv-json 250");

    // A serde type through a serde publisher.
    let audit = micro::broker::Publisher::with_codec(broker.clone(), "audit", Codec::serde());
    audit
        .publish(&AuditEntry {
            what: "login".into(),
        })
        .await
        .unwrap();
    assert_eq!(recv(&mut rx).await, "audit login");

    let record = &fixture.registry.get_service("ledger").await.unwrap()[0];
    assert_eq!(
        record.endpoint("audit").unwrap().metadata["broadcast"],
        "true"
    );
    service.stop().await.unwrap();
}

/// A generated-style protobuf event with a two-word field.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
struct OrderPlaced {
    #[prost(string, tag = "1")]
    order_id: String,
    #[prost(uint32, tag = "2")]
    qty: u32,
}
impl ProstSerde for OrderPlaced {}

/// The same event as a `#[micro::service]` service declares it: plain serde.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PlacedOrder {
    order_id: String,
    qty: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_publishers_reach_serde_subscribers_and_mismatches_are_refused() {
    let fixture = Fixture::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let service = Service::builder("stock")
        .ignore_env()
        .registry(fixture.registry.clone())
        .flags([
            "--server_address",
            "127.0.0.1:0",
            "--broker_address",
            "127.0.0.1:0",
        ])
        .shutdown_delay(Duration::ZERO)
        .subscribe(Subscriber::with_codec(
            "orders.placed",
            Codec::serde(),
            move |_ctx, order: PlacedOrder| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(format!("{} x{}", order.order_id, order.qty));
                    Ok(())
                }
            },
        ))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    wait_for_http_subscribers(&fixture.registry, "orders.placed", 1).await;
    let broker = service.broker().clone();

    // A protobuf type's publisher writes JSON by default: lowerCamelCase `orderId`, which
    // the serde subscriber reads as its `order_id`.
    let placed = micro::broker::Publisher::<OrderPlaced>::new(broker.clone(), "orders.placed");
    placed
        .publish(&OrderPlaced {
            order_id: "o-7".into(),
            qty: 2,
        })
        .await
        .unwrap();
    assert_eq!(recv(&mut rx).await, "o-7 x2");

    // Protobuf to a subscriber that cannot read it is refused at publish, not dropped.
    let err = placed
        .clone()
        .format(micro::Format::Proto)
        .publish(&OrderPlaced {
            order_id: "o-8".into(),
            qty: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), 415, "{err}");
    assert!(err.detail().contains("reads json,msgpack only"), "{err}");
    service.stop().await.unwrap();
}

async fn recv(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a message within 10 s")
        .expect("the channel is open")
}
