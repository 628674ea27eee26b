//! `micro-bench`: micro against tonic and tarpc, side by side.
//!
//! ```text
//! micro-bench run [--rounds 5] [--quick] [--only U1-16,U3] [--frameworks micro,tonic,tarpc] [--out BENCHMARKS.md]
//! micro-bench serve FRAMEWORK [--addr 127.0.0.1:0]
//! micro-bench scale [--quick] [--only selector,registry,conns,broker,startup] [--micro PATH] [--greeter PATH] [--nats URL]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use micro_bench::echo::{self, Framework};
use micro_bench::run;

fn usage() -> ! {
    eprintln!(
        "usage:\n  micro-bench run [--rounds N] [--quick] [--only ID,..] [--frameworks a,b] [--out FILE] [--unpinned]\n  micro-bench serve FRAMEWORK [--addr ADDR]\n  micro-bench scale [--quick] [--only selector,registry,conns,broker,startup] [--micro PATH] [--greeter PATH] [--nats URL]\n\nframeworks: micro, micro-native, micro-observed (native with auth, metrics and tracing), tonic, tarpc"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("scale") => scale(&args[1..]),
        _ => usage(),
    }
}

fn serve(args: &[String]) {
    let Some(framework) = args.first().and_then(|f| Framework::parse(f)) else {
        usage()
    };
    let addr = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    if let Err(e) = runtime.block_on(echo::serve(framework, &addr)) {
        eprintln!("micro-bench serve {}: {e}", framework.name());
        std::process::exit(1);
    }
}

fn run(args: &[String]) {
    let value = |flag: &str| value(args, flag);
    let quick = args.iter().any(|a| a == "--quick");
    let unpinned = args.iter().any(|a| a == "--unpinned");
    let can_pin = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && std::process::Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
    // Under `taskset -c 0` this process sees one core: the re-run knows it is pinned.
    let pinned = !unpinned && (can_pin || std::env::var_os("MICRO_BENCH_PINNED").is_some());
    if pinned && std::env::var_os("MICRO_BENCH_PINNED").is_none() {
        // Re-run ourselves on core 0; servers go to core 1.
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
        let status = std::process::Command::new("taskset")
            .args(["-c", "0"])
            .arg(exe)
            .args(std::env::args().skip(1))
            .env("MICRO_BENCH_PINNED", "1")
            .status()
            .unwrap_or_else(|e| panic!("taskset: {e}"));
        std::process::exit(status.code().unwrap_or(1));
    }
    let frameworks = match value("--frameworks") {
        Some(list) => list
            .split(',')
            .map(|f| Framework::parse(f).unwrap_or_else(|| usage()))
            .collect(),
        None => vec![
            Framework::Micro,
            Framework::MicroNative,
            Framework::Tonic,
            Framework::Tarpc,
        ],
    };
    let settings = run::Settings {
        rounds: value("--rounds")
            .and_then(|r| r.parse().ok())
            .unwrap_or(if quick { 1 } else { 5 }),
        warmup: Duration::from_millis(if quick { 300 } else { 1000 }),
        window: Duration::from_millis(if quick { 1000 } else { 3000 }),
        only: value("--only")
            .map(|o| o.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        frameworks,
        out: value("--out").map(Into::into),
        pinned,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let local = tokio::task::LocalSet::new();
    let results = match runtime.block_on(local.run_until(run::run(&settings))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("micro-bench: {e}");
            std::process::exit(1);
        }
    };
    let command = format!(
        "cargo run --release -p micro-bench -- run {}",
        args.join(" ")
    );
    let mut report = run::report(&results, &settings, command.trim());
    // The hand-written analysis (targets, what the profiles say) follows the tables.
    let analysis = concat!(env!("CARGO_MANIFEST_DIR"), "/analysis.md");
    if let Ok(text) = std::fs::read_to_string(analysis) {
        report.push_str(&text);
    }
    println!("{report}");
    if let Some(out) = &settings.out {
        if let Err(e) = std::fs::write(out, &report) {
            eprintln!("micro-bench: cannot write {}: {e}", out.display());
            std::process::exit(1);
        }
        eprintln!("wrote {}", out.display());
    }
}

/// The argument after `flag`, when there is one.
fn value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// A binary built next to this one (same profile directory), when it exists.
fn sibling(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join(name);
    path.is_file().then_some(path)
}

fn scale(args: &[String]) {
    use micro_bench::scale;
    let value = |flag: &str| value(args, flag);
    let settings = scale::Settings {
        quick: args.iter().any(|a| a == "--quick"),
        micro: value("--micro")
            .map(Into::into)
            .or_else(|| sibling("micro")),
        greeter: value("--greeter")
            .map(Into::into)
            .or_else(|| sibling("greeter-server")),
        nats: value("--nats").unwrap_or_else(|| "127.0.0.1:4222".to_owned()),
    };
    let only: Vec<String> = value("--only")
        .map(|o| o.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    const SCENARIOS: [&str; 5] = ["selector", "registry", "conns", "broker", "startup"];
    if let Some(unknown) = only.iter().find(|o| !SCENARIOS.contains(&o.as_str())) {
        eprintln!(
            "micro-bench scale: no scenario {unknown:?} (--only takes {})",
            SCENARIOS.join(", ")
        );
        std::process::exit(2);
    }
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let outcome = runtime.block_on(async {
        let mut out = String::new();
        if wanted("selector") {
            out += &scale::selector::run(&settings).await?.markdown();
        }
        if wanted("registry") {
            out += &scale::registry::run(&settings).await?.markdown();
        }
        if wanted("conns") {
            out += &scale::conns::run(&settings).await?.markdown();
        }
        if wanted("broker") {
            out += &scale::broker::run(&settings).await?.markdown();
        }
        if wanted("startup") {
            out += &scale::startup::run(&settings).await?.markdown();
        }
        Ok::<_, String>(out)
    });
    match outcome {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("micro-bench scale: {e}");
            std::process::exit(1);
        }
    }
}
