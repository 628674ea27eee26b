//! `pubsub-publisher`: places orders on `orders.placed`.
//!
//! ```text
//! pubsub-publisher [--count N] [--interval 10ms] [--format json|proto]
//! ```
//!
//! Events are JSON unless `--format proto` asks for protobuf (smaller; `micro subscribe`
//! still prints them as JSON, finding the type through the subscribers' reflection).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use example_pubsub::{OrderPlaced, TOPIC};
use micro::Service;

async fn run() -> micro::Result<u64> {
    let mut count = 1u64;
    let mut interval = Duration::ZERO;
    let mut format = micro::Format::Json;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => {
                let v = args.next().unwrap_or_default();
                count = v.parse().map_err(|_| {
                    micro::Error::bad_request("publisher", format!("--count {v:?} is not a number"))
                })?;
            }
            "--interval" => {
                let v = args.next().unwrap_or_default();
                interval = micro::options::parse_duration("--interval", &v)?;
            }
            "--format" => {
                let v = args.next().unwrap_or_default();
                format = match v.as_str() {
                    "json" => micro::Format::Json,
                    "proto" => micro::Format::Proto,
                    _ => {
                        return Err(micro::Error::bad_request(
                            "publisher",
                            format!("--format {v:?}: json or proto"),
                        ));
                    }
                };
            }
            other => {
                return Err(micro::Error::bad_request(
                    "publisher",
                    format!(
                        "unknown argument {other}: usage: pubsub-publisher [--count N] [--interval 10ms] [--format json|proto]"
                    ),
                ));
            }
        }
    }
    // A service that only publishes needs no server: build it, take a publisher.
    let shop = Service::builder("shop").build()?;
    let orders = shop.publisher::<OrderPlaced>(TOPIC).format(format);
    for i in 1..=count {
        let order = OrderPlaced {
            id: format!("order-{i}"),
            item: "book".into(),
            quantity: 1 + (i % 3) as i32,
        };
        orders.publish(&order).await?;
        if !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
    }
    shop.broker().disconnect().await?;
    Ok(count)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    match run().await {
        Ok(n) => {
            println!("published {n} orders on {TOPIC}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pubsub-publisher: {}", e.detail());
            std::process::ExitCode::from(1)
        }
    }
}
