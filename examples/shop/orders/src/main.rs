//! Runs the orders service: `cargo run -p example-shop-orders`, then
//! `micro call orders Orders.Place '{"sku":"book","qty":2}'` (with inventory running).

use inventory::pb::inventory_client::InventoryClient;
use micro::Service;
use orders::handler::Handler;
use orders::pb::orders_server::OrdersServer;
use orders::{PLACED, SERVICE};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    // Build first, then make the handler from the service's client and broker.
    let service = Service::builder(SERVICE)
        .version("1.0.0")
        .flags(std::env::args().skip(1))
        .build()?;
    let handler = Handler::new(
        InventoryClient::new(inventory::SERVICE, service.client()),
        service.publisher(PLACED),
    );
    service.handler(OrdersServer::new(handler)).run().await
}
