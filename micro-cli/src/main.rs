//! `micro`: call, inspect and run micro services.
//!
//! Exit codes: 0 success, 1 the call or remote side failed, 2 usage error.

mod cli;
mod commands;
mod error;
mod output;
mod templates;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_args();
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
