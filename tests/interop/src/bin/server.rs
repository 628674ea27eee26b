//! `interop-server`: the micro interop server. Prints `LISTENING <address>` once it serves;
//! stops gracefully on SIGTERM (set `MICRO_SHUTDOWN_DELAY` to watch health turn NOT_SERVING).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Arc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = async {
        let running = micro::Service::builder("interop")
            .registry(Arc::new(micro::registry::MemoryRegistry::new()))
            .handler(interop::pb::test_service_server::TestServiceServer::new(
                interop::TestServiceImpl,
            ))
            .flags(std::env::args().skip(1))
            .build()?
            .start()
            .await?;
        let listening = match running.local_addr() {
            Some(addr) => addr.to_string(),
            None => running.node().address.clone(),
        };
        println!("LISTENING {listening}");
        let _ = std::io::stdout().flush();
        micro::service::shutdown_signal().await;
        running.stop().await
    }
    .await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("interop-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
