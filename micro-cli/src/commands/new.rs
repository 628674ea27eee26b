//! `micro new NAME`: scaffold a project from a template.

use std::path::{Path, PathBuf};

use crate::cli::{Global, NewArgs};
use crate::commands::CliError;
use crate::output;
use crate::templates::{Names, Template, render};

/// The micro checkout this binary was built from, if it is still there.
fn default_micro_path() -> Option<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    built_from
        .join("micro/Cargo.toml")
        .is_file()
        .then(|| built_from.to_path_buf())
}

fn micro_path(args: &NewArgs) -> Result<PathBuf, CliError> {
    let path = match &args.micro_path {
        Some(p) => p.clone(),
        None => default_micro_path().ok_or_else(|| {
            CliError::usage(
                "cannot find the micro checkout this binary was built from",
                Some("pass --micro-path PATH, the directory of a micro checkout (it holds micro/ and micro-gen/)".into()),
            )
        })?,
    };
    let path = path.canonicalize().map_err(|e| {
        CliError::usage(
            format!("--micro-path {}: {e}", path.display()),
            Some("give the directory of a micro checkout (it holds micro/ and micro-gen/)".into()),
        )
    })?;
    if !path.join("micro/Cargo.toml").is_file() || !path.join("micro-gen/Cargo.toml").is_file() {
        return Err(CliError::usage(
            format!(
                "{} is not a micro checkout: it has no micro/Cargo.toml and micro-gen/Cargo.toml",
                path.display()
            ),
            Some("pass --micro-path with the root of the micro repository".into()),
        ));
    }
    Ok(path)
}

pub(crate) async fn exec(_global: &Global, args: NewArgs) -> Result<(), CliError> {
    let micro = micro_path(&args)?;
    let names = Names::new(
        &args.name,
        args.namespace.as_deref(),
        &micro.to_string_lossy(),
    )
    .map_err(|e| CliError::usage(e, Some("e.g. micro new hello-world".into())))?;
    let target = args.dir.join(&names.crate_name);
    if target.exists() {
        return Err(CliError::usage(
            format!(
                "{} already exists; micro new never overwrites",
                target.display()
            ),
            Some("choose another name, another --dir, or remove it first".into()),
        ));
    }
    let files = render(args.template, &names).map_err(CliError::internal)?;
    if let Err(e) = write(&target, &files, &micro) {
        let _ = std::fs::remove_dir_all(&target);
        return Err(CliError::internal(format!(
            "cannot create {}: {e}",
            target.display()
        )));
    }
    output::print(&summary(args.template, &names, &target, &files));
    Ok(())
}

fn write(target: &Path, files: &[(String, String)], micro: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    for (path, contents) in files {
        let path = target.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, contents)?;
    }
    // Start from micro's own lock file: the same dependency versions, so the project builds
    // offline and shares compiled dependencies with the checkout. Cargo drops what it does
    // not need.
    let lock = micro.join("Cargo.lock");
    if lock.is_file() {
        std::fs::copy(lock, target.join("Cargo.lock"))?;
    }
    Ok(())
}

fn summary(template: Template, names: &Names, target: &Path, files: &[(String, String)]) -> String {
    let mut out = format!(
        "created {} ({template} template) in {}\n",
        names.crate_name,
        target.display()
    );
    for (path, _) in files {
        out.push_str(&format!("  {path}\n"));
    }
    out.push_str(&format!(
        "\nnext:\n  cd {}\n  cargo run\n",
        target.display()
    ));
    match template {
        Template::Function => out.push_str(&format!(
            "  micro publish {} '{{\"id\":\"1\",\"message\":\"hi\"}}'\n",
            names.topic
        )),
        _ => out.push_str(&format!(
            "  micro call {} {}.Call '{{\"name\":\"John\"}}'\n",
            names.service_name, names.svc
        )),
    }
    out
}
