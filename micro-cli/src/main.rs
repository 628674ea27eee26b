//! `micro`: call, inspect and run micro services.
//!
//! Exit codes: 0 success, 1 the call or remote side failed, 2 usage error.

mod cli;
mod commands;
mod error;
mod output;
mod templates;

use std::process::ExitCode;

/// Warnings of the runtime (a malformed registry record, a registry outage) on stderr, without
/// timestamps; `MICRO_LOG_LEVEL` (`info`, `debug` ...) shows more.
fn init_logging() {
    let filter = std::env::var("MICRO_LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse_args();
    init_logging();
    let json = cli.global.output == cli::Output::Json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::error(&commands::CliError::internal(format!(
                "cannot start the async runtime: {e}"
            )));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Scripts read go-micro's error JSON on stdout; people the text on stderr.
            if json && (e.error.is_some() || e.exit_code == 2) {
                output::print(&e.to_json());
            }
            output::error(&e);
            ExitCode::from(e.exit_code)
        }
    }
}
