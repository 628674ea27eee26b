//! The arguments of `micro server`.

use clap::Args;

/// `micro server`: where it, its gateway and its dashboard listen.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// Where to listen; services elsewhere set MICRO_REGISTRY, MICRO_BROKER and
    /// MICRO_STORE to service and each MICRO_*_ADDRESS to it.
    #[arg(long, default_value = "127.0.0.1:8000", value_name = "ADDR")]
    pub(crate) address: String,
    /// Listen on an address other hosts reach without MICRO_AUTH=jwt, so that nothing
    /// checks who calls (anyone who reaches it can register services, publish and write).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Where the API gateway (`micro api`, handler meta) listens, or `off`.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR|off")]
    pub(crate) api: String,
    /// Where the web dashboard (`micro web`) listens, or `off`.
    #[arg(long, default_value = "127.0.0.1:8082", value_name = "ADDR|off")]
    pub(crate) web: String,
}
