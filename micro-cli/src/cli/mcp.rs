//! The arguments of `micro mcp`.

use std::time::Duration;

use clap::{Args, Subcommand};

/// `micro mcp`.
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(subcommand)]
    pub(crate) what: McpWhat,
}

/// What `micro mcp` does.
#[derive(Debug, Subcommand)]
pub(crate) enum McpWhat {
    /// Serve every endpoint in the registry as an MCP tool: over stdio (for an agent that
    /// starts it), or Streamable HTTP at /mcp with --address.
    Serve(McpServeArgs),
    /// The tools an agent would see: name, service and endpoint, description.
    List(McpToolArgs),
    /// Call a tool as an agent would: `micro mcp call greeter_Greeter_Hello '{"name":"John"}'`.
    Call {
        /// The tool's name (`micro mcp list`).
        tool: String,
        /// Its arguments, a JSON object.
        #[arg(default_value = "{}")]
        arguments: String,
        #[command(flatten)]
        tools: McpToolArgs,
    },
}

/// What decides the tools.
#[derive(Clone, Debug, Args)]
pub(crate) struct McpToolArgs {
    /// Offer the platform's own micro.* services (micro server's store and broker) too.
    #[arg(long)]
    pub(crate) internal: bool,
    /// The most messages of a server stream a result holds.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub(crate) stream_limit: usize,
    /// How long one tool call may take.
    #[arg(long, default_value = "30s", value_parser = super::parse_duration)]
    pub(crate) call_timeout: Duration,
}

/// `micro mcp serve`.
#[derive(Clone, Debug, Args)]
pub(crate) struct McpServeArgs {
    /// Serve Streamable HTTP at /mcp on this address instead of stdio (loopback unless
    /// MICRO_AUTH=jwt or --insecure).
    #[arg(long, env = "MICRO_MCP_ADDRESS", value_name = "ADDR")]
    pub(crate) address: Option<String>,
    /// A browser origin allowed to call over HTTP besides this machine's own (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub(crate) allow_origin: Vec<String>,
    /// Calls per second each tool allows (0: no limit).
    #[arg(long, default_value_t = 10.0, value_name = "N")]
    pub(crate) rate_limit: f64,
    /// Calls a tool may take at once above its rate.
    #[arg(long, default_value_t = 20.0, value_name = "N")]
    pub(crate) burst: f64,
    /// Listen beyond loopback although nothing checks who calls.
    #[arg(long)]
    pub(crate) insecure: bool,
    #[command(flatten)]
    pub(crate) tools: McpToolArgs,
}
