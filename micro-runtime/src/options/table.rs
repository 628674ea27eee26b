//! The table of settings: name, help, and how a value applies.

use std::path::PathBuf;

use super::{ID, Settings, parse_duration, parse_limit, parse_switch};
use crate::error::{Error, Result};
use crate::net::normalize_address;
use crate::plugins::{self, Concept};

pub(super) type Apply = fn(&mut Settings, &str) -> Result<()>;

pub(super) struct Setting {
    pub(super) name: &'static str,
    pub(super) help: &'static str,
    /// The pluggable concept whose engine the setting names: `--help` lists them.
    pub(super) concept: Option<Concept>,
    pub(super) apply: Apply,
}

/// A share from 0 to `max` (a number, e.g. `example`).
fn parse_share(name: &str, value: &str, max: f64, example: &str) -> Result<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && (0.0..=max).contains(r))
        .ok_or_else(|| {
            Error::bad_request(
                ID,
                format!("{name} {value:?} is not a share between 0 and {max} (e.g. {example})"),
            )
        })
}

fn non_empty(name: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        Err(Error::bad_request(
            ID,
            format!("{name} is empty: give it a value or unset it"),
        ))
    } else {
        Ok(v.to_owned())
    }
}

/// Switch registry, broker and store together (go-micro's profiles). A profile fills the
/// engines still at their defaults (and their addresses still unset): whatever else is given,
/// before or after it, wins.
fn apply_profile(o: &mut Settings, v: &str) -> Result<()> {
    let defaults = Settings::default();
    match v.trim() {
        "local" => {}
        "nats" => {
            plugins::check(Concept::Registry, "nats")?;
            plugins::check(Concept::Broker, "jetstream")?;
            plugins::check(Concept::Store, "nats")?;
            if o.registry == defaults.registry {
                o.registry = "nats".into();
                o.registry_address = o.registry_address.take().or(o.nats_address.clone());
            }
            if o.broker == defaults.broker {
                o.broker = "jetstream".into();
                o.broker_address = o.broker_address.take().or(o.nats_address.clone());
            }
            if o.store == defaults.store {
                o.store = "nats".into();
                o.store_address = o.store_address.take().or(o.nats_address.clone());
            }
        }
        other => {
            return Err(Error::bad_request(
                ID,
                format!("unknown profile {other:?}: the profiles are local and nats"),
            ));
        }
    }
    o.profile = Some(v.trim().to_owned());
    Ok(())
}

/// An address the `nats` profile gave, dropped when its engine is switched to another.
fn drop_profile_address(
    profile: Option<&str>,
    nats: Option<&String>,
    address: &mut Option<String>,
) {
    if profile == Some("nats") && address.as_ref() == nats && address.is_some() {
        *address = None;
    }
}

/// `nats_address`: also the address of every engine the `nats` profile put on NATS that
/// has no other address yet (so the flag works before or after `--profile`).
fn apply_nats_address(o: &mut Settings, v: &str) -> Result<()> {
    let address = non_empty("nats_address", v)?;
    if o.profile.as_deref() == Some("nats") {
        let old = o.nats_address.clone();
        let follow = |engine: &str, wanted: &str, addr: &mut Option<String>| {
            if engine == wanted && (addr.is_none() || *addr == old) {
                *addr = Some(address.clone());
            }
        };
        follow(&o.registry, "nats", &mut o.registry_address);
        follow(&o.broker, "jetstream", &mut o.broker_address);
        follow(&o.store, "nats", &mut o.store_address);
    }
    o.nats_address = Some(address);
    Ok(())
}

