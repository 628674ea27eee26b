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
    (
        "error-call-json",
        &["call", "greeter", "Greeter.Hello", "{bad"],
    ),
    ("error-call-endpoint", &["call", "greeter", "Hello", "{}"]),
    ("error-new-name", &["new", "9lives"]),
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
];

#[test]
fn transcripts_match() {
    let bless = std::env::var("MICRO_BLESS").is_ok_and(|v| v == "1");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, args) in CASES {
        let out = Command::new(env!("CARGO_BIN_EXE_micro"))
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
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
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
