//! Building a service's binary with cargo: a status line while it builds, the compiler's
//! output only when the build fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// A binary cargo built.
#[derive(Debug)]
pub(crate) struct Built {
    /// Where it is.
    pub(crate) exe: PathBuf,
    /// Whether cargo found it up to date (nothing to restart).
    pub(crate) fresh: bool,
}

/// `cargo build -p PACKAGE --bin BIN` for the package of `manifest`. `progress` hears the
/// number of crates compiled so far and the last one's name. A failed build is its
/// compiler output (cargo's own progress lines taken out).
pub(crate) async fn cargo(
    manifest: &Path,
    package: &str,
    bin: &str,
    release: bool,
    progress: impl Fn(usize, &str),
) -> Result<Built, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build").arg("--manifest-path").arg(manifest).args([
        "-p",
        package,
        "--bin",
        bin,
        "--message-format=json-render-diagnostics",
    ]);
    if release {
        cmd.arg("--release");
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("cargo's output could not be read".to_owned());
    };
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut built = None;
    let mut compiled = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"].as_str().unwrap_or("");
        if msg["fresh"] == false {
            compiled += 1;
            progress(compiled, name);
        }
        if let Some(exe) = msg["executable"].as_str()
            && name == bin
        {
            built = Some(Built {
                exe: PathBuf::from(exe),
                fresh: msg["fresh"] == true,
            });
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("cargo did not finish: {e}"))?;
    let stderr = errors.await.unwrap_or_default();
    match built {
        Some(built) if status.success() => Ok(built),
        _ => Err(compiler_output(&stderr)),
    }
}

/// Cargo's stderr without its progress lines (`Compiling x`, `Blocking waiting ...`).
fn compiler_output(stderr: &str) -> String {
    let kept: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(l.starts_with("   ")
                && [
                    "Compiling ",
                    "Checking ",
                    "Blocking ",
                    "Building ",
                    "Finished ",
                    "Locking ",
                    "Adding ",
                    "Updating ",
                ]
                .iter()
                .any(|p| t.starts_with(p)))
        })
        .collect();
    let text = kept.join("\n");
    if text.trim().is_empty() {
        "cargo failed without a message".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::compiler_output;

    #[test]
    fn progress_lines_are_left_out_of_a_failed_build() {
        let err = "   Compiling orders v0.1.0 (/x)\nerror[E0425]: cannot find value `y`\n --> src/main.rs:3:5\nerror: could not compile `orders`";
        assert_eq!(
            compiler_output(err),
            "error[E0425]: cannot find value `y`\n --> src/main.rs:3:5\nerror: could not compile `orders`"
        );
    }
}