pub(super) const SETTINGS: &[Setting] = &[
    // First, so that in the environment every other setting overrides the profile.
    Setting {
        name: "nats_address",
        help: "the NATS server of the nats profile (default nats://127.0.0.1:4222)",
        concept: None,
        apply: apply_nats_address,
    },
    Setting {
        name: "profile",
        help: "local (local registry, http broker, file store) or nats (registry, broker and store on one NATS server at nats_address)",
        concept: None,
        apply: apply_profile,
    },
    Setting {
        name: "registry",
        help: "registry: where services are found",
        concept: Some(Concept::Registry),
        apply: |o, v| {
            let v = non_empty("registry", v)?;
            plugins::check(Concept::Registry, &v)?;
            if v != o.registry {
                drop_profile_address(
                    o.profile.as_deref(),
                    o.nats_address.as_ref(),
                    &mut o.registry_address,
                );
            }
            o.registry = v;
            Ok(())
        },
    },
    Setting {
        name: "registry_address",
        help: "address of the registry, for registries that have one",
        concept: None,
        apply: |o, v| {
            o.registry_address = Some(non_empty("registry_address", v)?);
            Ok(())
        },
    },
    Setting {
        name: "registry_timeout",
        help: "how long one request to a networked registry may take (default 5s)",
        concept: None,
        apply: |o, v| {
            o.registry_timeout = parse_duration("registry_timeout", v)?;
            Ok(())
        },
    },
    Setting {
        name: "registry_stale_for",
        help: "how long clients keep calling the last known nodes while the registry is unreachable (default 5m)",
        concept: None,
        apply: |o, v| {
            o.registry_stale_for = parse_duration("registry_stale_for", v)?;
            Ok(())
        },
    },
    Setting {
        name: "broker",
        help: "broker: how messages travel",
        concept: Some(Concept::Broker),
        apply: |o, v| {
            let v = non_empty("broker", v)?;
            plugins::check(Concept::Broker, &v)?;
            if v != o.broker {
                drop_profile_address(
                    o.profile.as_deref(),
                    o.nats_address.as_ref(),
                    &mut o.broker_address,
                );
            }
            o.broker = v;
            Ok(())
        },
    },
    Setting {
        name: "broker_address",
        help: "where the http broker listens, or the NATS URL (default nats://127.0.0.1:4222)",
        concept: None,
        apply: |o, v| {
            o.broker_address = Some(non_empty("broker_address", v)?);
            Ok(())
        },
    },
    Setting {
        name: "store",
        help: "store: where services keep state",
        concept: Some(Concept::Store),
        apply: |o, v| {
            let v = non_empty("store", v)?;
            plugins::check(Concept::Store, &v)?;
            if v != o.store {
                drop_profile_address(
                    o.profile.as_deref(),
                    o.nats_address.as_ref(),
                    &mut o.store_address,
                );
            }
            o.store = v;
            Ok(())
        },
    },
    Setting {
        name: "store_address",
        help: "the file store's directory (default MICRO_HOME/store), or the store server's URL",
        concept: None,
        apply: |o, v| {
            o.store_address = Some(non_empty("store_address", v)?);
            Ok(())
        },
    },
    Setting {
        name: "store_database",
        help: "the store's database (default: the service's name)",
        concept: None,
        apply: |o, v| {
            o.store_database = Some(non_empty("store_database", v)?);
            Ok(())
        },
    },
    Setting {
        name: "store_table",
        help: "the store's table (default: the service's name)",
        concept: None,
        apply: |o, v| {
            o.store_table = Some(non_empty("store_table", v)?);
            Ok(())
        },
    },
    Setting {
        name: "cache",
        help: "cache: values kept for a while",
        concept: Some(Concept::Cache),
        apply: |o, v| {
            let v = non_empty("cache", v)?;
            plugins::check(Concept::Cache, &v)?;
            o.cache = v;
            Ok(())
        },
    },
    Setting {
        name: "cache_address",
        help: "the memory cache's entry limit (default 10000), or the Redis URL",
        concept: None,
        apply: |o, v| {
            o.cache_address = Some(non_empty("cache_address", v)?);
            Ok(())
        },
    },
    Setting {
        name: "config_file",
        help: "config files merged in order, comma-separated (JSON, YAML or TOML)",
        concept: None,
        apply: |o, v| {
            for path in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                o.config_file.push(PathBuf::from(path));
            }
            Ok(())
        },
    },
    Setting {
        name: "config_secrets",
        help: "config paths whose values are secret (masked in dumps), comma-separated",
        concept: None,
        apply: |o, v| {
            for path in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                o.config_secrets.push(path.to_owned());
            }
            Ok(())
        },
    },
    Setting {
        name: "selector",
        help: "how nodes are picked",
        concept: Some(Concept::Selector),
        apply: |o, v| {
            plugins::check(Concept::Selector, v)?;
            o.selector = v.trim().to_owned();
            Ok(())
        },
    },
    Setting {
        name: "transport",
        help: "transport between micro processes: auto is native where both sides speak it, gRPC otherwise; memory stays in one process",
        concept: Some(Concept::Transport),
        apply: |o, v| {
            let v = v.trim();
            let v = if v.is_empty() { "auto" } else { v };
            plugins::check(Concept::Transport, v)?;
            o.transport = v.to_owned();
            Ok(())
        },
    },
    Setting {
        name: "server_address",
        help: "address to listen on, e.g. 127.0.0.1:9000 or :0 (default 0.0.0.0:0)",
        concept: None,
        apply: |o, v| {
            let v = non_empty("server_address", v)?;
            o.server_address = normalize_address(&v);
            Ok(())
        },
    },
    Setting {
        name: "server_advertise",
        help: "address to publish in the registry: host:port, or a bare host that takes the listening port (default: an interface address)",
        concept: None,
        apply: |o, v| {
            let v = non_empty("server_advertise", v)?;
            crate::net::advertise_with_port(&v, 1).map_err(|why| Error::bad_request(ID, why))?;
            o.server_advertise = Some(v);
            Ok(())
        },
    },
    Setting {
        name: "server_name",
        help: "service name, overriding the one in code",
        concept: None,
        apply: |o, v| {
            o.server_name = Some(non_empty("server_name", v)?);
            Ok(())
        },
    },
    Setting {
        name: "server_version",
        help: "service version, overriding the one in code",
        concept: None,
        apply: |o, v| {
            o.server_version = Some(non_empty("server_version", v)?);
            Ok(())
        },
    },
    Setting {
        name: "server_metadata",
        help: "node metadata as k=v,k=v",
        concept: None,
        apply: |o, v| {
            for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, val)) = pair.split_once('=') else {
                    return Err(Error::bad_request(
                        ID,
                        format!("server_metadata entry {pair:?} has no '=': write key=value"),
                    ));
                };
                o.server_metadata
                    .insert(k.trim().to_owned(), val.trim().to_owned());
            }
            Ok(())
        },
    },
    Setting {
        name: "register_ttl",
        help: "how long a registration lives without a refresh (default 30s)",
        concept: None,
        apply: |o, v| {
            o.register_ttl = parse_duration("register_ttl", v)?;
            Ok(())
        },
    },
    Setting {
        name: "register_interval",
        help: "how often to refresh the registration (default 10s)",
        concept: None,
        apply: |o, v| {
            o.register_interval = parse_duration("register_interval", v)?;
            Ok(())
        },
    },
    Setting {
        name: "shutdown_grace",
        help: "how long in-flight calls may finish on shutdown (default 10s)",
        concept: None,
        apply: |o, v| {
            o.shutdown_grace = parse_duration("shutdown_grace", v)?;
            Ok(())
        },
    },
    Setting {
        name: "shutdown_delay",
        help: "how long a stopping service keeps serving after deregistering (default 100ms)",
        concept: None,
        apply: |o, v| {
            o.shutdown_delay = parse_duration("shutdown_delay", v)?;
            Ok(())
        },
    },
    Setting {
        name: "server_timeout",
        help: "deadline of a unary call whose caller set none; 0 or off: none (default 60s)",
        concept: None,
        apply: |o, v| {
            o.server_timeout = parse_limit("server_timeout", v)?;
            Ok(())
        },
    },
    Setting {
        name: "server_idle_timeout",
        help: "close a connection without calls after this long; 0 or off: never (default 5m)",
        concept: None,
        apply: |o, v| {
            o.server_idle_timeout = parse_limit("server_idle_timeout", v)?;
            Ok(())
        },
    },
    Setting {
        name: "server_keepalive",
        help: "ping a quiet connection this often, close it when unanswered for 20s; 0 or off: no pings (default 30s)",
        concept: None,
        apply: |o, v| {
            o.server_keepalive = parse_limit("server_keepalive", v)?;
            Ok(())
        },
    },
    Setting {
        name: "server_max_connections",
        help: "connections served at once, more are closed as they arrive (default 10000)",
        concept: None,
        apply: |o, v| {
            o.server_max_connections =
                v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::bad_request(
                        ID,
                        format!("server_max_connections {v:?} is not a positive whole number"),
                    )
                })?;
            Ok(())
        },
    },
    Setting {
        name: "server_max_connection_age",
        help: "ask connections older than this to go away once their calls are done; 0 or off: never (default off)",
        concept: None,
        apply: |o, v| {
            o.server_max_connection_age = parse_limit("server_max_connection_age", v)?;
            Ok(())
        },
    },
    Setting {
        name: "server_load_shedding",
        help: "shed calls when the CPU share is over this (0.0-1.0) and calls pile up: on, off or a share (default 0.9)",
        concept: None,
        apply: |o, v| {
            let v = v.trim();
            o.server_load_shedding = match v.to_ascii_lowercase().as_str() {
                "on" | "true" => Some(0.9),
                "off" | "false" => None,
                share => Some(
                    share
                        .parse::<f64>()
                        .ok()
                        .filter(|s| (0.0..=1.0).contains(s))
                        .ok_or_else(|| {
                            Error::bad_request(
                                ID,
                                format!("server_load_shedding {v:?}: write on, off or a CPU share between 0 and 1 (e.g. 0.9)"),
                            )
                        })?,
                ),
            };
            Ok(())
        },
    },
    Setting {
        name: "client_request_timeout",
        help: "default call deadline (default 30s)",
        concept: None,
        apply: |o, v| {
            o.client_request_timeout = parse_duration("client_request_timeout", v)?;
            Ok(())
        },
    },
    Setting {
        name: "client_retry_budget",
        help: "retries allowed as a share of calls over 10s, at least 10; 0 turns it off (default 0.2)",
        concept: None,
        apply: |o, v| {
            o.client_retry_budget = parse_share("client_retry_budget", v, 10.0, "0.2")?;
            Ok(())
        },
    },
    Setting {
        name: "client_breaker",
        help: "refuse attempts to a failing node and endpoint early: on or off (default on)",
        concept: None,
        apply: |o, v| {
            o.client_breaker = parse_switch("client_breaker", v)?;
            Ok(())
        },
    },
    Setting {
        name: "proxy",
        help: "send every call through this micro proxy, e.g. 10.0.0.5:8085; it resolves and balances (default none)",
        concept: None,
        apply: |o, v| {
            o.proxy = Some(normalize_address(&non_empty("proxy", v)?));
            Ok(())
        },
    },
    Setting {
        name: "client_policy",
        help: "timeouts, retries and the breaker per target: \"svc: timeout=2s retries=0; svc/Svc.Method: breaker=off\"",
        concept: None,
        apply: |o, v| {
            o.client_policy = crate::client::Policies::parse(v)?;
            Ok(())
        },
    },
    Setting {
        name: "client_retries",
        help: "extra attempts for idempotent calls (default 1)",
        concept: None,
        apply: |o, v| {
            o.client_retries = v.trim().parse().map_err(|_| {
                Error::bad_request(ID, format!("client_retries {v:?} is not a whole number"))
            })?;
            Ok(())
        },
    },
    Setting {
        name: "metrics_address",
        help: "serve Prometheus metrics at http://ADDRESS/metrics, e.g. 127.0.0.1:9464 (default off)",
        concept: None,
        apply: |o, v| {
            o.metrics_address = Some(normalize_address(&non_empty("metrics_address", v)?));
            Ok(())
        },
    },
    Setting {
        name: "tracer",
        help: "tracing: off (default), log (spans and their ids in the log) or otlp (also sent to tracer_address)",
        concept: None,
        apply: |o, v| {
            o.tracer = v.parse()?;
            Ok(())
        },
    },
    Setting {
        name: "tracer_address",
        help: "the OTLP/HTTP receiver spans go to with tracer otlp: host:port or http:// URL (default 127.0.0.1:4318)",
        concept: None,
        apply: |o, v| {
            o.tracer_address = Some(non_empty("tracer_address", v)?);
            Ok(())
        },
    },
    Setting {
        name: "tracer_sample",
        help: "the share of the traces this service starts that are sampled (exported), 0 to 1 (default 1); a trace that arrives keeps its caller's decision",
        concept: None,
        apply: |o, v| {
            o.tracer_sample = parse_share("tracer_sample", v, 1.0, "0.1")?;
            Ok(())
        },
    },
    Setting {
        name: "tls_cert_file",
        help: "this node's TLS certificate chain (PEM): servers serve TLS, clients present it",
        concept: None,
        apply: |o, v| {
            o.tls.cert_file = Some(PathBuf::from(non_empty("tls_cert_file", v)?));
            Ok(())
        },
    },
    Setting {
        name: "tls_key_file",
        help: "the private key of the TLS certificate (PEM)",
        concept: None,
        apply: |o, v| {
            o.tls.key_file = Some(PathBuf::from(non_empty("tls_key_file", v)?));
            Ok(())
        },
    },
    Setting {
        name: "tls_ca_file",
        help: "CA certificates (PEM): clients dial TLS and check servers against them; servers require client certificates (mutual TLS)",
        concept: None,
        apply: |o, v| {
            o.tls.ca_file = Some(PathBuf::from(non_empty("tls_ca_file", v)?));
            Ok(())
        },
    },
    Setting {
        name: "tls_insecure",
        help: "dial TLS without checking server certificates: on or off (tests only)",
        concept: None,
        apply: |o, v| {
            o.tls.insecure = parse_switch("tls_insecure", v)?;
            Ok(())
        },
    },
    Setting {
        name: "tls_verify_service",
        help: "require a node's TLS certificate to name the service it is registered as: on or off",
        concept: None,
        apply: |o, v| {
            o.tls.verify_service = parse_switch("tls_verify_service", v)?;
            Ok(())
        },
    },
    Setting {
        name: "auth",
        help: "authentication: noop (default: every call let in) or jwt (tokens and rules)",
        concept: None,
        apply: |o, v| {
            let v = non_empty("auth", v)?;
            if v != "noop" && v != "jwt" {
                return Err(Error::bad_request(
                    ID,
                    format!("unknown auth {v:?}: the auth engines are noop and jwt"),
                ));
            }
            o.auth.engine = v;
            Ok(())
        },
    },
    Setting {
        name: "auth_public_key",
        help: "the key that checks tokens: PEM, base64 of PEM, or a PEM file",
        concept: None,
        apply: |o, v| {
            o.auth.public_key = Some(non_empty("auth_public_key", v)?);
            Ok(())
        },
    },
    Setting {
        name: "auth_private_key",
        help: "the key that issues tokens (and checks them): PEM, base64 of PEM, or a PEM file",
        concept: None,
        apply: |o, v| {
            o.auth.private_key = Some(non_empty("auth_private_key", v)?);
            Ok(())
        },
    },
    Setting {
        name: "auth_id",
        help: "this service's account id: with auth_secret and the private key it issues itself tokens",
        concept: None,
        apply: |o, v| {
            o.auth.id = Some(non_empty("auth_id", v)?);
            Ok(())
        },
    },
    Setting {
        name: "auth_secret",
        help: "the secret of auth_id's account",
        concept: None,
        apply: |o, v| {
            o.auth.secret = Some(non_empty("auth_secret", v)?);
            Ok(())
        },
    },
    Setting {
        name: "auth_token",
        help: "a token sent with this process's calls (from `micro auth token`)",
        concept: None,
        apply: |o, v| {
            o.auth.token = Some(non_empty("auth_token", v)?);
            Ok(())
        },
    },
    Setting {
        name: "auth_namespace",
        help: "issuer and audience of tokens; tokens of another namespace are refused (default micro)",
        concept: None,
        apply: |o, v| {
            o.auth.namespace = non_empty("auth_namespace", v)?;
            Ok(())
        },
    },
    Setting {
        name: "log_level",
        help: "log filter: error, warn, info, debug, trace",
        concept: None,
        apply: |o, v| {
            o.log_level = Some(non_empty("log_level", v)?);
            Ok(())
        },
    },
    Setting {
        name: "home",
        help: "directory of the embedded registry (default ~/.micro)",
        concept: None,
        apply: |o, v| {
            o.home = PathBuf::from(non_empty("home", v)?);
            Ok(())
        },
    },
];
