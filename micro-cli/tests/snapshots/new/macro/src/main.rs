//! Runs the hello-world service: `cargo run`, then
//! `micro call hello-world HelloWorld.Call '{"name":"John"}'`.

use hello_world::{Handler, SERVICE, HelloWorldServer};

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    micro::Service::builder(SERVICE)
        .version("latest")
        .handler(HelloWorldServer::new(Handler))
        .flags(std::env::args().skip(1))
        .build()?
        .run()
        .await
}
