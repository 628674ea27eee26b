//! The arguments of `micro run`, `micro status`, `micro logs` and `micro stop`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::parse_duration;

/// `micro run`: what to run, and how.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// A directory (its micro.toml, else the binary crates of its cargo workspace that
    /// depend on micro) or a manifest file.
    #[arg(value_name = "DIR|MANIFEST", default_value = ".")]
    pub(crate) path: PathBuf,
    /// Rebuild and restart the services whose sources change [default: on in a terminal].
    #[arg(long, overrides_with = "no_watch")]
    pub(crate) watch: bool,
    /// Do not watch sources.
    #[arg(
        long = "no-watch",
        visible_alias = "no_watch",
        overrides_with = "watch"
    )]
    pub(crate) no_watch: bool,
    /// Do not start the API gateway.
    #[arg(long = "no-gateway", visible_alias = "no_gateway")]
    pub(crate) no_gateway: bool,
    /// Where the API gateway listens.
    #[arg(
        long,
        short = 'a',
        env = "MICRO_RUN_ADDRESS",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub(crate) address: String,
    /// Run in the background; `micro status`, `micro logs` and `micro stop` reach it.
    #[arg(long, short = 'd')]
    pub(crate) detach: bool,
    /// Build with `cargo build --release`.
    #[arg(long)]
    pub(crate) release: bool,
    /// How long a service has to stop after SIGTERM before it is killed.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) grace: Duration,
    /// The detached supervisor itself (set by --detach).
    #[arg(long, hide = true)]
    pub(crate) supervisor: bool,
}

impl RunArgs {
    /// Whether to watch: `--watch`, `--no-watch`, else when stdout is a terminal.
    pub(crate) fn watching(&self) -> bool {
        if self.watch {
            true
        } else if self.no_watch {
            false
        } else {
            std::io::IsTerminal::is_terminal(&std::io::stdout())
        }
    }
}

/// `micro logs`: which service's log, how much, and whether to follow it.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The service (all of them, interleaved by file, when omitted).
    pub(crate) service: Option<String>,
    /// Keep printing lines as they are written.
    #[arg(long, short = 'f')]
    pub(crate) follow: bool,
    /// How many of the last lines to print.
    #[arg(long, short = 'n', default_value_t = 100, value_name = "N")]
    pub(crate) lines: usize,
}

/// `micro stop`: one service, or everything `micro run` started.
#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// The service to stop (it is not restarted); everything when omitted.
    pub(crate) service: Option<String>,
}
