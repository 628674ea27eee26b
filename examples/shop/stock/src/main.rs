//! Runs the stock service: `cargo run -p example-shop-stock` (start two: they share the
//! orders), then `micro call stock Stock.Shipments '{}'`.

use micro::Service;
use micro::broker::Subscriber;
use micro::codec::Codec;
use stock::handler::Handler;
use stock::{PLACED, SERVICE, SHIPPED, StockServer};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let service = Service::builder(SERVICE)
        .version("1.0.0")
        .flags(std::env::args().skip(1))
        .build()?;
    // Serde types: JSON events, and their fields in the registry through schemars.
    let handler = Handler::new(service.publisher_with(SHIPPED, Codec::serde()));
    let orders = handler.clone();
    service
        .handler(StockServer::new(handler))
        // The service's queue group: each order goes to one stock node.
        .subscribe(Subscriber::with_codec(
            PLACED,
            Codec::serde().with_json_schema(),
            move |ctx, order| {
                let orders = orders.clone();
                async move { orders.on_placed(ctx, order).await }
            },
        ))
        .run()
        .await
}
