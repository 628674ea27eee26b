//! The command line, declared with clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::templates::Template;

mod api;
mod auth;
mod bot;
mod cert;
mod mcp;
mod proxy;
mod run;
mod server;
mod web;

pub(crate) use api::ApiArgs;
pub(crate) use auth::{AccessArg, AuthArgs, AuthWhat, CreateWhat, Kind, TokenArgs};
pub(crate) use bot::{BotArgs, BotInput, Guarded};
pub(crate) use cert::{CertArgs, CertWhat};
pub(crate) use mcp::{McpArgs, McpServeArgs, McpToolArgs, McpWhat};
pub(crate) use proxy::ProxyArgs;
pub(crate) use run::{LogsArgs, RunArgs, StopArgs};
pub(crate) use server::ServerArgs;
pub(crate) use web::WebArgs;

/// Call, inspect and run micro services.
#[derive(Debug, Parser)]
#[command(
    name = "micro",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Call an endpoint with its fields as flags: micro SERVICE ENDPOINT --field value ...\n  (micro greeter hello --name John)\n\nConfiguration also comes from MICRO_* environment variables (MICRO_REGISTRY, MICRO_HOME ...)."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes.
#[derive(Clone, Debug, Args)]
pub(crate) struct Global {
    /// Registry to use: local (default: every process of this user on this host), etcd, nats,
    /// mdns, dns, service (micro server) or memory.
    #[arg(long, global = true, env = "MICRO_REGISTRY", value_name = "NAME")]
    pub(crate) registry: Option<String>,
    /// Address of the registry, for registries that have one.
    #[arg(
        long = "registry_address",
        visible_alias = "registry-address",
        global = true,
        env = "MICRO_REGISTRY_ADDRESS",
        value_name = "ADDR"
    )]
    pub(crate) registry_address: Option<String>,
    /// Broker for publish and subscribe: http (default), memory, nats, jetstream, redis,
    /// rabbitmq, mqtt or service (micro server).
    #[arg(long, global = true, env = "MICRO_BROKER", value_name = "NAME")]
    pub(crate) broker: Option<String>,
    /// Address of the broker: its server's URL (or host:port of micro server), or where
    /// the http broker listens.
    #[arg(
        long = "broker_address",
        visible_alias = "broker-address",
        global = true,
        env = "MICRO_BROKER_ADDRESS",
        value_name = "ADDR"
    )]
    pub(crate) broker_address: Option<String>,
    /// Home of the embedded registry [default: ~/.micro].
    #[arg(
        long,
        global = true,
        env = "MICRO_HOME",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub(crate) home: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    pub(crate) output: Output,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a service project from a template.
    New(NewArgs),
    /// List registered services.
    Services,
    /// Show a service: versions, endpoints with their request and response fields, nodes.
    Describe(DescribeArgs),
    /// Call an endpoint with a JSON request and print the JSON response.
    Call(CallArgs),
    /// Check the health of every node of a service (grpc.health.v1).
    Health(HealthArgs),
    /// Open a stream: JSON requests from the argument or stdin (one per line), one JSON line
    /// out per response.
    Stream(StreamArgs),
    /// Publish a JSON message on a topic.
    Publish(PublishArgs),
    /// Print the messages published on a topic, one JSON line each.
    Subscribe(SubscribeArgs),
    /// The registry: list every node, get one service, or watch changes (one JSON line each).
    Registry {
        #[command(subcommand)]
        what: RegistryWhat,
    },
    /// Register a service (JSON, as `micro describe -o json` prints it) until deregistered.
    Register {
        #[command(subcommand)]
        what: RegisterWhat,
    },
    /// Remove the nodes of a service (JSON) from the registry.
    Deregister {
        #[command(subcommand)]
        what: RegisterWhat,
    },
    /// Run the API gateway: HTTP/JSON in front of every service in the registry.
    Api(ApiArgs),
    /// Run the web dashboard: browse, describe and call services in a browser, watch topics,
    /// browse the registry and the store; and proxy web apps written as services.
    Web(WebArgs),
    /// Every endpoint in the registry as a tool for AI agents (Model Context Protocol):
    /// `micro mcp serve` (stdio, or --address for HTTP), `micro mcp list`, `micro mcp call`.
    Mcp(McpArgs),
    /// A chat bot on IRC, XMPP or Slack: list services, check health, call endpoints, and
    /// run the commands services in the bot namespace serve (micro.bot.NAME).
    Bot(BotArgs),
    /// Run the sidecar: apps in any language register, call, publish, subscribe and keep
    /// state over HTTP, in go-micro's sidecar shape or Dapr's.
    Proxy(ProxyArgs),
    /// Run a system of services: build them, start them in dependency order, restart what
    /// dies, rebuild what changes, with the API gateway in front (micro.toml, or the cargo
    /// workspace's binary crates that depend on micro).
    Run(RunArgs),
    /// Serve the registry, broker and store to micro services on other machines
    /// (MICRO_REGISTRY=service, MICRO_BROKER=service, MICRO_STORE=service, each
    /// MICRO_*_ADDRESS=host:port), with the API gateway and the dashboard beside them.
    Server(ServerArgs),
    /// What `micro run` runs: each service's state, process, restarts and address.
    Status,
    /// The logs of what `micro run` runs (MICRO_HOME/logs).
    Logs(LogsArgs),
    /// Stop a service `micro run` runs, or everything.
    Stop(StopArgs),
    /// The broker engines: what each guarantees, which one is in use, and whether it answers.
    Broker,
    /// Read, write, list and delete records of a store (the engine a service would use).
    Store(StoreArgs),
    /// Read a service's config as it would (files, store records, environment); set and
    /// delete values in its store record.
    Config(ConfigArgs),
    /// Certificates for TLS: `micro cert dev greeter` writes a development CA and a
    /// certificate for greeter.
    Cert(CertArgs),
    /// Accounts, rules, keys and tokens (MICRO_AUTH=jwt): `micro auth create account ada
    /// --secret ... --scopes admin`, `micro auth list rules`, `micro auth token`.
    Auth(AuthArgs),
    /// Sign in: issue a token for an account and keep it for later commands
    /// (MICRO_HOME/token).
    Login(TokenArgs),
    /// Forget the token `micro login` kept.
    Logout,
    /// Regenerate code for this project's .proto files and add handler stubs for new methods.
    Gen(GenArgs),
    /// Print a shell completion script: `micro completion bash > /etc/bash_completion.d/micro`.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Call an endpoint with fields as flags: `micro greeter hello --name John`
    /// (`micro SERVICE ENDPOINT --field value ...`).
    #[command(external_subcommand)]
    Dynamic(Vec<String>),
    /// Older spelling: `micro list services`.
    #[command(hide = true)]
    List {
        #[command(subcommand)]
        what: ListWhat,
    },
    /// Older spelling: `micro get service NAME`.
    #[command(hide = true)]
    Get {
        #[command(subcommand)]
        what: GetWhat,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegisterWhat {
    /// A service record: `{"name":"x","version":"1","nodes":[{"id":"x-1","address":"10.0.0.1:9000"}]}`.
    Service {
        /// The record as JSON. Read from stdin when omitted.
        json: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryWhat {
    /// Every service version and node (`-o json`: the full records).
    List,
    /// One service: versions, endpoints, nodes (as `micro describe`).
    Get {
        /// The service's registry name, e.g. greeter.
        service: String,
    },
    /// Print each change as one JSON line, `{"action":"create","service":{...}}`, until
    /// interrupted.
    Watch {
        /// Only changes of this service.
        service: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ListWhat {
    /// List registered services.
    Services,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GetWhat {
    /// Show a service.
    Service(DescribeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// The service's registry name, e.g. greeter.
    pub(crate) service: String,
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The service's registry name, e.g. greeter.
    pub(crate) service: String,
    /// The endpoint, Service.Method, e.g. Greeter.Hello.
    pub(crate) endpoint: String,
    /// The request as JSON. Read from stdin when omitted and stdin is not a terminal; `{}`
    /// otherwise.
    pub(crate) request: Option<String>,
    /// Call this node address (host:port) instead of asking the registry; repeatable.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) address: Vec<String>,
    /// Metadata sent with the call, as key=value; repeatable.
    #[arg(long, short = 'm', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) metadata: Vec<(String, String)>,
    /// Deadline of the call, e.g. 500ms, 5s [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Also print which node answered (on stderr).
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StreamArgs {
    /// The service's registry name, e.g. greeter.
    pub(crate) service: String,
    /// The endpoint, Service.Method, e.g. Greeter.Stream.
    pub(crate) endpoint: String,
    /// One request as JSON; without it, requests are read from stdin, one JSON per line.
    pub(crate) request: Option<String>,
    /// Call this node address (host:port) instead of asking the registry.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) address: Vec<String>,
    /// Metadata sent with the stream, as key=value; repeatable.
    #[arg(long, short = 'm', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) metadata: Vec<(String, String)>,
    /// Deadline of the whole stream, e.g. 5m [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// The project directory (with proto/ and src/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Show what would change without writing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// The service's registry name, e.g. greeter.
    pub(crate) service: String,
    /// Deadline of each check.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub(crate) timeout: Duration,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The project name, e.g. hello-world (letters, digits, '-' and '_').
    pub(crate) name: String,
    /// What to create.
    #[arg(long, short = 't', value_enum, default_value_t = Template::Service)]
    pub(crate) template: Template,
    /// Where to create the project directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Prefix of the registry name and proto package, e.g. com.example.
    #[arg(long, value_name = "NS")]
    pub(crate) namespace: Option<String>,
    /// The micro checkout the project depends on [default: the one this binary was built
    /// from].
    #[arg(long = "micro-path", visible_alias = "micro_path", value_name = "PATH")]
    pub(crate) micro_path: Option<PathBuf>,
}

/// Which store engine a command works on (`micro store`, `micro config`).
#[derive(Debug, Args)]
pub(crate) struct StoreEngineArgs {
    /// Store engine: file (default), memory, redis, postgres or nats.
    #[arg(long, global = true, env = "MICRO_STORE", value_name = "NAME")]
    pub(crate) store: Option<String>,
    /// The file store's directory or the store server's URL.
    #[arg(
        global = true,
        long = "store_address",
        visible_alias = "store-address",
        env = "MICRO_STORE_ADDRESS",
        value_name = "ADDR"
    )]
    pub(crate) store_address: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// The service whose config this is: its own record, over the global one [default: the
    /// global record only].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) service: Option<String>,
    /// A config file, as the service gets it; repeatable, merged in order.
    #[arg(
        global = true,
        long = "config_file",
        visible_alias = "config-file",
        value_name = "FILE",
        env = "MICRO_CONFIG_FILE",
        value_delimiter = ','
    )]
    pub(crate) config_file: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) engine: StoreEngineArgs,
    /// Paths whose values are secret (masked by dump), comma-separated.
    #[arg(
        global = true,
        long = "config_secrets",
        env = "MICRO_CONFIG_SECRETS",
        value_delimiter = ',',
        value_name = "PATHS"
    )]
    pub(crate) secrets: Vec<String>,
    #[command(subcommand)]
    pub(crate) what: ConfigWhat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigWhat {
    /// Print the value at PATH (dotted, e.g. database.host) and where it came from.
    Get {
        /// The path.
        path: String,
    },
    /// Set PATH to VALUE (JSON, else text) in the service's record (or the global one).
    Set {
        /// The path.
        path: String,
        /// The value: `5432`, `true`, `["a","b"]`, or any text.
        value: String,
    },
    /// Delete PATH from the service's record (or the global one).
    Del {
        /// The path.
        path: String,
    },
    /// Print the whole merged config, secrets masked.
    Dump,
}

#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    #[command(flatten)]
    pub(crate) engine: StoreEngineArgs,
    /// The table: a service's own is named after the service.
    #[arg(
        long,
        global = true,
        env = "MICRO_STORE_TABLE",
        default_value = "micro",
        value_name = "NAME"
    )]
    pub(crate) table: String,
    /// The database [default: the table's name].
    #[arg(long, global = true, env = "MICRO_STORE_DATABASE", value_name = "NAME")]
    pub(crate) database: Option<String>,
    #[command(subcommand)]
    pub(crate) what: StoreWhat,
}

