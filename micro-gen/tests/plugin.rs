//! protoc and buf drive `protoc-gen-micro`. The output is compared with the files checked in
//! under `tests/protoc/src/gen`, which the `protoc-fixtures` crate compiles and runs; update
//! them with `MICRO_BLESS=1 cargo test -p micro-gen --test plugin`.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

use std::path::PathBuf;
use std::process::Command;

fn plugin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_protoc-gen-micro"))
}

fn checked_in(name: &str) -> PathBuf {
    support::workspace().join("tests/protoc/src/gen").join(name)
}

#[test]
fn protoc_drives_the_plugin() {
    let Some(protoc) = support::tool("protoc") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    support::run(
        Command::new(&protoc)
            .arg(format!("--plugin=protoc-gen-micro={}", plugin().display()))
            .arg(format!("--micro_out={}", out.path().display()))
            .arg("--micro_opt=include_file=mod.rs")
            .arg("-I")
            .arg(support::proto_dir())
            .args(support::FIXTURES),
    );
    support::compare_dirs(&checked_in("protoc"), out.path());
}

#[test]
fn services_only_next_to_another_message_generator() {
    let Some(protoc) = support::tool("protoc") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    support::run(
        Command::new(&protoc)
            .arg(format!("--plugin=protoc-gen-micro={}", plugin().display()))
            .arg(format!("--micro_out={}", out.path().display()))
            .arg("--micro_opt=services_only=true")
            .arg("-I")
            .arg(support::workspace().join("examples/greeter/proto"))
            .arg("greeter.proto"),
    );
    support::compare_dirs(&checked_in("services_only"), out.path());
}

#[test]
fn buf_drives_the_plugin() {
    let Some(buf) = support::tool("buf") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let template = work.path().join("buf.gen.yaml");
    std::fs::write(
        &template,
        format!(
            "version: v2\nplugins:\n  - local: {}\n    out: out\n    opt:\n      - include_file=mod.rs\n",
            plugin().display()
        ),
    )
    .unwrap();
    support::run(
        Command::new(&buf)
            .current_dir(work.path())
            .arg("generate")
            .arg(support::proto_dir())
            .arg("--template")
            .arg(&template),
    );
    support::compare_dirs(&checked_in("buf"), &work.path().join("out"));
}

#[test]
fn bad_parameters_fail_with_the_reason() {
    let Some(protoc) = support::tool("protoc") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let result = Command::new(&protoc)
        .arg(format!("--plugin=protoc-gen-micro={}", plugin().display()))
        .arg(format!("--micro_out={}", out.path().display()))
        .arg("--micro_opt=colour=blue")
        .arg("-I")
        .arg(support::workspace().join("examples/greeter/proto"))
        .arg("greeter.proto")
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("unknown parameter \"colour\""), "{stderr}");
}

#[test]
fn version_flag() {
    let out = support::run(Command::new(plugin()).arg("--version"));
    assert!(out.starts_with("protoc-gen-micro "), "{out}");
}
