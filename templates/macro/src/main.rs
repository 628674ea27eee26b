//! Runs the {{ name }} service: `cargo run`, then
//! `micro call {{ service_name }} {{ svc }}.Call '{"name":"John"}'`.

use {{ snake }}::{Handler, SERVICE, {{ svc }}Server};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let service = micro::Service::builder(SERVICE)
        .version("latest")
        .flags(std::env::args().skip(1))
        .build()?;
    // The handler keeps its counters in the service's store.
    let handler = Handler::new(service.store());
    service.handler({{ svc }}Server::new(handler)).run().await
}
