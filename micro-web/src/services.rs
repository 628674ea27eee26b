//! The services as the page shows them: a summary of every service kept current from the
//! registry's watch (and sent to every open page as server-sent events), one service in
//! full with its nodes' health, and the raw records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt as _, StreamExt};
use http::StatusCode;
use micro::registry::{Endpoint, Service, WatchOptions};
use serde_json::{Value as Json, json};
use tokio::sync::{Notify, watch};

use crate::{Web, health};

/// What the page's services list shows, as last built.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Every record, by name then version.
    pub(crate) records: Vec<Service>,
    /// The summary, as the JSON `GET api/services` answers.
    pub(crate) summary: Arc<str>,
}

/// The live view: the latest snapshot (watchers are told of each new one), the nodes'
/// health as last probed, and a nudge for the loop when the health changed.
#[derive(Debug)]
pub(crate) struct Live {
    tx: watch::Sender<Arc<Snapshot>>,
    health: Mutex<HashMap<String, String>>,
    changed: Notify,
    started: std::sync::Once,
}

impl Live {
    pub(crate) fn new() -> Live {
        Live {
            tx: watch::Sender::new(Arc::new(Snapshot::default())),
            health: Mutex::new(HashMap::new()),
            changed: Notify::new(),
            started: std::sync::Once::new(),
        }
    }

    /// Start keeping the snapshot current (once).
    pub(crate) fn start(self: &Arc<Live>, web: &Web) {
        self.started.call_once(|| {
            tokio::spawn(maintain(web.downgrade(), self.clone()));
            tokio::spawn(probe_loop(web.downgrade(), self.clone()));
        });
    }

    /// The health last probed of each node, by node id.
    fn health_of(&self, node: &str) -> Option<String> {
        self.health.lock().ok().and_then(|h| h.get(node).cloned())
    }

    /// Record probed health; true when something changed.
    fn set_health(&self, probed: HashMap<String, String>) -> bool {
        let Ok(mut h) = self.health.lock() else {
            return false;
        };
        let changed = *h != probed;
        *h = probed;
        changed
    }
}

/// Keep the snapshot current: reload after registry changes (a burst is one reload), when
/// the probed health changed, and every 10 s in case a watch missed something. Ends when the
/// dashboard is dropped.
async fn maintain(weak: std::sync::Weak<crate::Inner>, live: Arc<Live>) {
    let Some(web) = Web::upgrade(&weak) else {
        return;
    };
    let registry = web.client().selector().registry().clone();
    drop(web);
    let mut watcher = None;
    let mut records = Vec::new();
    let mut reload = true;
    loop {
        let Some(web) = Web::upgrade(&weak) else {
            return;
        };
        if watcher.is_none() {
            watcher = registry.watch(WatchOptions::all()).await.ok();
        }
        if reload {
            match micro_gateway::routes::records(&registry).await {
                Ok(all) => records = all,
                Err(err) => tracing::warn!("the dashboard cannot list services: {err}"),
            }
        }
        let summary = summary(&web, &records);
        live.tx.send_replace(Arc::new(Snapshot {
            records: records.clone(),
            summary: summary.to_string().into(),
        }));
        let Some(w) = watcher.as_mut() else {
            drop(web);
            tokio::time::sleep(Duration::from_secs(1)).await;
            reload = true;
            continue;
        };
        let changed = live.changed.notified();
        drop(web);
        tokio::select! {
            next = w.next() => {
                if !matches!(next, Some(Ok(_))) {
                    watcher = None;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                } else {
                    // Let a burst of changes arrive, then take them all as one.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    while let Some(Some(Ok(_))) = w.next().now_or_never() {}
                }
                reload = true;
            }
            () = changed => reload = false,
            () = tokio::time::sleep(Duration::from_secs(10)) => reload = true,
        }
    }
}

