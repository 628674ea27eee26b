//! The shop end to end, as separate processes on the defaults (local registry, http broker):
//! two inventory nodes, two stock nodes and one orders node.
//!
//! - A placed order reserves stock with the caller's metadata and deadline carried along,
//!   and reaches inventory again as a shipment: proto → JSON → serde → JSON → proto.
//! - A stopped (SIGSTOP) stock node does not fail a single order: the http broker hands its
//!   share to the other member within the hand-off timeout.
//! - With inventory down, orders answers with its own 503 naming inventory, without inner
//!   addresses, before and after the dead nodes' registrations expire; `micro call` says
//!   orders answered.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inventory::pb::ShipmentRequest;
use inventory::pb::inventory_client::InventoryClient;
use micro::client::CallOptions;
use micro::registry::{LocalRegistry, Registry};
use micro::{Client, Context};
use orders::pb::PlaceRequest;
use orders::pb::orders_client::OrdersClient;

/// A child process killed when the test ends.
struct Proc(Child);

impl Proc {
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binaries of the three services and `micro`. `cargo test` builds only this package's
/// binaries; the others are built here once (a no-op when fresh).
fn bin(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "example-shop-inventory",
                "-p",
                "example-shop-stock",
                "-p",
                "micro-cli",
                "--bins",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "building the shop failed");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_shop-orders")).with_file_name(name)
}

fn env<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    cmd.env("MICRO_HOME", home)
        .env("MICRO_SERVER_ADDRESS", "127.0.0.1:0")
        .env("MICRO_BROKER_ADDRESS", "127.0.0.1:0")
        .env("MICRO_REGISTER_TTL", "3s")
        .env("MICRO_REGISTER_INTERVAL", "1s")
        .env("MICRO_SHUTDOWN_DELAY", "0s")
        .env("MICRO_LOG_LEVEL", "warn")
        .env_remove("MICRO_REGISTRY")
        .env_remove("MICRO_BROKER")
}

fn start(home: &Path, name: &str) -> Proc {
    let mut cmd = Command::new(bin(name));
    env(&mut cmd, home)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    Proc(cmd.spawn().unwrap())
}

async fn nodes(registry: &LocalRegistry, service: &str) -> Vec<String> {
    registry
        .get_service(service)
        .await
        .map(|records| {
            records
                .into_iter()
                .flat_map(|r| r.nodes)
                .map(|n| n.address)
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_for(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether every inventory node (each keeps the whole view) saw `order` ship.
async fn shipped_everywhere(
    inventory: &InventoryClient,
    addresses: &[String],
    order: &str,
) -> bool {
    for address in addresses {
        let rsp = inventory
            .shipment_with(
                &Context::new(),
                ShipmentRequest {
                    order_id: order.to_owned(),
                },
                &CallOptions::new().address(address.clone()),
            )
            .await;
        if !rsp.is_ok_and(|r| r.shipped) {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_reserve_publish_ship_and_fail_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let registry = Arc::new(LocalRegistry::new(home.path().join("registry")).unwrap());
    let inventory_a = start(home.path(), "shop-inventory");
    let inventory_b = start(home.path(), "shop-inventory");
    let stock_a = start(home.path(), "shop-stock");
    let _stock_b = start(home.path(), "shop-stock");
    let _orders = start(home.path(), "shop-orders");
    wait_for(
        "every node and subscription",
        Duration::from_secs(60),
        async || {
            nodes(&registry, "inventory").await.len() == 2
            && nodes(&registry, "stock").await.len() == 2
            && nodes(&registry, "orders").await.len() == 1
            // 2 broadcast (inventory) + 2 queue members (stock).
            && nodes(&registry, micro::broker::HTTP_BROKER_SERVICE).await.len() == 4
        },
    )
    .await;
    let inventory_nodes = nodes(&registry, "inventory").await;

    let client = Client::new(registry.clone());
    let orders = OrdersClient::new("orders", client.clone());
    let inventory = InventoryClient::new("inventory", client.clone());

    // The caller's metadata and deadline reach inventory through orders by default.
    let mut placed = Vec::new();
    for i in 1..=4 {
        let ctx = Context::new()
            .with_timeout(Duration::from_secs(10))
            .with_metadata("x-request-id", format!("r-{i}"));
        let rsp = orders
            .place_with(
                &ctx,
                PlaceRequest {
                    sku: "book".into(),
                    qty: i,
                },
                &CallOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!(rsp.request_id, format!("r-{i}"));
        assert!(
            (1..=10_000).contains(&rsp.inventory_budget_ms),
            "inventory saw {} ms left of a 10 s deadline",
            rsp.inventory_budget_ms
        );
        assert_eq!(rsp.total_cents, 1_250 * i);
        placed.push(rsp.order_id);
    }
    // orders.placed (protobuf as JSON) → stock (serde) → stock.shipped (JSON) → inventory
    // (protobuf), on every inventory node.
    for order in &placed {
        wait_for("the shipment", Duration::from_secs(30), async || {
            shipped_everywhere(&inventory, &inventory_nodes, order).await
        })
        .await;
    }

    // A stopped stock node fails no order: its share goes to the other member.
    stock_a.signal("-STOP");
    let mut during = Vec::new();
    for _ in 0..6 {
        let rsp = orders
            .place(PlaceRequest {
                sku: "pen".into(),
                qty: 1,
            })
            .await
            .unwrap_or_else(|e| panic!("an order failed with a stock node stopped: {e}"));
        during.push(rsp.order_id);
    }
    for order in &during {
        wait_for("the shipment", Duration::from_secs(30), async || {
            shipped_everywhere(&inventory, &inventory_nodes, order).await
        })
        .await;
    }
    stock_a.signal("-CONT");

    // Inventory down: orders answers, with its own 503 naming inventory and no addresses.
    inventory_a.signal("-KILL");
    inventory_b.signal("-KILL");
    let err = orders
        .place(PlaceRequest {
            sku: "book".into(),
            qty: 1,
        })
        .await
        .unwrap_err();
    assert_eq!((err.id(), err.code()), ("orders", 503), "{err}");
    assert!(err.detail().contains("inventory is unavailable"), "{err}");
    assert!(!err.detail().contains("127.0.0.1"), "{err}");
    let out = Command::new(bin("micro"))
        .args([
            "call",
            "orders",
            "Orders.Place",
            r#"{"sku":"book","qty":1}"#,
        ])
        .env("MICRO_HOME", home.path())
        .env_remove("MICRO_REGISTRY")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("orders returned an error: inventory is unavailable"),
        "{said}"
    );
    assert!(!said.contains("127.0.0.1"), "{said}");

    // After the dead nodes' registrations expire: still orders' 503, not a 404 that would
    // read as "no such order".
    wait_for("inventory to expire", Duration::from_secs(15), async || {
        nodes(&registry, "inventory").await.is_empty()
    })
    .await;
    // orders' registry watch sees the expiry a moment later; every answer until then and
    // after is orders' 503.
    let started = Instant::now();
    loop {
        let err = orders
            .place(PlaceRequest {
                sku: "book".into(),
                qty: 1,
            })
            .await
            .unwrap_err();
        assert_eq!((err.id(), err.code()), ("orders", 503), "{err}");
        if err.detail().contains("no node of it is registered") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "orders still finds inventory nodes: {err}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
