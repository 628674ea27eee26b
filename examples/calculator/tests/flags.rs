//! A service binary that passes its arguments to micro: `--help` and `--version` answer and
//! exit 0, a typo gets the nearest flag.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_calculator-server"))
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("calculator "), "{text}");
    assert!(
        text.contains("Usage: calculator-server [OPTIONS]"),
        "{text}"
    );
    assert!(text.contains("--registry"), "{text}");
    assert!(text.contains("MICRO_SERVER_ADDRESS"), "{text}");

    let out = server().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("calculator "));
}

#[test]
fn a_typo_names_the_flag_it_meant() {
    let out = server().args(["--regsitry", "memory"]).output().unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unknown flag --regsitry (did you mean --registry?)"),
        "{text}"
    );
    assert!(!text.contains("Error {"), "readable, not Debug: {text}");
}
