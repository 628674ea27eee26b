//! What `micro run` runs: the services of a manifest (`micro.toml`) or, without one, the
//! binary crates of a cargo workspace that depend on micro; checked (names, commands,
//! dependencies, cycles) and put in start order.
//!
//! ```toml
//! [services.inventory]
//! path = "inventory"            # a cargo package: built, then its binary run
//!
//! [services.orders]
//! path = "orders"
//! bin = "shop-orders"           # when the package has several binaries
//! depends = ["inventory"]       # started once inventory is registered and healthy
//! port = 9091                   # MICRO_SERVER_ADDRESS=127.0.0.1:9091
//! env = { MICRO_LOG_LEVEL = "info" }
//!
//! [services.legacy]
//! command = "python3 app.py"    # any command, run by sh in the manifest's directory
//! ready = "started"             # up once started (it never registers)
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::commands::CliError;

/// The manifest's file name.
pub(crate) const MANIFEST: &str = "micro.toml";

/// Names `micro run` keeps for its own lines and the gateway.
const RESERVED: &[&str] = &["micro", "gateway"];

/// The services to run, in start order (every service after what it depends on).
#[derive(Debug)]
pub(crate) struct Plan {
    /// Where the plan came from, for messages: the manifest, or the workspace.
    pub(crate) origin: String,
    /// The services.
    pub(crate) services: Vec<Spec>,
}

/// One service of the plan.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    /// Its name in the manifest (the prefix of its log lines).
    pub(crate) name: String,
    /// How to build and start it.
    pub(crate) run: Run,
    /// Environment over `micro run`'s own.
    pub(crate) env: BTreeMap<String, String>,
    /// The port it listens on, when the manifest says.
    pub(crate) port: Option<u16>,
    /// The services it waits for.
    pub(crate) depends: Vec<String>,
    /// When it counts as up.
    pub(crate) ready: Ready,
    /// The directories whose changes rebuild it.
    pub(crate) watch: Vec<PathBuf>,
    /// Its working directory.
    pub(crate) dir: PathBuf,
}

/// How a service is built and started.
#[derive(Clone, Debug)]
pub(crate) enum Run {
    /// A binary of a cargo package.
    Cargo {
        /// The package's `Cargo.toml`.
        manifest: PathBuf,
        /// The package name.
        package: String,
        /// The binary target.
        bin: String,
    },
    /// A shell command line.
    Shell(String),
    /// A program and its arguments (the gateway: this `micro`).
    Exec(PathBuf, Vec<String>),
}

/// When a service counts as up, for what depends on it.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Ready {
    /// Registered (a node of this process in the registry) and serving (`grpc.health.v1`).
    #[default]
    Registered,
    /// As soon as its process has started.
    Started,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    services: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: Option<PathBuf>,
    bin: Option<String>,
    command: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    port: Option<u16>,
    #[serde(default)]
    depends: Vec<String>,
    #[serde(default)]
    ready: Ready,
}

/// The plan for `path`: a manifest file, a directory holding `micro.toml`, or a cargo
/// workspace whose binary crates depend on micro.
pub(crate) fn load(path: &Path) -> Result<Plan, CliError> {
    if path.is_file() {
        return from_manifest(path);
    }
    if !path.is_dir() {
        return Err(CliError::usage(
            format!("{} is neither a directory nor a manifest", path.display()),
            Some(format!(
                "give a directory holding {MANIFEST} or a cargo workspace, or the manifest itself"
            )),
        ));
    }
    let manifest = path.join(MANIFEST);
    if manifest.is_file() {
        return from_manifest(&manifest);
    }
    discover(path)
}

fn from_manifest(file: &Path) -> Result<Plan, CliError> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}"), None))?;
    let parsed: File = toml::from_str(&text).map_err(|e| {
        CliError::usage(
            format!("{shown}: {}", e.to_string().trim_end()),
            Some(
                "each service is a [services.NAME] table with path or command, and optionally bin, env, port, depends and ready"
                    .to_owned(),
            ),
        )
    })?;
    if parsed.services.is_empty() {
        return Err(CliError::usage(
            format!("{shown} defines no service"),
            Some("add a [services.NAME] table with path = \"DIR\" or command = \"...\"".into()),
        ));
    }
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut specs = Vec::new();
    for (name, entry) in parsed.services {
        specs.push(spec(&shown, &base, name, entry)?);
    }
    Ok(Plan {
        origin: shown.clone(),
        services: order(&shown, specs)?,
    })
}

