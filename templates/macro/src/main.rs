//! Runs the {{ name }} service: `cargo run`, then
//! `micro call {{ service_name }} {{ svc }}.Call '{"name":"John"}'`.

use {{ snake }}::{Handler, SERVICE, {{ svc }}Server};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    micro::Service::builder(SERVICE)
        .version("latest")
        .handler({{ svc }}Server::new(Handler))
        .flags(std::env::args().skip(1))
        .build()?
        .run()
        .await
}
