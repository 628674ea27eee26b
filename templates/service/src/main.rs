//! Runs the {{ name }} service: `cargo run`, then
//! `micro call {{ service_name }} {{ svc }}.Call '{"name":"John"}'`.

use {{ snake }}::handler::Handler;
use {{ snake }}::pb::{{ svc_snake }}_server::{{ svc }}Server;
use {{ snake }}::{SERVICE, TOPIC, subscriber};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    micro::Service::builder(SERVICE)
        .version("latest")
        .handler({{ svc }}Server::new(Handler))
        .subscriber(TOPIC, subscriber::handle)
        .flags(std::env::args().skip(1))
        .build()?
        .run()
        .await
}