fn spec(shown: &str, base: &Path, name: String, entry: Entry) -> Result<Spec, CliError> {
    let at = format!("{shown}: services.{name}");
    check_name(&at, &name)?;
    for key in entry.env.keys() {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(CliError::usage(
                format!("{at}.env: {key:?} is not a variable name"),
                None,
            ));
        }
    }
    if entry.port == Some(0) {
        return Err(CliError::usage(
            format!("{at}.port: 0 is not a port"),
            Some("leave port out to let the service pick one".into()),
        ));
    }
    let (run, dir, watch) = match (entry.path, entry.command) {
        (Some(path), None) => {
            let dir = base.join(path);
            let (run, watch) = cargo_package(&at, &dir, entry.bin.as_deref())?;
            (run, dir, watch)
        }
        (None, Some(command)) => {
            if entry.bin.is_some() {
                return Err(CliError::usage(
                    format!("{at}: bin goes with path, not command"),
                    None,
                ));
            }
            if command.trim().is_empty() {
                return Err(CliError::usage(format!("{at}.command is empty"), None));
            }
            (Run::Shell(command), base.to_path_buf(), Vec::new())
        }
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                format!("{at} has both path and command"),
                Some("path builds a cargo package; command runs as it is: keep one".into()),
            ));
        }
        (None, None) => {
            return Err(CliError::usage(
                format!("{at} has neither path nor command"),
                Some("path = \"DIR\" (a cargo package) or command = \"...\"".into()),
            ));
        }
    };
    Ok(Spec {
        name,
        run,
        env: entry.env,
        port: entry.port,
        depends: entry.depends,
        ready: entry.ready,
        watch,
        dir,
    })
}

fn check_name(at: &str, name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(CliError::usage(
            format!("{at}: the name may hold letters, digits, '-', '_' and '.' only"),
            None,
        ));
    }
    if RESERVED.contains(&name) {
        return Err(CliError::usage(
            format!("{at}: {name:?} is micro run's own name for its lines"),
            Some("call the service something else".into()),
        ));
    }
    Ok(())
}

/// `cargo metadata --no-deps` of a directory, as JSON.
fn metadata(dir: &Path) -> Result<serde_json::Value, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.trim().lines().last().unwrap_or("").to_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

/// The directory of a package's manifest path.
fn package_dir(pkg: &serde_json::Value) -> PathBuf {
    Path::new(pkg["manifest_path"].as_str().unwrap_or(""))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn bins(pkg: &serde_json::Value) -> Vec<String> {
    pkg["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

/// The package's directory and those of its path dependencies: what rebuilds it.
fn watched(pkg: &serde_json::Value) -> Vec<PathBuf> {
    let mut dirs = vec![package_dir(pkg)];
    for dep in pkg["dependencies"].as_array().into_iter().flatten() {
        if let Some(path) = dep["path"].as_str() {
            dirs.push(PathBuf::from(path));
        }
    }
    dirs
}

fn cargo_package(at: &str, dir: &Path, bin: Option<&str>) -> Result<(Run, Vec<PathBuf>), CliError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(CliError::usage(
            format!("{at}.path: {} holds no Cargo.toml", dir.display()),
            Some("path is a cargo package's directory, relative to the manifest".into()),
        ));
    }
    let meta = metadata(dir).map_err(|e| {
        CliError::usage(
            format!("{at}.path: cargo cannot read {}: {e}", manifest.display()),
            None,
        )
    })?;
    let wanted = std::fs::canonicalize(&manifest).unwrap_or(manifest.clone());
    let pkg = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            let path = Path::new(p["manifest_path"].as_str().unwrap_or(""));
            std::fs::canonicalize(path).ok().as_deref() == Some(wanted.as_path())
        })
        .ok_or_else(|| {
            CliError::usage(
                format!(
                    "{at}.path: {} is not a package of its workspace",
                    dir.display()
                ),
                Some("is it listed in the workspace's members?".into()),
            )
        })?;
    let package = pkg["name"].as_str().unwrap_or("").to_owned();
    let all = bins(pkg);
    let bin = match bin {
        Some(b) if all.iter().any(|x| x == b) => b.to_owned(),
        Some(b) => {
            return Err(CliError::usage(
                format!(
                    "{at}.bin: package {package} has no binary {b:?} (it has: {})",
                    list(&all)
                ),
                None,
            ));
        }
        None => match all.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(CliError::usage(
                    format!("{at}.path: package {package} has no binary to run"),
                    None,
                ));
            }
            _ => {
                return Err(CliError::usage(
                    format!(
                        "{at}: package {package} has several binaries ({})",
                        list(&all)
                    ),
                    Some("say which with bin = \"NAME\"".into()),
                ));
            }
        },
    };
    Ok((
        Run::Cargo {
            manifest,
            package,
            bin,
        },
        watched(pkg),
    ))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Without a manifest: one service per binary of every workspace member that depends on
