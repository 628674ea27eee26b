//! Settings: defaults, then `MICRO_*` environment variables, then command-line flags.
//!
//! Every setting has an environment variable and a flag of the same name in lower case, as
//! in go-micro (`MICRO_REGISTRY` and `--registry`, `MICRO_REGISTER_TTL` and
//! `--register_ttl`). Durations are seconds (`30`) or a number with a unit (`500ms`, `2s`,
//! `1m`).
//!
//! ```
//! use micro::options::Settings;
//!
//! let mut opts = Settings::default();
//! opts.apply_args(["--registry", "memory", "--register_ttl=60s"]).unwrap();
//! assert_eq!(opts.registry, "memory");
//! assert_eq!(opts.register_ttl.as_secs(), 60);
//!
//! let err = opts.apply_args(["--regsitry", "memory"]).unwrap_err();
//! assert!(err.detail().contains("unknown flag --regsitry"));
//! ```
//!
//! Settings are data: engine names are checked against the [plugin table](crate::plugins)
//! here, and the engines are built from them by the service layer
//! ([`Settings::registry`], [`Settings::broker`], [`Client::from_settings`](crate::Client::from_settings)),
//! which is also the only place that reads the environment ([`Settings::from_env`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::plugins;

const ID: &str = "micro.config";

/// The id of the "error" `--help` is: the usage as its detail (see [`Error::is_help`]).
const HELP: &str = "micro.help";

