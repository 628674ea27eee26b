//! `micro mcp`: every endpoint in the registry as an MCP tool for AI agents (stdio or
//! Streamable HTTP), and the tools listed and called as an agent would.

use micro_mcp::{Caller, Mcp, Options};

use crate::cli::{Global, McpArgs, McpServeArgs, McpToolArgs, McpWhat, Output};
use crate::commands::api::{bind_address, stopped};
use crate::commands::{CliError, client, plain_client};
use crate::output;

pub(crate) async fn exec(global: &Global, args: McpArgs) -> Result<(), CliError> {
    match args.what {
        McpWhat::Serve(args) => serve(global, args).await,
        McpWhat::List(tools) => list(global, &tools).await,
        McpWhat::Call {
            tool,
            arguments,
            tools,
        } => call(global, &tool, &arguments, &tools).await,
    }
}

fn options(tools: &McpToolArgs) -> Options {
    let mut options = Options::default();
    options.internal = tools.internal;
    options.stream_limit = tools.stream_limit.max(1);
    options.call_timeout = tools.call_timeout;
    options
}

/// The MCP gateway over `client`, its route table loaded (a registry that does not answer
/// is said once; the table follows the registry when it does).
async fn load(client: micro::Client, options: Options) -> Mcp {
    let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
    if let Err(e) = gateway.refresh().await {
        output::note(&format!("the registry does not answer yet: {}", e.detail()));
    }
    Mcp::new(gateway, options)
}

async fn list(global: &Global, tools: &McpToolArgs) -> Result<(), CliError> {
    let mcp = load(client(global)?, options(tools)).await;
    let tools = mcp.tools();
    if global.output == Output::Json {
        let list: Vec<serde_json::Value> = tools.iter().map(|t| t.to_json()).collect();
        output::print(&serde_json::json!({ "tools": list }).to_string());
        return Ok(());
    }
    if tools.is_empty() {
        output::note("no tools: no registered service has an endpoint to call");
        return Ok(());
    }
    let width = tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for tool in tools.iter() {
        let first = tool.description.lines().next().unwrap_or_default();
        text.push_str(&format!(
            "{:width$}  {} {}  {first}\n",
            tool.name, tool.service, tool.endpoint
        ));
    }
    output::print(text.trim_end());
    Ok(())
}

async fn call(
    global: &Global,
    tool: &str,
    arguments: &str,
    tools: &McpToolArgs,
) -> Result<(), CliError> {
    let arguments: serde_json::Value = serde_json::from_str(arguments).map_err(|e| {
        CliError::usage(
            format!("the arguments are not JSON: {e}"),
            Some(format!(
                "`micro mcp list -o json` shows the schema of {tool}"
            )),
        )
    })?;
    let mcp = load(client(global)?, options(tools)).await;
    let Some(result) = mcp
        .call_tool(tool, arguments, &Caller::anonymous("cli"))
        .await
    else {
        return Err(CliError::usage(
            format!("there is no tool {tool:?}"),
            Some("`micro mcp list` names the tools".into()),
        ));
    };
    if global.output == Output::Json {
        output::print(&result.to_json().to_string());
    } else if !result.is_error {
        let pretty = serde_json::from_str::<serde_json::Value>(&result.text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| result.text.clone());
        output::print(&pretty);
    }
    if result.is_error {
        return Err(CliError::internal(result.text));
    }
    Ok(())
}

async fn serve(global: &Global, args: McpServeArgs) -> Result<(), CliError> {
    let mut options = options(&args.tools);
    options.rate = args.rate_limit.max(0.0);
    options.burst = args.burst.max(1.0);
    options.allowed_origins = args.allow_origin.clone();
    let Some(address) = &args.address else {
        // stdio: the agent that started this process is the local user; calls go with
        // their token (MICRO_AUTH_TOKEN or micro login).
        let mcp = load(client(global)?, options).await;
        return mcp
            .serve_stdio(tokio::io::stdin(), tokio::io::stdout())
            .await
            .map_err(|e| CliError::internal(e.detail()));
    };
    let settings = super::options(global)?;
    let address = bind_address(address);
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
        CliError::usage(
            format!("cannot listen on {address}: {e}"),
            Some("choose another address with --address, e.g. --address 127.0.0.1:8093".into()),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::internal(e.to_string()))?;
    options.loopback = local.ip().is_loopback();
    // MICRO_AUTH=jwt: each request's token, and each tool as the endpoint it calls.
    let _following = match super::auth::gate(&settings).await? {
        Some((gate, following)) => {
            options.auth = Some(gate);
            Some(following)
        }
        None => None,
    };
    if !options.loopback && options.auth.is_none() && !args.insecure {
        return Err(CliError::usage(
            format!("micro mcp would listen on {local}, where other hosts reach it, and check no caller"),
            Some("set MICRO_AUTH=jwt and MICRO_AUTH_PUBLIC_KEY (agents send a bearer token), keep it on 127.0.0.1, or add --insecure on a network you trust".into()),
        ));
    }
    // Not the CLI's own client: a token `micro login` kept must never go with an agent's
    // calls (the agent's own token does, when it sends one).
    let mcp = load(plain_client(global)?, options).await;
    output::note(&format!(
        "micro mcp on http://{local}{}: {} tools; Ctrl-C stops it",
        micro_mcp::PATH,
        mcp.tools().len()
    ));
    mcp.serve_http(listener, stopped())
        .await
        .map_err(|e| CliError::internal(e.detail()))
}
