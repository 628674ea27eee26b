//! The local registry with 10, 100 and 1,000 services of 3 nodes: how long listing takes
//! (in process and as `micro services`), what an idle watcher costs, and how long a change
//! takes to reach a watcher.

use std::process::Command;
use std::time::{Duration, Instant};

use micro::registry::{LocalRegistry, Node, RegisterOptions, Registry, Service, WatchOptions};

use super::{Settings, Table, cpu_ns_self, human, median};

const NODES: usize = 3;

/// A service record with one node, as a server registers it.
fn record(service: &str, node: usize) -> Service {
    Service::new(service, "1.0.0").with_node(
        Node::new(
            format!("{service}-{node}"),
            format!("127.0.0.1:{}", 20_000 + node),
        )
        .with_metadata("transport", "native,grpc"),
    )
}

/// The registry table.
pub async fn run(settings: &Settings) -> Result<Table, String> {
    let mut table = Table::new(
        "Local registry by number of services (3 nodes each)",
        "One file per node in a fresh directory. List: `list_services` in process, and the \
         `micro services` command (process start included), medians of 5. Idle watch: CPU \
         of this process over 3 s while one watcher of every service waits and nothing \
         changes. Change seen: from `register` of a new node to the watcher's event, median \
         of 10.",
        &[
            "services",
            "nodes",
            "list (in process)",
            "`micro services`",
            "idle watch CPU ms/s",
            "change seen after",
        ],
    );
    let sizes: &[usize] = if settings.quick {
        &[10, 100]
    } else {
        &[10, 100, 1000]
    };
    for &services in sizes {
        let home = super::scratch("registry")?;
        let dir = home.path().join("registry");
        let registry = LocalRegistry::new(&dir).map_err(|e| e.to_string())?;
        let keep = RegisterOptions::ttl(Duration::from_secs(3600));
        for s in 0..services {
            for n in 0..NODES {
                registry
                    .register(&record(&format!("svc{s:04}"), n), keep)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        let mut listing = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let listed = registry.list_services().await.map_err(|e| e.to_string())?;
            listing.push(start.elapsed().as_secs_f64());
            if listed.len() != services {
                return Err(format!("listed {} services of {services}", listed.len()));
            }
        }
        let list = human(Duration::from_secs_f64(median(&mut listing)));
        let command = match &settings.micro {
            Some(micro) => {
                let mut runs = Vec::new();
                for _ in 0..5 {
                    let start = Instant::now();
                    let out = Command::new(micro)
                        .arg("services")
                        .env("MICRO_HOME", home.path())
                        .env("MICRO_REGISTRY", "local")
                        .output()
                        .map_err(|e| format!("{}: {e}", micro.display()))?;
                    runs.push(start.elapsed().as_secs_f64());
                    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
                    if !out.status.success() || lines < services {
                        return Err(format!(
                            "micro services listed {lines} lines of {services}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
                human(Duration::from_secs_f64(median(&mut runs)))
            }
            None => "—".to_owned(),
        };

        // One watcher of everything, draining into a channel.
        let mut watcher = registry
            .watch(WatchOptions::all())
            .await
            .map_err(|e| e.to_string())?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let pump = tokio::spawn(async move {
            while let Some(event) = watcher.next().await {
                if let Ok(event) = event
                    && tx.send(event).is_err()
                {
                    break;
                }
            }
        });
        // Let it settle past the directory's recent-change window.
        tokio::time::sleep(Duration::from_secs(1)).await;
        while rx.try_recv().is_ok() {}
        let cpu0 = cpu_ns_self();
        let idle = Duration::from_secs(3);
        tokio::time::sleep(idle).await;
        let idle_cpu_ms = cpu_ns_self().saturating_sub(cpu0) as f64 / 1e6 / idle.as_secs_f64();

        let mut seen = Vec::new();
        for i in 0..10 {
            while rx.try_recv().is_ok() {}
            let name = format!("probe{i}");
            let start = Instant::now();
            registry
                .register(&record(&name, 0), keep)
                .await
                .map_err(|e| e.to_string())?;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, rx.recv()).await {
                    Ok(Some(event)) if event.service.name == name => break,
                    Ok(Some(_)) => {}
                    _ => return Err(format!("the watcher never saw {name}")),
                }
            }
            seen.push(start.elapsed().as_secs_f64());
            // Past the recent-change window, as between real changes.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        pump.abort();
        table.row(vec![
            services.to_string(),
            (services * NODES).to_string(),
            list,
            command,
            format!("{idle_cpu_ms:.2}"),
            human(Duration::from_secs_f64(median(&mut seen))),
        ]);
    }
    Ok(table)
}