/// Every setting of a service or client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// Registry: `local` (default), `memory`, `etcd` ... (see [`crate::plugins`]).
    pub registry: String,
    /// Registry address: the directory of the `local` registry, the name of a `memory` one,
    /// the members of an etcd cluster (`127.0.0.1:2379,...`).
    pub registry_address: Option<String>,
    /// How long one request to a networked registry may take (default 5 s).
    pub registry_timeout: Duration,
    /// How long clients keep calling the nodes they last knew while the registry cannot be
    /// reached (default 5 min); after that, calls fail with the registry's error.
    pub registry_stale_for: Duration,
    /// Broker: `http` (default), `memory`, `nats` or `jetstream`.
    pub broker: String,
    /// Broker address: where the `http` broker listens, or the NATS server URL.
    pub broker_address: Option<String>,
    /// Selector strategy: `random` (default), `roundrobin` or `p2c`.
    pub selector: String,
    /// Store: `file` (default), `memory`, `redis`, `postgres` or `nats`.
    pub store: String,
    /// Store address: the `file` store's directory, or the server's URL.
    pub store_address: Option<String>,
    /// The store's database (default: the service's name).
    pub store_database: Option<String>,
    /// The store's table (default: the service's name).
    pub store_table: Option<String>,
    /// Cache: `memory` (default) or `redis`.
    pub cache: String,
    /// Cache address: the memory cache's entry limit, or the Redis URL.
    pub cache_address: Option<String>,
    /// Config files, merged in order (JSON, YAML or TOML by extension).
    pub config_file: Vec<PathBuf>,
    /// Config paths whose values are secret: masked in dumps and logs.
    pub config_secrets: Vec<String>,
    /// The NATS server the `nats` profile puts everything on (default
    /// `nats://127.0.0.1:4222`).
    pub nats_address: Option<String>,
    /// The profile applied (`local` or `nats`), if any.
    pub profile: Option<String>,
    /// Transport between micro processes: `auto` (default: the native transport where both
    /// sides speak it, gRPC otherwise), `grpc` (gRPC only; servers neither accept nor
    /// advertise the native transport), `native` (clients use it even for nodes that do
    /// not advertise it; servers always serve gRPC too) or `memory` (in this process only:
    /// servers listen on an in-process name, no socket).
    pub transport: String,
    /// Address the server listens on (default `0.0.0.0:0`: every interface, a free port).
    pub server_address: String,
    /// Address published in the registry instead of the one listened on.
    pub server_advertise: Option<String>,
    /// Overrides the service name given in code.
    pub server_name: Option<String>,
    /// Overrides the service version given in code.
    pub server_version: Option<String>,
    /// Extra node metadata (`k=v,k=v`).
    pub server_metadata: BTreeMap<String, String>,
    /// How long a registration lives without a refresh (default 30 s).
    pub register_ttl: Duration,
    /// How often a service refreshes its registration (default 10 s; must be below the TTL).
    pub register_interval: Duration,
    /// How long in-flight calls may finish when the service stops (default 10 s).
    pub shutdown_grace: Duration,
    /// How long a stopping service keeps serving after it deregistered and turned its health
    /// to `NOT_SERVING`, so callers and health checkers notice before it refuses calls
    /// (default 100 ms).
    pub shutdown_delay: Duration,
    /// The deadline of a unary call whose caller set none (default 60 s; `None`: no limit).
    pub server_timeout: Option<Duration>,
    /// A connection without calls for this long is closed (default 5 min; `None`: never).
    pub server_idle_timeout: Option<Duration>,
    /// A quiet connection is pinged this often and closed when the ping goes unanswered for
    /// 20 s (default 30 s; `None`: no pings).
    pub server_keepalive: Option<Duration>,
    /// Connections served at once; more are closed as they arrive (default 10,000).
    pub server_max_connections: usize,
    /// Connections older than this are asked to go away once their calls are done, so
    /// clients spread over new nodes (default: no limit).
    pub server_max_connection_age: Option<Duration>,
    /// Shed unary calls when this process's CPU share is over this (0.0–1.0) and more calls
    /// are in flight than it carried (default 0.9; `None`: never shed).
    pub server_load_shedding: Option<f64>,
    /// Default call deadline (default 30 s).
    pub client_request_timeout: Duration,
    /// Retries allowed as a share of calls (default 0.2; 0: no budget).
    pub client_retry_budget: f64,
    /// The adaptive breaker per node and endpoint (default on).
    pub client_breaker: bool,
    /// Timeouts, retries and the breaker per service and endpoint (default none).
    pub client_policy: crate::client::Policies,
    /// Extra attempts for idempotent calls (default 1).
    pub client_retries: u32,
    /// A `micro proxy` every call goes through (`MICRO_PROXY`, default none).
    pub proxy: Option<String>,
    /// Where a service serves Prometheus metrics at `/metrics` (`MICRO_METRICS_ADDRESS`,
    /// default none: metrics off; see [`crate::metrics`]).
    pub metrics_address: Option<String>,
    /// Tracing: `off` (default), `log` (spans in the log) or `otlp` (also exported)
    /// (`MICRO_TRACER`; see [`crate::trace`]).
    pub tracer: crate::trace::TracerKind,
    /// Where `otlp` sends spans: `host:port` or an `http://` URL of an OTLP/HTTP receiver
    /// (`MICRO_TRACER_ADDRESS`, default `127.0.0.1:4318`).
    pub tracer_address: Option<String>,
    /// The share of the traces this service starts that are sampled (exported), 0 to 1
    /// (`MICRO_TRACER_SAMPLE`, default 1); a trace that arrives keeps its caller's decision.
    pub tracer_sample: f64,
    /// TLS certificate, key and CA files (`MICRO_TLS_CERT_FILE`, `MICRO_TLS_KEY_FILE`,
    /// `MICRO_TLS_CA_FILE`, `MICRO_TLS_INSECURE`; see [`crate::tls`]).
    pub tls: crate::tls::TlsFiles,
    /// Authentication: `MICRO_AUTH`, `MICRO_AUTH_PUBLIC_KEY`, `MICRO_AUTH_PRIVATE_KEY`,
    /// `MICRO_AUTH_ID`, `MICRO_AUTH_SECRET`, `MICRO_AUTH_TOKEN`, `MICRO_AUTH_NAMESPACE` (see
    /// [`crate::auth`]).
    pub auth: crate::auth::AuthSettings,
    /// Log filter for binaries (`info`, `debug`, `micro_runtime=trace` ...).
    pub log_level: Option<String>,
    /// Home of the embedded registry (`MICRO_HOME`); empty means `~/.micro`, resolved when
    /// an engine that keeps files is built.
    pub home: PathBuf,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            registry: "local".into(),
            registry_address: None,
            broker: "http".into(),
            broker_address: None,
            selector: "random".into(),
            store: "file".into(),
            store_address: None,
            store_database: None,
            store_table: None,
            cache: "memory".into(),
            cache_address: None,
            config_file: Vec::new(),
            config_secrets: Vec::new(),
            nats_address: None,
            profile: None,
            transport: "auto".into(),
            server_address: "0.0.0.0:0".into(),
            server_advertise: None,
            server_name: None,
            server_version: None,
            server_metadata: BTreeMap::new(),
            registry_timeout: Duration::from_secs(5),
            registry_stale_for: Duration::from_secs(300),
            register_ttl: Duration::from_secs(30),
            register_interval: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            shutdown_delay: Duration::from_millis(100),
            server_timeout: Some(Duration::from_secs(60)),
            server_idle_timeout: Some(Duration::from_secs(300)),
            server_keepalive: Some(Duration::from_secs(30)),
            server_max_connections: 10_000,
            server_max_connection_age: None,
            server_load_shedding: Some(0.9),
            client_request_timeout: Duration::from_secs(30),
            client_retries: 1,
            proxy: None,
            client_retry_budget: 0.2,
            client_breaker: true,
            client_policy: crate::client::Policies::default(),
            metrics_address: None,
            tracer: crate::trace::TracerKind::Off,
            tracer_address: None,
            tracer_sample: 1.0,
            tls: crate::tls::TlsFiles::default(),
            auth: crate::auth::AuthSettings::default(),
            log_level: None,
            home: PathBuf::new(),
        }
    }
}

