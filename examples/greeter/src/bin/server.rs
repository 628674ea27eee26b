//! `greeter-server`: the greeter service on micro's embedded defaults.
//!
//! ```text
//! greeter-server [--delay 500ms] [micro flags: --registry, --server_address, ...]
//! ```
//!
//! Its own flag (`--delay`) and micro's share one clap parser: `--help` lists both.

use std::time::Duration;

use clap::Parser;

/// The greeter service.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// How long each greeting takes (seconds, or a number with a unit: 500ms, 2s).
    #[arg(long, default_value = "0", value_parser = delay)]
    delay: Duration,
    #[command(flatten)]
    micro: micro::options::Flags,
}

fn delay(text: &str) -> Result<Duration, String> {
    micro::options::parse_duration("--delay", text).map_err(|e| e.detail().to_owned())
}

#[tokio::main]
async fn main() -> micro::Result<()> {
    micro::init_logging();
    let args = Args::parse();
    micro::Service::builder(example_greeter::SERVICE)
        .version("1.0.0")
        .handler(example_greeter::GreeterServer::new(
            example_greeter::GreeterHandler { delay: args.delay },
        ))
        .flags(args.micro.args())
        .build()?
        .run()
        .await
}
