//! Watching sources: file changes under a service's package (or its path dependencies),
//! debounced, name the services to rebuild.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::manifest::Spec;

/// Quiet time after the last change before a rebuild.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Whether a changed path, relative to the watched directory, is a source: a `.rs`,
/// `.proto` or `.toml` file outside build output, VCS data and editors' scratch files (a
/// service writing its own data files next to its sources rebuilds nothing).
fn is_source(relative: &Path) -> bool {
    if relative.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("target" | ".git" | "node_modules")
        )
    }) {
        return false;
    }
    let Some(name) = relative.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with(".#") || name.starts_with('.') && name.ends_with(".swp") {
        return false;
    }
    matches!(
        relative.extension().and_then(|e| e.to_str()),
        Some("rs" | "proto" | "toml")
    )
}

/// The indexes of the services whose watched directories hold a source among `paths`.
pub(crate) fn affected(specs: &[(usize, Vec<PathBuf>)], paths: &[PathBuf]) -> Vec<usize> {
    let mut hit: Vec<usize> = specs
        .iter()
        .filter(|(_, dirs)| {
            paths
                .iter()
                .any(|p| dirs.iter().any(|d| p.strip_prefix(d).is_ok_and(is_source)))
        })
        .map(|(i, _)| *i)
        .collect();
    hit.sort_unstable();
    hit
}

/// Watch the services' directories; every debounced batch of source changes sends the
/// indexes of the services it touches. The watcher lives as long as the returned value.
pub(crate) fn start(
    specs: &[Spec],
    tx: mpsc::Sender<Vec<usize>>,
) -> Result<notify::RecommendedWatcher, String> {
    let dirs: Vec<(usize, Vec<PathBuf>)> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let dirs = s
                .watch
                .iter()
                .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
                .collect();
            (i, dirs)
        })
        .collect();
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            for path in event.paths {
                let _ = raw_tx.send(path);
            }
        }
    })
    .map_err(|e| e.to_string())?;
    let mut seen = std::collections::BTreeSet::new();
    for (_, list) in &dirs {
        for d in list {
            if seen.insert(d.clone()) {
                watcher
                    .watch(d, RecursiveMode::Recursive)
                    .map_err(|e| format!("{}: {e}", d.display()))?;
            }
        }
    }
    tokio::spawn(async move {
        while let Some(first) = raw_rx.recv().await {
            let mut batch = vec![first];
            while let Ok(Some(p)) = tokio::time::timeout(DEBOUNCE, raw_rx.recv()).await {
                batch.push(p);
            }
            let hit = affected(&dirs, &batch);
            if !hit.is_empty() && tx.send(hit).await.is_err() {
                return;
            }
        }
    });
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_of_a_service_rebuild_it() {
        assert!(is_source(Path::new("src/main.rs")));
        assert!(is_source(Path::new("proto/orders.proto")));
        assert!(is_source(Path::new("Cargo.toml")));
        assert!(!is_source(Path::new("target/debug/build/x/out.rs")));
        assert!(!is_source(Path::new("src/.main.rs.swp")));
        assert!(!is_source(Path::new("src/main.rs~")));
        assert!(!is_source(Path::new("node.ledger")));
        let specs = vec![
            (0, vec![PathBuf::from("/w/target/inventory")]),
            (
                1,
                vec![
                    PathBuf::from("/w/orders"),
                    PathBuf::from("/w/target/inventory"),
                ],
            ),
        ];
        // A project under a directory called target still rebuilds.
        assert_eq!(
            affected(&specs, &[PathBuf::from("/w/orders/src/main.rs")]),
            [1]
        );
        assert_eq!(
            affected(&specs, &[PathBuf::from("/w/target/inventory/src/lib.rs")]),
            [0, 1]
        );
        assert!(affected(&specs, &[PathBuf::from("/w/orders/target/debug/x.rs")]).is_empty());
        assert!(affected(&specs, &[PathBuf::from("/w/other/x.rs")]).is_empty());
    }
}
