//! The command line itself: help, usage errors, bad input. Never a panic.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::process::{Command, Output, Stdio};

fn micro(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_micro"))
        .env("MICRO_HOME", home.path())
        .env_remove("MICRO_REGISTRY")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn help_lists_the_commands() {
    let out = micro(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out);
    for cmd in ["services", "describe", "call", "health"] {
        assert!(help.contains(cmd), "{help}");
    }
    assert!(help.contains("MICRO_REGISTRY"), "{help}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["bogus"][..],
        &["call"],
        &["call", "greeter"],
        &["call", "greeter", "Greeter.Hello", "{not json"],
        &["call", "greeter", "Hello", "{}"],
        &[
            "call",
            "greeter",
            "Greeter.Hello",
            "{}",
            "--timeout",
            "soon",
        ],
        &[
            "call",
            "greeter",
            "Greeter.Hello",
            "{}",
            "--metadata",
            "novalue",
        ],
        &["services", "--registry", "consul"],
        &["describe"],
    ] {
        let out = micro(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(!text(&out).contains("panicked"), "{args:?}");
    }
}

#[test]
fn malformed_json_says_what_and_how() {
    let out = micro(&["call", "greeter", "Greeter.Hello", r#"{"name":"#]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out);
    assert!(
        err.contains("not valid JSON") && err.contains("line 1 column"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn remote_errors_exit_1_with_a_hint() {
    let out = micro(&["call", "greeter", "Greeter.Hello", "{}"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out);
    assert!(
        err.contains("greeter is not registered (404 Not Found)"),
        "{err}"
    );
    assert!(err.contains("hint: `micro services`"), "{err}");

    let out = micro(&["describe", "greeter"]);
    assert_eq!(out.status.code(), Some(1));

    let out = micro(&["services"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("no services registered"));
    let out = micro(&["services", "-o", "json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}
