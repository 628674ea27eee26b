//! The route table: every service's endpoints and `google.api.http` rules, as the registry
//! describes them, rebuilt when the registry changes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use micro::registry::{Endpoint, SharedRegistry, Value, WatchOptions};
use serde::Deserialize;

use crate::template::Template;

/// One HTTP binding of an endpoint.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The HTTP method (upper case; a custom verb as written).
    pub method: String,
    /// The path template.
    pub template: Template,
    /// The request field the body fills (`*`: the whole request); none: no body.
    pub body: Option<String>,
    /// The response field that is the whole HTTP response body.
    pub response_body: Option<String>,
    /// The service.
    pub service: String,
    /// `Service.Method`.
    pub endpoint: String,
}

/// What the gateway knows of an endpoint.
#[derive(Clone, Debug, Default)]
pub struct EndpointInfo {
    /// `server`, `client`, `bidirectional`, or none for unary.
    pub stream: Option<String>,
    /// Request shape, when the service publishes it.
    pub request: Option<Value>,
    /// Response shape, when the service publishes it.
    pub response: Option<Value>,
    /// Whether the endpoint is safe to retry.
    pub idempotent: bool,
    /// The endpoint's own metadata.
    pub metadata: BTreeMap<String, String>,
}

impl EndpointInfo {
    fn of(e: &Endpoint) -> EndpointInfo {
        EndpointInfo {
            stream: e.stream().map(str::to_owned),
            request: e.request.clone(),
            response: e.response.clone(),
            idempotent: e.is_idempotent(),
            metadata: e.metadata.clone(),
        }
    }
}

/// A snapshot of every route.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// HTTP rules, first registered first.
    pub rules: Vec<Rule>,
    /// Every callable endpoint, by service then endpoint name.
    pub services: BTreeMap<String, BTreeMap<String, Arc<EndpointInfo>>>,
    /// Subscriber topics, by service.
    pub topics: BTreeMap<String, Vec<String>>,
}

impl Table {
    /// The endpoint, when its service is registered and has it.
    pub fn endpoint(&self, service: &str, endpoint: &str) -> Option<&Arc<EndpointInfo>> {
        self.services.get(service)?.get(endpoint)
    }

    /// The first rule bound to `method` whose template matches `raw_path`, with the values
    /// of its variables.
    pub fn find(&self, method: &str, raw_path: &str) -> Option<(&Rule, Vec<(String, String)>)> {
        self.rules.iter().find_map(|r| {
            if r.method != method {
                return None;
            }
            r.template.matches(raw_path).map(|vars| (r, vars))
        })
    }

    /// The methods the rules matching `raw_path` are bound to (for 405's `Allow`); empty
    /// when no rule matches the path.
    pub fn methods_for(&self, raw_path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rules {
            if r.template.matches(raw_path).is_some() && !out.contains(&r.method) {
                out.push(r.method.clone());
            }
        }
        out.sort();
        out
    }

    /// The first rule of a streaming endpoint matching `raw_path`, whatever its method (a
    /// websocket handshake is a GET).
    pub fn find_streaming(&self, raw_path: &str) -> Option<(&Rule, Vec<(String, String)>)> {
        self.rules.iter().find_map(|r| {
            let streaming = self
                .endpoint(&r.service, &r.endpoint)
                .is_some_and(|e| e.stream.is_some());
            if !streaming {
                return None;
            }
            r.template.matches(raw_path).map(|vars| (r, vars))
        })
    }
}

#[derive(Deserialize)]
struct RawRule {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    response_body: Option<String>,
}

/// The rules an endpoint's metadata carries: `http` (a JSON array micro-gen writes) or
/// go-micro's `method` / `path` / `body` keys (comma lists; `^...$` regex paths are not
/// supported and skipped).
fn rules_of(service: &str, e: &Endpoint) -> Vec<Result<Rule, String>> {
    let raw: Vec<RawRule> = if let Some(json) = e.metadata.get("http") {
        match serde_json::from_str(json) {
            Ok(rules) => rules,
            Err(err) => return vec![Err(format!("its http metadata is not valid: {err}"))],
        }
    } else if let Some(paths) = e.metadata.get("path") {
        let methods: Vec<&str> = e
            .metadata
            .get("method")
            .map(|m| m.split(',').map(str::trim).collect())
            .unwrap_or_else(|| vec!["POST"]);
        let mut out = Vec::new();
        for path in paths
            .split(',')
            .map(str::trim)
            .filter(|p| !p.starts_with('^'))
        {
            for method in &methods {
                out.push(RawRule {
                    method: (*method).to_owned(),
                    path: path.to_owned(),
                    body: e.metadata.get("body").cloned().or(Some("*".to_owned())),
                    response_body: None,
                });
            }
        }
        out
    } else {
        return Vec::new();
    };
    raw.into_iter()
        .map(|r| {
            let template = Template::parse(&r.path).map_err(|e| e.to_string())?;
            Ok(Rule {
                method: r.method.to_ascii_uppercase(),
                template,
                body: r.body.filter(|b| !b.is_empty()),
                response_body: r.response_body.filter(|b| !b.is_empty()),
                service: service.to_owned(),
                endpoint: e.name.clone(),
            })
        })
        .collect()
}

/// Builds tables, keeping the order in which endpoints were first seen so that, between two
/// conflicting rules, the one registered first keeps winning.
#[derive(Debug, Default)]
pub struct Builder {
    order: HashMap<(String, String), u64>,
    next: u64,
    warned: HashSet<String>,
}

