//! Runs hello-world: `cargo run`, then
//! `micro publish hello-world.events '{"id":"1","message":"hi"}'`.

use hello_world::{SERVICE, TOPIC, handle};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    micro::Service::builder(SERVICE)
        .version("latest")
        .subscriber(TOPIC, handle)
        .flags(std::env::args().skip(1))
        .build()?
        .run()
        .await
}
