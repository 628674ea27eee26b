//! The arguments of `micro cert`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `micro cert`.
#[derive(Debug, Args)]
pub(crate) struct CertArgs {
    #[command(subcommand)]
    pub(crate) what: CertWhat,
}

/// What `micro cert` makes.
#[derive(Debug, Subcommand)]
pub(crate) enum CertWhat {
    /// Write a development CA (kept and reused) and a certificate for each name, valid for
    /// the name, localhost and this host's addresses, as server and as client.
    Dev {
        /// Names to make certificates for (service names), e.g. greeter.
        #[arg(default_value = "localhost")]
        names: Vec<String>,
        /// Directory for the files (default MICRO_HOME/certs, ~/.micro/certs).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Days the certificates are valid.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
}
