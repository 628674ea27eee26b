//! The server binary's command line: its own flag and micro's in one clap parser.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_greeter-server"))
}

#[test]
fn help_lists_its_own_flags_and_micros_and_exits_0() {
    let out = server().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("--delay <DELAY>"), "{text}");
    assert!(text.contains("--registry <VALUE>"), "{text}");
    assert!(text.contains("MICRO_REGISTRY"), "{text}");
}

#[test]
fn a_bad_flag_value_is_refused_with_the_reason() {
    let out = server()
        .args(["--delay", "soon"])
        .env("MICRO_REGISTRY", "memory")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("not a duration"), "{text}");

    let out = server()
        .args(["--registry", "consul"])
        .env("MICRO_REGISTRY", "memory")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unknown registry \"consul\": this build has local, memory"),
        "{text}"
    );
    assert!(!text.contains("Error {"), "readable, not Debug: {text}");
}
