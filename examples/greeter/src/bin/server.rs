//! `greeter-server`: the greeter service on micro's embedded defaults.
//!
//! ```text
//! greeter-server [--delay 500ms] [micro flags: --registry, --server_address, ...]
//! ```

use std::time::Duration;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("greeter-server: {}", e.detail());
            }
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> micro::Result<()> {
    let mut delay = Duration::ZERO;
    let mut flags = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--delay" {
            let value = args.next().unwrap_or_default();
            delay = micro::options::parse_duration("--delay", &value)?;
        } else if let Some(value) = arg.strip_prefix("--delay=") {
            delay = micro::options::parse_duration("--delay", value)?;
        } else {
            flags.push(arg);
        }
    }
    micro::Service::builder(example_greeter::SERVICE)
        .version("1.0.0")
        .handler(example_greeter::GreeterServer::new(
            example_greeter::GreeterHandler { delay },
        ))
        .flags(flags)
        .build()?
        .run()
        .await
}
