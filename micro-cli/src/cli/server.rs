//! The arguments of `micro server`.

use clap::Args;

/// `micro server`: where it listens.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Where to listen; services elsewhere set MICRO_REGISTRY=service and
    /// MICRO_REGISTRY_ADDRESS to it.
    #[arg(long, default_value = "127.0.0.1:8000", value_name = "ADDR")]
    pub(crate) address: String,
    /// Listen on an address other hosts reach although nothing checks who calls (anyone
    /// who reaches it can register and deregister services).
    #[arg(long)]
    pub(crate) insecure: bool,
}