/// Which keys a read or list covers, and the page.
#[derive(Debug, Args)]
pub(crate) struct StorePage {
    /// Only keys that start with this (for `read`: the key is a prefix).
    #[arg(long)]
    pub(crate) prefix: bool,
    /// Only keys that end with this (for `read`: the key is a suffix).
    #[arg(long)]
    pub(crate) suffix: bool,
    /// At most this many.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Skip this many first.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) offset: usize,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreWhat {
    /// Print the record at KEY (or every record whose key starts with KEY, with --prefix).
    Read {
        /// The key, or the prefix / suffix.
        key: String,
        #[command(flatten)]
        page: StorePage,
    },
    /// Store VALUE at KEY.
    Write {
        /// The key.
        key: String,
        /// The value (text; read from stdin when omitted and stdin is not a terminal).
        value: Option<String>,
        /// Expire after this long, e.g. 10m.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        ttl: Option<Duration>,
        /// Metadata as key=value; repeatable.
        #[arg(long, short = 'm', value_name = "KEY=VALUE", value_parser = parse_key_value)]
        metadata: Vec<(String, String)>,
    },
    /// Delete KEY.
    Delete {
        /// The key.
        key: String,
    },
    /// List keys, in order (every key, or those starting with PREFIX).
    List {
        /// Only keys that start with this.
        prefix: Option<String>,
        /// Only keys that end with this.
        #[arg(long, value_name = "TEXT")]
        suffix: Option<String>,
        /// At most this many.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Skip this many first.
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: usize,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The topic, e.g. orders.created.
    pub(crate) topic: String,
    /// The message as JSON. Read from stdin when omitted and stdin is not a terminal.
    pub(crate) message: Option<String>,
    /// Metadata sent as message headers, as key=value; repeatable.
    #[arg(long, short = 'm', value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) metadata: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub(crate) struct SubscribeArgs {
    /// The topic, e.g. orders.created.
    pub(crate) topic: String,
    /// Join this queue group (share the messages with its other members) instead of
    /// getting every message.
    #[arg(long, value_name = "NAME")]
    pub(crate) queue: Option<String>,
    /// Stop after this many messages.
    #[arg(long, short = 'n', value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Stop after this long, e.g. 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
}

impl Cli {
    /// Parse the process's arguments. Commands that neither call services nor use a broker
    /// (`new`, `gen`, `completion`, `cert dev`) do not list the registry and broker flags in their help.
    pub(crate) fn parse_args() -> Cli {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        // A subcommand that has an argument of a global's id keeps its own: give these
        // commands hidden copies of the connection flags.
        let hidden: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| CONNECTION.contains(&a.get_id().as_str()) || a.get_id() == "output")
            .map(|a| a.clone().hide(true))
            .collect();
        for name in ["new", "gen", "completion"] {
            cmd = cmd.mut_subcommand(name, |sub| sub.args(hidden.iter().cloned()));
        }
        cmd = cmd.mut_subcommand("cert", |cert| {
            cert.mut_subcommand("dev", |dev| dev.args(hidden.iter().cloned()))
        });
        let matches = cmd.get_matches();
        match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        }
    }
}

/// The ids of the flags that choose the registry and the broker.
const CONNECTION: [&str; 5] = [
    "registry",
    "registry_address",
    "broker",
    "broker_address",
    "home",
];

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not key=value")),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    micro::options::parse_duration("duration", s).map_err(|e| e.detail().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
