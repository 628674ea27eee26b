//! A worker process for the multi-process tests, on the store `MICRO_STORE` names:
//!
//! - `state-worker count KEY N`: increment the JSON counter at KEY N times with
//!   `Store::update`, then print `done`;
//! - `state-worker ack PREFIX`: write PREFIX/0, PREFIX/1 ... forever, printing `ack I` after
//!   each write returns (the `kill -9` test kills it mid-stream).

#![allow(clippy::print_stdout)]

use std::io::Write;

use micro::Settings;

#[tokio::main(flavor = "current_thread")]
async fn main() -> micro::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store = Settings::from_env()?.store("state-worker")?;
    let mut out = std::io::stdout().lock();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["count", key, n] => {
            let n: u64 = n
                .parse()
                .map_err(|_| micro::Error::bad_request("worker", "N"))?;
            for _ in 0..n {
                store
                    .update(key, |v: Option<u64>| v.unwrap_or(0) + 1)
                    .await?;
            }
            let _ = writeln!(out, "done");
        }
        ["ack", prefix] => {
            for i in 0u64.. {
                store
                    .write(micro::store::Record::new(
                        format!("{prefix}/{i}"),
                        i.to_string(),
                    ))
                    .await?;
                let _ = writeln!(out, "ack {i}");
                let _ = out.flush();
            }
        }
        _ => {
            return Err(micro::Error::bad_request(
                "worker",
                "usage: state-worker count KEY N | ack PREFIX",
            ));
        }
    }
    Ok(())
}
