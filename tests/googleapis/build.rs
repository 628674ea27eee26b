//! Generates every `.proto` of googleapis-common-protos (fetched by
//! `scripts/fetch-googleapis.sh` into `MICRO_GOOGLEAPIS_DIR`) with micro-gen.

use std::path::{Path, PathBuf};

fn protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rustc-check-cfg=cfg(googleapis)");
    println!("cargo:rerun-if-env-changed=MICRO_GOOGLEAPIS_DIR");
    let Some(dir) = std::env::var_os("MICRO_GOOGLEAPIS_DIR").map(PathBuf::from) else {
        println!(
            "cargo:warning=MICRO_GOOGLEAPIS_DIR is not set: the googleapis corpus is skipped (MICRO_GOOGLEAPIS_DIR=$(scripts/fetch-googleapis.sh) enables it)"
        );
        return Ok(());
    };
    let mut files = Vec::new();
    protos(&dir, &mut files)?;
    files.sort();
    micro_gen::configure()
        .include_file("googleapis.rs")
        .compile_protos(&files, &[dir])?;
    println!("cargo:rustc-cfg=googleapis");
    Ok(())
}
