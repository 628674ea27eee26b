//! Shared by the micro-gen tests: fixture locations, tools, and snapshot comparison.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The fixture protos.
pub fn proto_dir() -> PathBuf {
    workspace().join("tests/codegen/proto")
}

/// The fixture files protoc generates code for.
pub const FIXTURES: &[&str] = &[
    "fixtures/kitchen.proto",
    "fixtures/pantry.proto",
    "fixtures/common/types.proto",
    "nopackage.proto",
    "keywords/keywords.proto",
];

/// A tool on PATH (or `None`): tests that need it skip when it is missing, unless
/// MICRO_REQUIRE_PEERS is set, which makes a missing tool a failure.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("MICRO_REQUIRE_PEERS").is_none(),
            "MICRO_REQUIRE_PEERS is set but `{name}` is not on PATH (.ci/run installs it)"
        );
        eprintln!("skipping: `{name}` is not on PATH");
    }
    found
}

/// Compare the files of `actual` with `expected`; with MICRO_BLESS set, update `expected`.
pub fn compare_dirs(expected: &Path, actual: &Path) {
    let bless = std::env::var_os("MICRO_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(actual)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    if bless {
        let _ = std::fs::remove_dir_all(expected);
        std::fs::create_dir_all(expected).unwrap();
        for name in &names {
            std::fs::copy(actual.join(name), expected.join(name)).unwrap();
        }
        return;
    }
    let mut expected_names: Vec<String> = std::fs::read_dir(expected)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    expected_names.sort();
    assert_eq!(
        names,
        expected_names,
        "generated files differ from {} (run with MICRO_BLESS=1 to update)",
        expected.display()
    );
    for name in &names {
        let want = std::fs::read_to_string(expected.join(name)).unwrap();
        let got = std::fs::read_to_string(actual.join(name)).unwrap();
        if want != got {
            let line = want
                .lines()
                .zip(got.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{name} differs from {} at line {} (run with MICRO_BLESS=1 to update)\nwant: {}\ngot:  {}",
                expected.display(),
                line + 1,
                want.lines().nth(line).unwrap_or(""),
                got.lines().nth(line).unwrap_or("")
            );
        }
    }
}

/// Run a command; panic with its output if it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