impl Builder {
    /// A table from every record of every service.
    pub fn build(&mut self, records: &[micro::registry::Service]) -> Table {
        let mut table = Table::default();
        let mut candidates = Vec::new();
        for record in records {
            let endpoints = table.services.entry(record.name.clone()).or_default();
            for e in &record.endpoints {
                if e.is_subscriber() {
                    let topics = table.topics.entry(record.name.clone()).or_default();
                    if !topics.contains(&e.name) {
                        topics.push(e.name.clone());
                    }
                    continue;
                }
                endpoints
                    .entry(e.name.clone())
                    .or_insert_with(|| Arc::new(EndpointInfo::of(e)));
                let key = (record.name.clone(), e.name.clone());
                let seq = *self.order.entry(key).or_insert_with(|| {
                    self.next += 1;
                    self.next
                });
                for rule in rules_of(&record.name, e) {
                    match rule {
                        Ok(rule) => candidates.push((seq, rule)),
                        Err(why) => self.warn(format!(
                            "{} {}: {why}; its HTTP rules are skipped",
                            record.name, e.name
                        )),
                    }
                }
            }
        }
        candidates.sort_by_key(|(seq, _)| *seq);
        for (_, rule) in candidates {
            if let Some(first) = table
                .rules
                .iter()
                .find(|r| r.method == rule.method && r.template.same_shape(&rule.template))
            {
                if first.service == rule.service && first.endpoint == rule.endpoint {
                    continue; // the same rule from another version or node
                }
                self.warn(format!(
                    "HTTP rule conflict: {} {} of {} {} matches the same requests as {} {} of {} {}; the first registered wins",
                    rule.method,
                    rule.template.as_str(),
                    rule.service,
                    rule.endpoint,
                    first.method,
                    first.template.as_str(),
                    first.service,
                    first.endpoint
                ));
                continue;
            }
            table.rules.push(rule);
        }
        table
    }

    fn warn(&mut self, message: String) {
        if self.warned.insert(message.clone()) {
            tracing::warn!("{message}");
        }
    }
}

/// The live table, shared by every request.
pub type Shared = Arc<RwLock<Arc<Table>>>;

/// Every service record in `registry`, whole: what `list_services` gives when it carries
/// the nodes (the local and memory registries), else each service looked up by name.
pub async fn records(registry: &SharedRegistry) -> micro::Result<Vec<micro::registry::Service>> {
    let mut listed = registry.list_services().await?;
    if !listed.is_empty() && listed.iter().all(|s| !s.nodes.is_empty()) {
        listed.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        return Ok(listed);
    }
    let mut names: Vec<String> = listed.iter().map(|s| s.name.clone()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        if let Ok(records) = registry.get_service(&name).await {
            out.extend(records);
        }
    }
    Ok(out)
}

/// Load the table now, then keep it current from the registry's watch (and a full reload
/// every `every`, in case a watch misses something).
pub async fn maintain(registry: SharedRegistry, shared: Shared, every: Duration) {
    use futures_util::FutureExt;
    let mut builder = Builder::default();
    let mut watcher = None;
    loop {
        if watcher.is_none() {
            watcher = registry.watch(WatchOptions::all()).await.ok();
        }
        match records(&registry).await {
            Ok(all) => {
                let table = Arc::new(builder.build(&all));
                if let Ok(mut slot) = shared.write() {
                    *slot = table;
                }
            }
            Err(err) => tracing::warn!("the gateway cannot list services: {err}"),
        }
        let Some(w) = watcher.as_mut() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        // Wait for a change (or the periodic reload), then let a burst of changes settle.
        match tokio::time::timeout(every, w.next()).await {
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(Some(Err(_)) | None) => {
                watcher = None;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Some(Some(Ok(_))) = w.next().now_or_never() {}
    }
}

#[cfg(test)]
mod tests {
    use micro::registry::{Endpoint, Service};

    use super::*;

    fn endpoint(name: &str, http: &str) -> Endpoint {
        let mut e = Endpoint::new(name);
        e.metadata.insert("http".into(), http.into());
        e
    }

    #[test]
    fn conflicts_keep_the_first_registered_rule() {
        let mut b = Builder::default();
        let a = Service::new("a", "1").with_endpoint(endpoint(
            "A.Get",
            r#"[{"method":"GET","path":"/v1/items/{id}"}]"#,
        ));
        let t = b.build(std::slice::from_ref(&a));
        assert_eq!(t.rules.len(), 1);
        // b registers later with a rule that matches the same requests; listing order must
        // not matter.
        let bsvc = Service::new("b", "1").with_endpoint(endpoint(
            "B.Get",
            r#"[{"method":"GET","path":"/v1/items/{name}"},{"method":"POST","path":"/v1/items/{name}","body":"*"}]"#,
        ));
        let t = b.build(&[bsvc, a]);
        let (rule, vars) = t.find("GET", "/v1/items/7").unwrap();
        assert_eq!(rule.service, "a");
        assert_eq!(vars, vec![("id".to_owned(), "7".to_owned())]);
        assert_eq!(t.find("POST", "/v1/items/7").unwrap().0.service, "b");
        assert!(t.find("DELETE", "/v1/items/7").is_none());
        assert_eq!(t.methods_for("/v1/items/7"), vec!["GET", "POST"]);
        assert!(t.methods_for("/v2/items/7").is_empty());
    }

    #[test]
    fn go_micro_metadata_keys_and_bad_rules() {
        let mut e = Endpoint::new("Old.Get");
        e.metadata.insert("method".into(), "GET,POST".into());
        e.metadata.insert("path".into(), "/old/get,^/regex$".into());
        let bad = endpoint("Bad.X", "not json");
        let t = Builder::default()
            .build(&[Service::new("old", "1").with_endpoint(e).with_endpoint(bad)]);
        assert_eq!(t.rules.len(), 2);
        assert!(t.find("POST", "/old/get").is_some());
        assert!(t.endpoint("old", "Bad.X").is_some());
    }
}
