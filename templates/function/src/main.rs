//! Runs {{ name }}: `cargo run`, then
//! `micro publish {{ topic }} '{"id":"1","message":"hi"}'`.

use {{ snake }}::{SERVICE, TOPIC, handle};

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
