//! Runs the hello-world API: `cargo run`, then
//! `micro call hello-world HelloWorld.Call '{"name":"John"}'`.

use hello_world::SERVICE;
use hello_world::handler::Handler;
use hello_world::pb::hello_world_server::HelloWorldServer;

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
