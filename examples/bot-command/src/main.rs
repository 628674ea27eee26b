//! `greet-command`: the `greet` command for `micro bot`, as the service `micro.bot.greet`.
//!
//! ```text
//! greet-command [micro flags: --registry, --server_address, ...]
//! ```

use micro::Service;
use micro_bot::proto::command_server::CommandServer;

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let service = Service::builder(example_bot_command::SERVICE)
        .version("1.0.0")
        .flags(std::env::args().skip(1))
        .build()?;
    let greeter = example_greeter::GreeterClient::new(example_greeter::SERVICE, service.client());
    service
        .handler(CommandServer::new(example_bot_command::Greet::new(greeter)))
        .run()
        .await
}