mod table;

use table::SETTINGS;

/// `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`).
fn parse_switch(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(Error::bad_request(
            ID,
            format!("{name} {value:?} is not a switch: write on or off"),
        )),
    }
}

/// A duration where `0` or `off` turns the limit off.
fn parse_limit(name: &str, value: &str) -> Result<Option<Duration>> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let d = parse_duration(name, value)?;
    Ok((!d.is_zero()).then_some(d))
}

/// The setting name nearest to `name`, when one is near enough to be a typo.
fn closest(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .map(|s| (edit_distance(name, s.name), s.name))
        .filter(|(d, s)| *d <= 2.max(s.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

pub use crate::duration::parse_duration;

impl Settings {
    /// The tracer these settings ask for (`MICRO_TRACER`, `MICRO_TRACER_ADDRESS`,
    /// `MICRO_TRACER_SAMPLE`) for `service`; `None` with tracing off.
    pub fn tracer_for(&self, service: &str) -> Result<Option<crate::trace::Tracer>> {
        let tracer = crate::trace::Tracer::from_settings(
            self.tracer,
            self.tracer_address.as_deref(),
            service,
        )?;
        if let Some(tracer) = &tracer {
            tracer.set_sampling(self.tracer_sample);
        }
        Ok(tracer)
    }

    /// Overlay settings found by `lookup` (called with `MICRO_REGISTRY` etc.).
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<()> {
        for setting in SETTINGS {
            let key = format!("MICRO_{}", setting.name.to_ascii_uppercase());
            if let Some(value) = lookup(&key) {
                (setting.apply)(self, &value)
                    .map_err(|e| Error::bad_request(ID, format!("{key}: {}", e.detail())))?;
            }
        }
        self.validate()
    }

    /// Overlay command-line flags (`--registry memory`, `--registry=memory`,
    /// `--registry-address ...`). Unknown flags and stray arguments are errors (with the
    /// nearest flag name for a typo); `--help` or `-h` is an error whose detail is the
    /// usage ([`Error::is_help`]).
    pub fn apply_args<I, S>(&mut self, args: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut args = args.into_iter().map(|a| a.as_ref().to_owned());
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Err(Error::new(HELP, Settings::usage(), 400));
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(Error::bad_request(
                    ID,
                    format!(
                        "unexpected argument {arg:?}: options are --name value or --name=value; --help lists them"
                    ),
                ));
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.replace('-', "_"), Some(v.to_owned())),
                None => (flag.replace('-', "_"), None),
            };
            let Some(setting) = SETTINGS.iter().find(|s| s.name == name) else {
                let hint = match closest(&name) {
                    Some(near) => format!(" (did you mean --{near}?)"),
                    None => String::new(),
                };
                return Err(Error::bad_request(
                    ID,
                    format!("unknown flag --{name}{hint}; --help lists the options"),
                ));
            };
            let value = match inline {
                Some(v) => v,
                None => args.next().ok_or_else(|| {
                    Error::bad_request(ID, format!("flag --{name} needs a value"))
                })?,
            };
            (setting.apply)(self, &value)
                .map_err(|e| Error::bad_request(ID, format!("--{name}: {}", e.detail())))?;
        }
        self.validate()
    }

    fn validate(&self) -> Result<()> {
        if self.register_ttl.is_zero() {
            return Err(Error::bad_request(
                ID,
                "register_ttl must be more than zero",
            ));
        }
        if self.register_interval.is_zero() || self.register_interval >= self.register_ttl {
            return Err(Error::bad_request(
                ID,
                format!(
                    "register_interval ({:?}) must be more than zero and shorter than register_ttl ({:?}); a third of the TTL is a good value",
                    self.register_interval, self.register_ttl
                ),
            ));
        }
        Ok(())
    }

    /// The flags and environment variables, one per line, for `--help` output.
    pub fn usage() -> String {
        let mut out = String::from("Options (flag, environment variable):\n");
        for s in SETTINGS {
            let engines = s
                .concept
                .map(|c| format!(" ({})", plugins::names(c).join(", ")))
                .unwrap_or_default();
            out.push_str(&format!(
                "  --{:<24} MICRO_{:<24} {}{engines}\n",
                s.name,
                s.name.to_ascii_uppercase(),
                s.help
            ));
        }
        out
    }
}

