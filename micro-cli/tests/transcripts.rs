//! Transcripts of the command line: help and error output, compared with
//! `tests/transcripts/<name>.txt` (refresh with `MICRO_BLESS=1`). A change to any message
//! shows up in review.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};

const CASES: &[(&str, &[&str])] = &[
    ("help", &["--help"]),
    ("new-help", &["new", "--help"]),
    ("call-help", &["call", "--help"]),
    ("stream-help", &["stream", "--help"]),
    ("publish-help", &["publish", "--help"]),
    ("subscribe-help", &["subscribe", "--help"]),
    ("register-help", &["register", "service", "--help"]),
    ("gen-help", &["gen", "--help"]),
    ("api-help", &["api", "--help"]),
    ("proxy-help", &["proxy", "--help"]),
    ("web-help", &["web", "--help"]),
    ("run-help", &["run", "--help"]),
    ("logs-help", &["logs", "--help"]),
    ("error-run-cycle", &["run", "tests/run/cycle.toml"]),
    (
        "error-run-unknown-dependency",
        &["run", "tests/run/unknown.toml"],
    ),
    ("error-run-manifest-key", &["run", "tests/run/typo.toml"]),
    ("error-status-not-running", &["status"]),
    ("error-stop-not-running", &["stop"]),
    ("error-web-address", &["web", "--address", "256.1.1.1:80"]),
    ("error-web-tls", &["web", "--enable_tls"]),
    ("store-help", &["store", "--help"]),
    ("auth-help", &["auth", "--help"]),
    (
        "auth-create-rule-help",
        &["auth", "create", "rule", "--help"],
    ),
    ("auth-list-rules", &["auth", "list", "rules"]),
    (
        "error-auth-resource",
        &[
            "auth",
            "create",
            "rule",
            "r",
            "--scope",
            "*",
            "--resource",
            "greeter",
        ],
    ),
    (
        "error-auth-token-key",
        &["auth", "token", "--id", "ada", "--secret", "ada-secret"],
    ),
    ("error-auth-delete", &["auth", "delete", "rule", "nope"]),
    (
        "error-broker-unreachable",
        &[
            "--broker",
            "redis",
            "--broker_address",
            "redis://127.0.0.1:1",
            "broker",
        ],
    ),
    ("config-help", &["config", "--help"]),
    (
        "error-config-del",
        &["config", "--store", "memory", "del", "database.port"],
    ),
    (
        "error-config-file",
        &["config", "--config_file", "nope.yaml", "dump"],
    ),
    (
        "error-config-path",
        &["config", "--store", "memory", "set", "a..b", "1"],
    ),
    (
        "error-store-engine",
        &["store", "--store", "cassandra", "list"],
    ),
    (
        "error-store-missing",
        &["store", "--store", "memory", "read", "nope"],
    ),
    ("error-api-handler", &["api", "--handler", "soap"]),
    ("error-api-cors", &["api", "--enable_cors"]),
    (
        "error-api-tls",
        &[
            "api",
            "--enable_tls",
            "--tls_cert_file",
            "nope.pem",
            "--tls_key_file",
            "nope.key",
        ],
    ),
    ("error-api-address", &["api", "--address", "256.1.1.1:80"]),
    ("server-help", &["server", "--help"]),
    ("mcp-help", &["mcp", "--help"]),
    ("mcp-serve-help", &["mcp", "serve", "--help"]),
    (
        "error-mcp-arguments",
        &["mcp", "call", "greeter_Greeter_Hello", "{nope"],
    ),
    ("bot-help", &["bot", "--help"]),
    ("error-bot-xmpp-account", &["bot", "--inputs", "xmpp"]),
    (
        "error-bot-allow-input",
        &["bot", "--inputs", "irc", "--allow", "slack=help"],
    ),
    (
        "error-bot-allow-rule",
        &["bot", "--inputs", "irc", "--allow", "matrix=help"],
    ),
    (
        "error-bot-irc-channel",
        &["bot", "--inputs", "irc", "--irc-channels", "ops"],
    ),
    (
        "error-bot-slack-token",
        &[
            "bot",
            "--inputs",
            "slack",
            "--slack-bot-token",
            "xoxp-1",
            "--slack-app-token",
            "xapp-1",
        ],
    ),
    ("error-server-broker", &["server", "--broker", "service"]),
    ("error-server-open", &["server", "--address", "0.0.0.0:0"]),
    ("error-proxy-app", &["proxy", "--server_name", "orders"]),
    (
        "error-proxy-secret-store",
        &["proxy", "--secret_store", "vault=hashicorp"],
    ),
    (
        "error-proxy-address",
        &["proxy", "--address", "256.1.1.1:80"],
    ),
    (
        "error-call-json",
        &["call", "greeter", "Greeter.Hello", "{bad"],
    ),
    ("error-call-endpoint", &["call", "greeter", "Hello", "{}"]),
    ("error-new-name", &["new", "9lives"]),
    ("error-cert-name", &["cert", "dev", "bad/name"]),
    ("error-cert-ca", &["cert", "dev", "ca"]),
    ("cert-help", &["cert", "dev", "--help"]),
    ("error-new-template", &["new", "shop", "--template", "spa"]),
    ("error-publish-json", &["publish", "orders", "{bad"]),
    ("error-publish-topic", &["publish", "orders..x", "{}"]),
    ("error-describe-missing", &["describe", "nosuch"]),
    ("error-dynamic-unknown", &["nosuch", "hello", "--name", "x"]),
    ("error-dynamic-no-endpoint", &["greeter"]),
    (
        "error-register",
        &["register", "service", r#"{"name":"x"}"#],
    ),
    ("error-flag", &["services", "--registry", "consul"]),
    ("error-completion", &["completion", "cmd"]),
    // Against the `orders` record of FIXTURE (its one node cannot be reached).
    ("dynamic-service-help", &["orders", "--help"]),
    ("dynamic-endpoint-help", &["orders", "place", "--help"]),
    ("dynamic-stream-help", &["orders", "watch", "-h"]),
    (
        "error-dynamic-field-type",
        &["orders", "place", "--qty", "two"],
    ),
    ("error-dynamic-field", &["orders", "place", "--qtty", "1"]),
    ("error-dynamic-client-stream", &["orders", "import"]),
    (
        "error-call-field-type",
        &["call", "orders", "Orders.Place", r#"{"qty":"two"}"#],
    ),
    (
        "error-call-field-nested",
        &[
            "call",
            "orders",
            "Orders.Place",
            r#"{"customer":{"vip":"yes"}}"#,
        ],
    ),
    (
        "error-call-unknown-field",
        &["call", "orders", "Orders.Place", r#"{"order":"o1"}"#],
    ),
    (
        "error-call-unreachable",
        &["call", "orders", "Orders.Place", r#"{"orderId":"o1"}"#],
    ),
    (
        "error-call-unreachable-json",
        &[
            "call",
            "orders",
            "Orders.Place",
            r#"{"orderId":"o1"}"#,
            "-o",
            "json",
        ],
    ),
    (
        "error-call-missing-json",
        &["call", "nosuch", "X.Y", "{}", "-o", "json"],
    ),
    (
        "error-call-usage-json",
        &["call", "orders", "Place", "{}", "-o", "json"],
    ),
    (
        "publish-other-broker",
        &["publish", "orders.placed", r#"{"orderId":"o1"}"#],
    ),
    (
        "publish-no-subscriber",
        &["publish", "nobody.listens", r#"{"a":1}"#],
    ),
];

/// A service record registered before the cases run: endpoints with shapes, a server
/// stream, a client stream, a subscriber on the nats broker, and a node nobody listens on.
const FIXTURE: &str = r#"{"name":"orders","version":"1.0.0",
 "endpoints":[
  {"name":"Orders.Place",
   "request":{"name":"PlaceRequest","type":"PlaceRequest","values":[
     {"name":"orderId","type":"string"},{"name":"qty","type":"int32"},
     {"name":"tags","type":"repeated string"},
     {"name":"customer","type":"Customer","values":[{"name":"name","type":"string"},{"name":"vip","type":"bool"}]}]},
   "response":{"name":"PlaceResponse","type":"PlaceResponse","values":[{"name":"orderId","type":"string"}]},
   "metadata":{}},
  {"name":"Orders.Watch",
   "request":{"name":"WatchRequest","type":"WatchRequest","values":[{"name":"orderId","type":"string"}]},
   "response":{"name":"OrderEvent","type":"OrderEvent","values":[{"name":"state","type":"string"}]},
   "metadata":{"stream":"server"}},
  {"name":"Orders.Import","metadata":{"stream":"client"}},
  {"name":"orders.placed",
   "request":{"name":"OrderPlaced","type":"OrderPlaced","values":[{"name":"orderId","type":"string"}]},
   "metadata":{"subscriber":"true","topic":"orders.placed","queue":"orders","message":"shop.OrderPlaced","codecs":"proto,json"}}],
 "nodes":[{"id":"orders-1","address":"127.0.0.1:1","metadata":{"broker":"nats","protocol":"grpc","transport":"grpc"}}]}"#;

/// Message ids differ per run: `published <id> on` reads `published <id> on`.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("published ") {
            Some(rest) => match rest.split_once(' ') {
                Some((_, tail)) => format!("published <id> {tail}"),
                None => line.to_owned(),
            },
            None => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect()
}

#[test]
fn transcripts_match() {
    let bless = std::env::var("MICRO_BLESS").is_ok_and(|v| v == "1");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let home = tempfile::tempdir().unwrap();
    let registered = Command::new(env!("CARGO_BIN_EXE_micro"))
        .args(["register", "service", FIXTURE])
        .env("MICRO_HOME", home.path())
        .env_remove("MICRO_REGISTRY")
        .output()
        .unwrap();
    assert!(
        registered.status.success(),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    let mut failures = Vec::new();
    // The bot's settings of whoever runs the tests must not change what they see.
    let bot_settings: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("MICRO_BOT_"))
        .collect();
    for (name, args) in CASES {
        let mut command = Command::new(env!("CARGO_BIN_EXE_micro"));
        for key in &bot_settings {
            command.env_remove(key);
        }
        let out = command
            .args(*args)
            .env("MICRO_HOME", home.path())
            .env("COLUMNS", "100")
            .env_remove("MICRO_REGISTRY")
            .env_remove("MICRO_BROKER")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let got = format!(
            "$ micro {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.status.code().unwrap_or(-1),
            normalise(&String::from_utf8_lossy(&out.stdout)),
            normalise(&String::from_utf8_lossy(&out.stderr))
        );
        let got = got.replace(home.path().to_str().unwrap(), "$MICRO_HOME");
        assert!(!got.contains("panicked"), "{name}: {got}");
        let file = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "--- {name} (want)\n{want}\n--- {name} (got)\n{got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "transcripts differ (MICRO_BLESS=1 refreshes them):\n{}",
        failures.join("\n")
    );
}