/// micro.
fn discover(dir: &Path) -> Result<Plan, CliError> {
    let hint = format!(
        "write a {MANIFEST} there ([services.NAME] with path or command; see the README), or run micro new"
    );
    let meta = metadata(dir).map_err(|e| {
        CliError::usage(
            format!(
                "{} holds no {MANIFEST}, and cargo finds no workspace there: {e}",
                dir.display()
            ),
            Some(hint.clone()),
        )
    })?;
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str())
        .collect();
    let mut specs = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let member = pkg["id"].as_str().is_some_and(|id| members.contains(id));
        let uses_micro = pkg["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["name"] == "micro" && d["kind"].is_null());
        if !member || !uses_micro {
            continue;
        }
        let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or(""));
        for bin in bins(pkg) {
            if RESERVED.contains(&bin.as_str()) {
                continue;
            }
            specs.push(Spec {
                name: bin.clone(),
                run: Run::Cargo {
                    manifest: manifest.clone(),
                    package: pkg["name"].as_str().unwrap_or("").to_owned(),
                    bin,
                },
                env: BTreeMap::new(),
                port: None,
                depends: Vec::new(),
                ready: Ready::Registered,
                watch: watched(pkg),
                dir: package_dir(pkg),
            });
        }
    }
    let mut names = BTreeSet::new();
    for spec in &specs {
        if !names.insert(spec.name.as_str()) {
            return Err(CliError::usage(
                format!(
                    "two packages of the cargo workspace in {} have a binary called {}",
                    dir.display(),
                    spec.name
                ),
                Some(format!(
                    "name each in a {MANIFEST} ([services.NAME] with path and bin)"
                )),
            ));
        }
    }
    if specs.is_empty() {
        return Err(CliError::usage(
            format!(
                "{} holds no {MANIFEST}, and no binary crate of its cargo workspace depends on micro",
                dir.display()
            ),
            Some(hint),
        ));
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    let origin = format!("the cargo workspace in {}", dir.display());
    Ok(Plan {
        services: order(&origin, specs)?,
        origin,
    })
}

/// The specs in start order: every service after what it depends on, ties by name. An
/// unknown dependency or a cycle is an error that names it.
pub(crate) fn order(origin: &str, specs: Vec<Spec>) -> Result<Vec<Spec>, CliError> {
    let names: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    for s in &specs {
        for d in &s.depends {
            if d == &s.name {
                return Err(CliError::usage(
                    format!("{origin}: services.{} depends on itself", s.name),
                    None,
                ));
            }
            if !names.contains(d.as_str()) {
                return Err(CliError::usage(
                    format!(
                        "{origin}: services.{} depends on {d:?}, which is not defined (services: {})",
                        s.name,
                        names.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                    Some("depends lists the names of other [services.NAME] tables".into()),
                ));
            }
        }
    }
    if let Some(cycle) = cycle(&specs) {
        return Err(CliError::usage(
            format!(
                "{origin}: the dependencies form a cycle: {}",
                cycle.join(" → ")
            ),
            Some("a service can only start after what it depends on: break the cycle".into()),
        ));
    }
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = specs;
    let mut out = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|s| s.depends.iter().all(|d| done.contains(d)))
            .unwrap_or(0);
        let s = left.remove(ready);
        done.insert(s.name.clone());
        out.push(s);
    }
    Ok(out)
}