/// micro's settings as flags of a binary's own clap parser (the `clap` feature): flatten it
/// into the binary's arguments, then hand it to [`ServiceBuilder::flags`](crate::ServiceBuilder::flags).
///
/// ```ignore
/// #[derive(clap::Parser)]
/// struct Args {
///     /// How many items to keep in stock.
///     #[arg(long, default_value_t = 10)]
///     stock: u32,
///     #[command(flatten)]
///     micro: micro::options::Flags,
/// }
///
/// let args = <Args as clap::Parser>::parse(); // --help lists both, under their own headings
/// micro::Service::builder("inventory").flags(args.micro.args()).build()?;
/// ```
#[cfg(feature = "clap")]
#[derive(Clone, Debug, Default)]
pub struct Flags {
    given: Vec<(&'static str, String)>,
}

#[cfg(feature = "clap")]
impl Flags {
    /// The flags given, as `--name=value` arguments for `ServiceBuilder::flags`.
    pub fn args(&self) -> Vec<String> {
        self.given
            .iter()
            .map(|(name, value)| format!("--{name}={value}"))
            .collect()
    }
}

#[cfg(feature = "clap")]
impl clap::FromArgMatches for Flags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut flags = Flags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        for setting in SETTINGS {
            if let Some(value) = matches.get_one::<String>(setting.name) {
                self.given.retain(|(name, _)| *name != setting.name);
                self.given.push((setting.name, value.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(feature = "clap")]
impl clap::Args for Flags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().fold(cmd, |cmd, setting| {
            let engines = setting
                .concept
                .map(|c| format!(" ({})", plugins::names(c).join(", ")))
                .unwrap_or_default();
            cmd.arg(
                clap::Arg::new(setting.name)
                    .long(setting.name)
                    .value_name("VALUE")
                    .help(format!(
                        "{}{engines} [env: MICRO_{}]",
                        setting.help,
                        setting.name.to_ascii_uppercase()
                    ))
                    .help_heading("micro"),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests;
