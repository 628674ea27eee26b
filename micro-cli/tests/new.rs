//! `micro new`: every template rendered and compared with its snapshot under
//! `tests/snapshots/new/<template>/` (refresh with `MICRO_BLESS=1`), bad input refused with
//! exit code 2, and `micro gen` adding stubs without touching the rest of the file.
//! Building, testing, running and calling the scaffolds is `scripts/scaffold.sh` (CI).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap()
}

fn micro(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micro"))
        .current_dir(cwd)
        .env("MICRO_HOME", cwd.join(".micro-home"))
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

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_template_matches_its_snapshot() {
    let bless = std::env::var("MICRO_BLESS").is_ok_and(|v| v == "1");
    let root = root();
    for template in ["service", "function", "api", "macro"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = micro(
            &[
                "new",
                "hello-world",
                "--template",
                template,
                "--micro-path",
                root.to_str().unwrap(),
            ],
            tmp.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let project = tmp.path().join("hello-world");
        assert!(
            project.join("Cargo.lock").is_file(),
            "micro's lock file is copied"
        );
        let snapshot_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots/new")
            .join(template);
        let rendered: Vec<PathBuf> = files(&project)
            .into_iter()
            .filter(|p| p != Path::new("Cargo.lock"))
            .collect();
        if bless {
            let _ = std::fs::remove_dir_all(&snapshot_dir);
        }
        for rel in &rendered {
            let got = std::fs::read_to_string(project.join(rel))
                .unwrap()
                .replace(root.to_str().unwrap(), "{MICRO_PATH}");
            let snap = snapshot_dir.join(rel);
            if bless {
                std::fs::create_dir_all(snap.parent().unwrap()).unwrap();
                std::fs::write(&snap, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| {
                panic!("no snapshot {} (run with MICRO_BLESS=1)", snap.display())
            });
            assert_eq!(
                got,
                want,
                "{template}/{} differs from its snapshot",
                rel.display()
            );
        }
        if !bless {
            let snapped = files(&snapshot_dir);
            assert_eq!(rendered, snapped, "{template}: the set of files changed");
        }
        let summary = String::from_utf8_lossy(&out.stdout);
        assert!(summary.contains("created hello-world"), "{summary}");
        assert!(summary.contains("cargo run"), "{summary}");
    }
}

#[test]
fn bad_input_is_refused_with_exit_code_2() {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    let mp = root.to_str().unwrap();
    for (args, says) in [
        (
            vec!["new", "9lives", "--micro-path", mp],
            "start with a letter",
        ),
        (
            vec!["new", "hello world", "--micro-path", mp],
            "start with a letter",
        ),
        (vec!["new", "type", "--micro-path", mp], "Rust keyword"),
        (
            vec!["new", "tokio", "--micro-path", mp],
            "shadow a dependency",
        ),
        (
            vec!["new", "request", "--micro-path", mp],
            "type called Request",
        ),
        (
            vec!["new", "ok", "--template", "spa", "--micro-path", mp],
            "invalid value 'spa'",
        ),
        (
            vec!["new", "ok", "--namespace", "Bad.NS", "--micro-path", mp],
            "invalid namespace",
        ),
        (
            vec!["new", "ok", "--micro-path", "/nonexistent/micro"],
            "--micro-path",
        ),
        (
            vec!["new", "ok", "--micro-path", "/tmp"],
            "is not a micro checkout",
        ),
    ] {
        let out = micro(&args, tmp.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    }
    // Nothing was created by the refused commands.
    assert!(files(tmp.path()).is_empty(), "{:?}", files(tmp.path()));

    let out = micro(&["new", "taken", "--micro-path", mp], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = std::fs::read_to_string(tmp.path().join("taken/src/handler.rs")).unwrap();
    let out = micro(&["new", "taken", "--micro-path", mp], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert!(
        text(&out).contains("hint: choose another name"),
        "{}",
        text(&out)
    );
    let after = std::fs::read_to_string(tmp.path().join("taken/src/handler.rs")).unwrap();
    assert_eq!(before, after, "an existing project is never overwritten");
}

#[test]
fn gen_adds_stubs_for_new_methods_and_keeps_the_rest() {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    let out = micro(
        &["new", "shop", "--micro-path", root.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let project = tmp.path().join("shop");
    let proto = project.join("proto/shop.proto");
    let source = std::fs::read_to_string(&proto).unwrap().replace(
        "  rpc Stream(StreamRequest) returns (stream StreamResponse) {}",
        "  rpc Stream(StreamRequest) returns (stream StreamResponse) {}\n  rpc Refund(Request) returns (Response) {}\n  rpc Chat(stream Request) returns (stream Response) {}",
    );
    std::fs::write(&proto, source).unwrap();
    let handler = project.join("src/handler.rs");
    let before = std::fs::read_to_string(&handler).unwrap();

    let out = micro(&["gen", "--dir", project.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("added stubs for refund, chat"),
        "{}",
        text(&out)
    );
    let after = std::fs::read_to_string(&handler).unwrap();
    // The user's code is untouched: the stubs go in just before the impl's closing brace.
    let close = before.find("\n}\n\n#[cfg(test)]").unwrap();
    assert!(after.starts_with(&before[..close]));
    assert!(after.ends_with(&before[close..]));
    assert!(after.contains("async fn refund("));
    assert!(after.contains("micro::stream::StreamReceiver<crate::pb::Request>"));
    assert!(after.contains("\"Shop.Chat is not implemented yet\""));

    // Run again: nothing to add.
    let out = micro(&["gen", "--dir", project.to_str().unwrap()], tmp.path());
    assert!(text(&out).contains("up to date"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&handler).unwrap(), after);

    // A broken proto is a usage error with file and line.
    std::fs::write(&proto, "syntax = \"proto3\";\nmessage {").unwrap();
    let out = micro(&["gen", "--dir", project.to_str().unwrap()], tmp.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("shop.proto:2"), "{}", text(&out));

    // Outside a project.
    let out = micro(&["gen"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no .proto files"), "{}", text(&out));
}