/// A dependency cycle, as the names along it with the first repeated at the end.
fn cycle(specs: &[Spec]) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, &[String]> = specs
        .iter()
        .map(|s| (s.name.as_str(), s.depends.as_slice()))
        .collect();
    // 0: unseen, 1: on the path, 2: finished.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        name: &'a str,
        deps: &BTreeMap<&'a str, &'a [String]>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(name) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| *n == name).unwrap_or(0);
                let mut c: Vec<String> = path[start..].iter().map(|s| (*s).to_owned()).collect();
                c.push(name.to_owned());
                return Some(c);
            }
            _ => {}
        }
        state.insert(name, 1);
        path.push(name);
        for d in deps.get(name).copied().unwrap_or(&[]) {
            if let Some(c) = visit(d.as_str(), deps, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(name, 2);
        None
    }
    for name in deps.keys() {
        let mut path = Vec::new();
        if let Some(c) = visit(name, &deps, &mut state, &mut path) {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, depends: &[&str]) -> Spec {
        Spec {
            name: name.into(),
            run: Run::Shell("true".into()),
            env: BTreeMap::new(),
            port: None,
            depends: depends.iter().map(|d| (*d).to_owned()).collect(),
            ready: Ready::Started,
            watch: Vec::new(),
            dir: PathBuf::from("."),
        }
    }

    fn names(specs: &[Spec]) -> Vec<&str> {
        specs.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn services_start_after_what_they_depend_on() {
        let specs = vec![s("a", &["c"]), s("b", &[]), s("c", &["b"]), s("d", &[])];
        let ordered = order("m", specs).map_err(|e| e.message).unwrap_or_default();
        assert_eq!(names(&ordered), ["b", "c", "a", "d"]);
    }

    #[test]
    fn a_cycle_is_named_along_its_path() {
        let err = order("m", vec![s("a", &["b"]), s("b", &["c"]), s("c", &["a"])])
            .err()
            .map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some("m: the dependencies form a cycle: a → b → c → a")
        );
    }

    #[test]
    fn an_unknown_dependency_names_what_is_defined() {
        let err = order("m", vec![s("a", &["x"]), s("b", &[])])
            .err()
            .map(|e| e.message);
        assert_eq!(
            err.as_deref(),
            Some("m: services.a depends on \"x\", which is not defined (services: a, b)")
        );
    }

    #[test]
    fn manifests_are_checked_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join(MANIFEST);
        let check = |text: &str| {
            std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
            load(&file).err().map(|e| e.message).unwrap_or_default()
        };
        assert!(
            check("[services.a]\ncommand = \"x\"\npath = \"y\"\n")
                .ends_with("services.a has both path and command")
        );
        assert!(
            check("[services.a]\nenv = {}\n").ends_with("services.a has neither path nor command")
        );
        assert!(check("[services.micro]\ncommand = \"x\"\n").contains("micro run's own name"));
        assert!(
            check("[services.a]\ncommand = \"x\"\nport = 0\n")
                .ends_with("services.a.port: 0 is not a port")
        );
        assert!(
            check("[services.a]\ncommand = \"x\"\nportt = 1\n").contains("unknown field `portt`")
        );
        assert!(check("").ends_with("defines no service"));
        let ok = load(&file);
        assert!(ok.is_err());
        std::fs::write(
            &file,
            "[services.a]\ncommand = \"x\"\nready = \"started\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let plan = load(dir.path()).map_err(|e| e.message);
        assert!(
            matches!(&plan, Ok(p) if p.services.len() == 1 && p.services[0].ready == Ready::Started),
            "{plan:?}"
        );
    }
}
