//! Runs the hello-world service: `cargo run`, then
//! `micro call hello-world HelloWorld.Call '{"name":"John"}'`.

use hello_world::{Handler, SERVICE, HelloWorldServer};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let service = micro::Service::builder(SERVICE)
        .version("latest")
        .flags(std::env::args().skip(1))
        .build()?;
    // The handler keeps its counters in the service's store.
    let handler = Handler::new(service.store());
    service.handler(HelloWorldServer::new(handler)).run().await
}