/// While a page watches, probe every micro node's health every 2 s (or twice as long as a
/// round took), and rebuild the summary when an answer changed. Ends when the dashboard is
/// dropped.
async fn probe_loop(weak: std::sync::Weak<crate::Inner>, live: Arc<Live>) {
    loop {
        let Some(web) = Web::upgrade(&weak) else {
            return;
        };
        // Only while some page watches.
        if live.tx.receiver_count() == 0 {
            drop(web);
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let started = tokio::time::Instant::now();
        let snapshot = live.tx.borrow().clone();
        let probed = health::probe_all(&web, &snapshot.records).await;
        if live.set_health(probed) {
            live.changed.notify_one();
        }
        drop(web);
        let pause = (started.elapsed() * 2).max(Duration::from_secs(2));
        tokio::time::sleep(pause).await;
    }
}

/// The path a web service is proxied at: `micro.web.chat` → `/chat/`, `micro.web.v2.chat`
/// → `/v2/chat/`.
/// Only names the proxy resolves count: segments of letters, digits and `-`.
fn web_path(namespace: &str, name: &str) -> Option<String> {
    let rest = name.strip_prefix(namespace)?.strip_prefix('.')?;
    let fits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (!rest.is_empty() && rest.split('.').all(fits)).then(|| format!("/{}/", rest.replace('.', "/")))
}

fn callable(e: &Endpoint) -> bool {
    !e.is_subscriber()
}

/// `GET api/services`'s answer for `records`.
fn summary(web: &Web, records: &[Service]) -> Json {
    let live = web.services();
    let namespace = &web.options().namespace;
    let mut by_name: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for r in records {
        by_name.entry(&r.name).or_default().push(r);
    }
    let mut services = Vec::with_capacity(by_name.len());
    let mut webs = Vec::new();
    let mut total_nodes = 0;
    for (name, versions) in &by_name {
        let nodes: usize = versions.iter().map(|v| v.nodes.len()).sum();
        total_nodes += nodes;
        let endpoints: BTreeSet<&str> = versions
            .iter()
            .flat_map(|v| v.endpoints.iter().filter(|e| callable(e)))
            .map(|e| e.name.as_str())
            .collect();
        let (mut serving, mut probed) = (0, 0);
        for node in versions
            .iter()
            .flat_map(|v| &v.nodes)
            .filter(|n| health::is_micro_node(n))
        {
            if let Some(h) = live.health_of(&node.id) {
                probed += 1;
                serving += usize::from(h == "SERVING");
            }
        }
        let health = match (probed, serving) {
            (0, _) => "unknown",
            (p, s) if s == p => "serving",
            (_, 0) => "down",
            _ => "degraded",
        };
        let web_path = web_path(namespace, name);
        if let Some(path) = &web_path {
            webs.push(json!({"name": name, "path": path}));
        }
        let mut version_names: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
        version_names.dedup();
        services.push(json!({
            "name": name,
            "versions": version_names,
            "nodes": nodes,
            "endpoints": endpoints.len(),
            "health": health,
            "web": web_path.is_some(),
        }));
    }
    json!({
        "services": services,
        "web": webs,
        "counts": {"services": by_name.len(), "nodes": total_nodes},
    })
}

/// `GET api/services`.
pub(crate) async fn list(State(web): State<Web>) -> Response {
    let snapshot = current(&web).await;
    micro_gateway::reply::json(StatusCode::OK, snapshot.summary.to_string())
}

/// The snapshot, waiting (up to 5 s) for the first one after a start.
async fn current(web: &Web) -> Arc<Snapshot> {
    let mut rx = web.services().tx.subscribe();
    let first = async move {
        rx.wait_for(|s| !s.summary.is_empty())
            .await
            .map(|s| s.clone())
    };
    match tokio::time::timeout(Duration::from_secs(5), first).await {
        Ok(Ok(s)) => s,
        _ => web.services().tx.borrow().clone(),
    }
}

/// `GET api/watch`: the summary now and after every change, as server-sent events.
pub(crate) async fn watch(State(web): State<Web>) -> Response {
    let rx = web.services().tx.subscribe();
    let events = tokio_stream::wrappers::WatchStream::new(rx)
        .filter(|s| std::future::ready(!s.summary.is_empty()))
        .map(|s| Ok::<_, Infallible>(Event::default().event("services").data(&*s.summary)));
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The HTTP bindings an endpoint declares: micro-gen's `http` list, or go-micro's
/// `method` / `path` / `body` keys.
fn http_bindings(e: &Endpoint) -> Json {
    if let Some(rules) = e.metadata.get("http")
        && let Ok(list @ Json::Array(_)) = serde_json::from_str::<Json>(rules)
    {
        return list;
    }
    let Some(paths) = e.metadata.get("path") else {
        return json!([]);
    };
    let methods = e.metadata.get("method").map_or("POST", String::as_str);
    let mut out = Vec::new();
    for path in paths.split(',').map(str::trim) {
        for method in methods.split(',').map(str::trim) {
            out.push(json!({"method": method, "path": path, "body": e.metadata.get("body")}));
        }
    }
    Json::Array(out)
}

/// `GET api/services/{name}`: every version with its nodes (health probed now), endpoints
/// and subscribers, and the values of the enums their shapes name (from the service's
/// reflection, when it has it).
pub(crate) async fn describe(State(web): State<Web>, Path(name): Path<String>) -> Response {
    let registry = web.client().selector().registry().clone();
    let records = match registry.get_service(&name).await {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => return not_found(&name),
        Err(err) if err.grpc_code() == micro::Code::NotFound => return not_found(&name),
        Err(err) => {
            return crate::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the registry did not answer for {name}: {}", err.detail()),
            );
        }
    };
    let types = crate::enums::named(&records);
    let (probed, enums) = tokio::join!(
        health::probe_all(&web, &records),
        crate::enums::values(web.client(), &name, &types)
    );
    let versions: Vec<Json> = records
        .iter()
        .map(|svc| {
            let nodes: Vec<Json> = svc
                .nodes
                .iter()
                .map(|n| {
                    let health = probed
                        .get(&n.id)
                        .cloned()
                        .unwrap_or_else(|| "UNKNOWN".to_owned());
                    json!({"id": n.id, "address": n.address, "metadata": n.metadata, "health": health})
                })
                .collect();
            let endpoints: Vec<Json> = svc
                .endpoints
                .iter()
                .filter(|e| callable(e))
                .map(|e| {
                    json!({
                        "name": e.name,
                        "request": e.request,
                        "response": e.response,
                        "metadata": e.metadata,
                        "stream": e.stream(),
                        "idempotent": e.is_idempotent(),
                        "http": http_bindings(e),
                    })
                })
                .collect();
            let subscribers: Vec<Json> = svc
                .endpoints
                .iter()
                .filter(|e| e.is_subscriber())
                .map(|e| {
                    json!({
                        "topic": e.metadata.get("topic").unwrap_or(&e.name),
                        "queue": e.metadata.get("queue"),
                        "request": e.request,
                    })
                })
                .collect();
            json!({
                "version": svc.version,
                "metadata": svc.metadata,
                "nodes": nodes,
                "endpoints": endpoints,
                "subscribers": subscribers,
            })
        })
        .collect();
    crate::json(
        StatusCode::OK,
        &json!({"name": name, "versions": versions, "enums": enums}),
    )
}

fn not_found(name: &str) -> Response {
    let shown: String = name.chars().take(200).collect();
    crate::error(
        StatusCode::NOT_FOUND,
        format!("no service {shown} is registered"),
    )
}

/// `GET api/registry`: every record as the registry holds it (go-micro's JSON).
pub(crate) async fn registry(State(web): State<Web>) -> Response {
    let snapshot = current(&web).await;
    crate::json(StatusCode::OK, &json!({"services": snapshot.records}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_services_are_proxied_at_their_name_under_the_namespace() {
        assert_eq!(
            web_path("micro.web", "micro.web.chat").as_deref(),
            Some("/chat/")
        );
        assert_eq!(
            web_path("micro.web", "micro.web.v2.chat").as_deref(),
            Some("/v2/chat/")
        );
        assert_eq!(web_path("micro.web", "micro.webchat"), None);
        assert_eq!(web_path("micro.web", "micro.web."), None);
        assert_eq!(web_path("micro.web", "greeter"), None);
        // Nothing that would make a link to another host or path.
        assert_eq!(web_path("micro.web", "micro.web..evil.com"), None);
        assert_eq!(web_path("micro.web", "micro.web.a\\b"), None);
        assert_eq!(web_path("micro.web", "micro.web.a/b"), None);
    }

    #[test]
    fn bindings_come_from_http_or_the_go_micro_keys() {
        let mut e = Endpoint::new("A.B");
        assert_eq!(http_bindings(&e), json!([]));
        e.metadata.insert("path".into(), "/a,/b".into());
        e.metadata.insert("method".into(), "GET".into());
        assert_eq!(
            http_bindings(&e),
            json!([{"method":"GET","path":"/a","body":null},{"method":"GET","path":"/b","body":null}])
        );
        e.metadata.insert(
            "http".into(),
            r#"[{"method":"POST","path":"/v1/x","body":"*"}]"#.into(),
        );
        assert_eq!(
            http_bindings(&e),
            json!([{"method":"POST","path":"/v1/x","body":"*"}])
        );
    }
}
