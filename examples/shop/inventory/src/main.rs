//! Runs the inventory service: `cargo run -p example-shop-inventory`, then
//! `micro call inventory Inventory.Reserve '{"sku":"book","qty":2}'`.

use inventory::handler::Handler;
use inventory::pb::inventory_server::InventoryServer;
use inventory::{SERVICE, SHIPPED};
use micro::broker::Subscriber;

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let handler = Handler::default();
    let shipments = handler.clone();
    micro::Service::builder(SERVICE)
        .version("1.0.0")
        .handler(InventoryServer::new(handler))
        // Every inventory node keeps the whole view of shipments: a broadcast subscription.
        .subscribe(
            Subscriber::new(SHIPPED, move |ctx, event| {
                let shipments = shipments.clone();
                async move { shipments.on_shipped(ctx, event).await }
            })
            .broadcast(),
        )
        .flags(std::env::args().skip(1))
        .build()?
        .run()
        .await
}
