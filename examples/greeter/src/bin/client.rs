//! `greeter-client`: finds the greeter in the registry and calls `Greeter.Hello`.
//!
//! ```text
//! greeter-client [NAME] [--count N] [--interval 10ms]
//! ```
//!
//! With `--count` above one it prints a summary: calls, failures, the slowest call, and how
//! the calls spread over the nodes. It exits with status 1 if any call failed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::Duration;

use example_greeter::{GreeterClient, HelloRequest, HelloResponse, SERVICE};
use micro::client::CallOptions;
use micro::{Client, Context};

struct Args {
    name: String,
    count: u64,
    interval: Duration,
}

fn parse() -> Result<Args, String> {
    let mut out = Args {
        name: "John".into(),
        count: 1,
        interval: Duration::ZERO,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => {
                let v = args.next().unwrap_or_default();
                out.count = v
                    .parse()
                    .map_err(|_| format!("--count {v:?} is not a number"))?;
            }
            "--interval" => {
                let v = args.next().unwrap_or_default();
                out.interval = micro::options::parse_duration("--interval", &v)
                    .map_err(|e| e.detail().to_owned())?;
            }
            "-h" | "--help" => {
                return Err("usage: greeter-client [NAME] [--count N] [--interval 10ms]".into());
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}")),
            name => out.name = name.to_owned(),
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("greeter-client: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let client = match Client::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("greeter-client: {}", e.detail());
            return std::process::ExitCode::from(2);
        }
    };
    let request = HelloRequest { name: args.name };
    if args.count == 1 {
        // The generated client: typed methods named after the .proto's rpcs.
        let greeter = GreeterClient::new(SERVICE, client);
        return match greeter.hello(request).await {
            Ok(rsp) => {
                println!("{}", rsp.msg);
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("greeter-client: {e}");
                std::process::ExitCode::from(1)
            }
        };
    }
    // Many calls: the runtime client's `invoke` also tells which node answered.
    let mut failed = 0u64;
    let mut slowest = Duration::ZERO;
    let mut nodes: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..args.count {
        if i > 0 && !args.interval.is_zero() {
            tokio::time::sleep(args.interval).await;
        }
        let started = std::time::Instant::now();
        let rsp = client
            .invoke::<_, HelloResponse>(
                &Context::new(),
                SERVICE,
                "Greeter.Hello",
                &request,
                &CallOptions::new(),
            )
            .await;
        slowest = slowest.max(started.elapsed());
        match rsp {
            Ok(rsp) => {
                let _: HelloResponse = rsp.message;
                *nodes.entry(rsp.node.address.clone()).or_default() += 1;
            }
            Err(e) => {
                failed += 1;
                eprintln!("call {} failed: {e}", i + 1);
            }
        }
    }
    {
        let spread: Vec<String> = nodes.iter().map(|(n, c)| format!("{n}={c}")).collect();
        println!(
            "calls: {} ok: {} failed: {} slowest: {}ms nodes: {}",
            args.count,
            args.count - failed,
            failed,
            slowest.as_millis(),
            spread.join(" ")
        );
    }
    if failed > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
