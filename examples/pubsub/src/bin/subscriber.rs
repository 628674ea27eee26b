//! `pubsub-subscriber`: the shipping service. It prints each order it ships (one line on
//! stdout) and runs until SIGINT or SIGTERM.
//!
//! ```text
//! pubsub-subscriber [micro flags: --broker, --registry, --server_address, ...]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use example_pubsub::{OrderPlaced, SHIPPING, TOPIC, ship};
use micro::{Context, Service};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    let service = Service::builder(SHIPPING)
        .version("1.0.0")
        .subscriber(TOPIC, |ctx: Context, order: OrderPlaced| async move {
            let line = ship(&order)?;
            let id = ctx.metadata().get("micro-id").unwrap_or("").to_owned();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line} [message {id}]");
            let _ = out.flush();
            Ok(())
        })
        .flags(std::env::args().skip(1))
        .build();
    let result = match service {
        Ok(service) => service.run().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub-subscriber: {}", e.detail());
            std::process::ExitCode::from(2)
        }
    }
}
