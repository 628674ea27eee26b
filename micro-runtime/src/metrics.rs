//! Prometheus metrics: what a process serves and calls, its broker traffic and its registry
//! heartbeats, in the OpenMetrics text format.
//!
//! Off by default. A service records and serves them at `http://ADDRESS/metrics` when
//! `MICRO_METRICS_ADDRESS` (`--metrics_address`) is set, e.g. `127.0.0.1:9464`, and so does
//! `micro api` (which then also answers `/metrics` on its own port); a program with an HTTP
//! server of its own calls [`enable`] and serves [`render`], or starts an [`Exporter`].
//!
//! | Series | Labels |
//! |---|---|
//! | `micro_server_requests_total` | `service`, `endpoint`, `status` (the gRPC code name; `CANCELLED` when the deadline passed or the caller left first; unary and client-streaming calls count when their handler returns, server-streaming and bidirectional ones when their stream starts) |
//! | `micro_server_request_duration_seconds` (histogram) | `service`, `endpoint` |
//! | `micro_server_requests_in_flight` (gauge) | `service`, `endpoint` |
//! | `micro_client_requests_total` (each attempt) | `service`, `endpoint` (`unknown` for every attempt answered `UNIMPLEMENTED`, so made-up names add no series), `node` (address), `status` |
//! | `micro_client_request_duration_seconds` (histogram) | `service`, `endpoint` |
//! | `micro_broker_published_total` (typed publishers) | `topic`, `status` |
//! | `micro_broker_delivered_total` | `topic`, `queue`, `status` (`ok` or `failed`) |
//! | `micro_broker_redelivered_total` | `topic`, `queue` |
//! | `micro_broker_dead_lettered_total` | `topic`, `queue` |
//! | `micro_registry_heartbeat_failures_total` | `service`, `registry` |
//!
//! ```
//! micro::metrics::enable();
//! // Series appear once something was recorded; the text always ends as OpenMetrics says.
//! let text = micro::metrics::render();
//! assert!(text.ends_with("# EOF\n"));
//! assert!(micro::metrics::enabled());
//! ```

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::error::{Error, Result};

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

static ON: AtomicBool = AtomicBool::new(false);
static METRICS: OnceLock<Metrics> = OnceLock::new();

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Endpoint {
    service: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Served {
    service: String,
    endpoint: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Attempt {
    service: String,
    endpoint: String,
    node: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Published {
    topic: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivered {
    topic: String,
    queue: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Subscription {
    topic: String,
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Heartbeat {
    service: String,
    registry: String,
}

fn latency() -> Histogram {
    // 0.25 ms to about 16 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
}

/// Every series this process records.
struct Metrics {
    registry: Registry,
    served: Family<Served, Counter>,
    serve_time: Family<Endpoint, Histogram, fn() -> Histogram>,
    in_flight: Family<Endpoint, Gauge>,
    attempts: Family<Attempt, Counter>,
    call_time: Family<Endpoint, Histogram, fn() -> Histogram>,
    published: Family<Published, Counter>,
    delivered: Family<Delivered, Counter>,
    redelivered: Family<Subscription, Counter>,
    dead_lettered: Family<Subscription, Counter>,
    heartbeat_failures: Family<Heartbeat, Counter>,
}

fn metrics() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            served: Family::default(),
            serve_time: Family::new_with_constructor(latency as fn() -> Histogram),
            in_flight: Family::default(),
            attempts: Family::default(),
            call_time: Family::new_with_constructor(latency as fn() -> Histogram),
            published: Family::default(),
            delivered: Family::default(),
            redelivered: Family::default(),
            dead_lettered: Family::default(),
            heartbeat_failures: Family::default(),
        };
        registry.register(
            "micro_server_requests",
            "Calls served, by endpoint and status",
            m.served.clone(),
        );
        registry.register_with_unit(
            "micro_server_request_duration",
            "Time to serve a call",
            Unit::Seconds,
            m.serve_time.clone(),
        );
        registry.register(
            "micro_server_requests_in_flight",
            "Calls being served",
            m.in_flight.clone(),
        );
        registry.register(
            "micro_client_requests",
            "Call attempts, by target node and status",
            m.attempts.clone(),
        );
        registry.register_with_unit(
            "micro_client_request_duration",
            "Time of a call attempt",
            Unit::Seconds,
            m.call_time.clone(),
        );
        registry.register(
            "micro_broker_published",
            "Messages published by typed publishers",
            m.published.clone(),
        );
        registry.register(
            "micro_broker_delivered",
            "Messages handed to subscribers, by outcome",
            m.delivered.clone(),
        );
        registry.register(
            "micro_broker_redelivered",
            "Deliveries after the first",
            m.redelivered.clone(),
        );
        registry.register(
            "micro_broker_dead_lettered",
            "Messages given up on and dead-lettered",
            m.dead_lettered.clone(),
        );
        registry.register(
            "micro_registry_heartbeat_failures",
            "Registration refreshes that failed",
            m.heartbeat_failures.clone(),
        );
        Metrics { registry, ..m }
    })
}

/// Start recording (a service does it when `MICRO_METRICS_ADDRESS` is set).
pub fn enable() {
    metrics();
    ON.store(true, Ordering::Relaxed);
}

/// Whether this process records metrics.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Every series in the OpenMetrics text format (served as [`CONTENT_TYPE`]).
pub fn render() -> String {
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &metrics().registry);
    text
}

fn status(result: std::result::Result<(), &Error>) -> &'static str {
    match result {
        Ok(()) => "OK",
        Err(e) => e.grpc_code().name(),
    }
}

/// The series of one endpoint a server serves: looked up in the families once, then
/// shared (a metric handle shares its value with the family's), so a call costs a map
/// lookup and a few atomic operations, not label strings built and hashed per series.
#[derive(Debug)]
struct ServedSeries {
    labels: Endpoint,
    in_flight: Gauge,
    serve_time: Histogram,
    ok: Counter,
}

/// The series of one (service, path, node) a client calls.
#[derive(Debug)]
struct CalledSeries {
    labels: Endpoint,
    node: String,
    call_time: Histogram,
    ok: Counter,
}

type ByName<T> = std::collections::HashMap<String, T>;

/// The looked-up series: served by service and endpoint; called by service, path and node.
#[derive(Default)]
struct Looked {
    served: std::sync::RwLock<ByName<ByName<std::sync::Arc<ServedSeries>>>>,
    called: std::sync::RwLock<ByName<ByName<ByName<std::sync::Arc<CalledSeries>>>>>,
}

fn looked() -> &'static Looked {
    static LOOKED: OnceLock<Looked> = OnceLock::new();
    LOOKED.get_or_init(Looked::default)
}

fn served_series(service: &str, endpoint: &str) -> std::sync::Arc<ServedSeries> {
    let cache = &looked().served;
    if let Some(found) = cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(service)
        .and_then(|m| m.get(endpoint))
    {
        return found.clone();
    }
    let m = metrics();
    let labels = Endpoint {
        service: service.to_owned(),
        endpoint: endpoint.to_owned(),
    };
    let series = std::sync::Arc::new(ServedSeries {
        in_flight: m.in_flight.get_or_create(&labels).clone(),
        serve_time: m.serve_time.get_or_create(&labels).clone(),
        ok: m
            .served
            .get_or_create(&Served {
                service: labels.service.clone(),
                endpoint: labels.endpoint.clone(),
                status: "OK",
            })
            .clone(),
        labels,
    });
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(service.to_owned())
        .or_default()
        .entry(endpoint.to_owned())
        .or_insert(series)
        .clone()
}

/// The series of (service, path, node) if an attempt ended there before.
fn known_series(service: &str, path: &str, node: &str) -> Option<std::sync::Arc<CalledSeries>> {
    looked()
        .called
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(service)
        .and_then(|m| m.get(path))
        .and_then(|m| m.get(node))
        .cloned()
}

/// The series of (service, path, node), made on the first attempt there that the callee
/// did not answer UNIMPLEMENTED.
fn called_series(service: &str, path: &str, node: &str) -> std::sync::Arc<CalledSeries> {
    if let Some(found) = known_series(service, path, node) {
        return found;
    }
    let cache = &looked().called;
    let m = metrics();
    let labels = Endpoint {
        service: service.to_owned(),
        endpoint: endpoint_of(path),
    };
    let series = std::sync::Arc::new(CalledSeries {
        call_time: m.call_time.get_or_create(&labels).clone(),
        ok: m
            .attempts
            .get_or_create(&Attempt {
                service: labels.service.clone(),
                endpoint: labels.endpoint.clone(),
                node: node.to_owned(),
                status: "OK",
            })
            .clone(),
        node: node.to_owned(),
        labels,
    });
    cache
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(service.to_owned())
        .or_default()
        .entry(path.to_owned())
        .or_default()
        .entry(node.to_owned())
        .or_insert(series)
        .clone()
}

/// A call being served: in flight until dropped, counted by [`Serving::done`], or as
/// `CANCELLED` when dropped first (its deadline passed, or the caller went away).
#[derive(Debug)]
pub(crate) struct Serving {
    series: Option<std::sync::Arc<ServedSeries>>,
    started: std::time::Instant,
    counted: bool,
}

impl Serving {
    pub(crate) fn start(service: &str, endpoint: &str) -> Serving {
        let series = enabled().then(|| served_series(service, endpoint));
        if let Some(series) = &series {
            series.in_flight.inc();
        }
        Serving {
            series,
            started: std::time::Instant::now(),
            counted: false,
        }
    }

    pub(crate) fn done(mut self, result: std::result::Result<(), &Error>) {
        self.count(status(result));
    }

    fn count(&mut self, status: &'static str) {
        let Some(series) = &self.series else {
            return;
        };
        self.counted = true;
        if status == "OK" {
            series.ok.inc();
        } else {
            metrics()
                .served
                .get_or_create(&Served {
                    service: series.labels.service.clone(),
                    endpoint: series.labels.endpoint.clone(),
                    status,
                })
                .inc();
        }
        series
            .serve_time
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if !self.counted {
            self.count(crate::error::Code::Cancelled.name());
        }
        if let Some(series) = &self.series {
            series.in_flight.dec();
        }
    }
}

/// `Svc.Method` from a gRPC path `/package.Svc/Method`.
fn endpoint_of(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or("");
    let method = parts.next().unwrap_or("");
    let service = service.rsplit('.').next().unwrap_or(service);
    format!("{service}.{method}")
}

/// What an attempt is counted under: series looked up before, or the names to look them
/// up by once the attempt ends (a path the callee lacks never gets series of its own).
#[derive(Debug)]
enum Target {
    Known(std::sync::Arc<CalledSeries>),
    New {
        service: String,
        path: String,
        node: String,
    },
}

/// A call attempt to a node: counted by [`Attempting::done`], or as `CANCELLED` when
/// dropped first (its deadline passed, or a hedged twin answered).
#[derive(Debug)]
pub(crate) struct Attempting {
    /// The attempt's target and start; `None` while metrics are off (nothing is timed).
    series: Option<(Target, std::time::Instant)>,
}

impl Attempting {
    pub(crate) fn start(service: &str, path: &str, node: &str) -> Attempting {
        Attempting {
            series: enabled().then(|| {
                let target = match known_series(service, path, node) {
                    Some(series) => Target::Known(series),
                    None => Target::New {
                        service: service.to_owned(),
                        path: path.to_owned(),
                        node: node.to_owned(),
                    },
                };
                (target, std::time::Instant::now())
            }),
        }
    }

    pub(crate) fn done(mut self, result: std::result::Result<(), &Error>) {
        self.record(status(result));
    }

    fn record(&mut self, status: &'static str) {
        let Some((target, started)) = self.series.take() else {
            return;
        };
        let elapsed = started.elapsed().as_secs_f64();
        if status == crate::error::Code::Unimplemented.name() {
            // Mostly a name the callee does not have (through the gateway's /rpc, any caller
            // can make one up): one series for every UNIMPLEMENTED answer.
            let (service, node) = match &target {
                Target::Known(s) => (&s.labels.service, &s.node),
                Target::New { service, node, .. } => (service, node),
            };
            let m = metrics();
            let unknown = Endpoint {
                service: service.clone(),
                endpoint: "unknown".to_owned(),
            };
            m.call_time.get_or_create(&unknown).observe(elapsed);
            m.attempts
                .get_or_create(&Attempt {
                    service: unknown.service,
                    endpoint: unknown.endpoint,
                    node: node.clone(),
                    status,
                })
                .inc();
            return;
        }
        let series = match target {
            Target::Known(series) => series,
            Target::New {
                service,
                path,
                node,
            } => called_series(&service, &path, &node),
        };
        series.call_time.observe(elapsed);
        if status == "OK" {
            series.ok.inc();
        } else {
            metrics()
                .attempts
                .get_or_create(&Attempt {
                    service: series.labels.service.clone(),
                    endpoint: series.labels.endpoint.clone(),
                    node: series.node.clone(),
                    status,
                })
                .inc();
        }
    }
}

impl Drop for Attempting {
    fn drop(&mut self) {
        self.record(crate::error::Code::Cancelled.name());
    }
}

/// A typed publisher published to `topic`.
pub(crate) fn published(topic: &str, result: std::result::Result<(), &Error>) {
    if enabled() {
        metrics()
            .published
            .get_or_create(&Published {
                topic: topic.to_owned(),
                status: status(result),
            })
            .inc();
    }
}

fn subscription(topic: &str, queue: Option<&str>) -> Subscription {
    Subscription {
        topic: topic.to_owned(),
        queue: queue.unwrap_or("").to_owned(),
    }
}

/// A subscriber handled a message of `topic` (delivery `attempt`, from 1).
pub(crate) fn delivered(topic: &str, queue: Option<&str>, attempt: u32, ok: bool) {
    if !enabled() {
        return;
    }
    let m = metrics();
    m.delivered
        .get_or_create(&Delivered {
            topic: topic.to_owned(),
            queue: queue.unwrap_or("").to_owned(),
            status: if ok { "ok" } else { "failed" },
        })
        .inc();
    if attempt > 1 {
        m.redelivered
            .get_or_create(&subscription(topic, queue))
            .inc();
    }
}

/// A message of `topic` was dead-lettered.
pub(crate) fn dead_lettered(topic: &str, queue: Option<&str>) {
    if enabled() {
        metrics()
            .dead_lettered
            .get_or_create(&subscription(topic, queue))
            .inc();
    }
}

/// Refreshing the registration of `service` failed.
pub(crate) fn heartbeat_failed(service: &str, registry: &str) {
    if enabled() {
        metrics()
            .heartbeat_failures
            .get_or_create(&Heartbeat {
                service: service.to_owned(),
                registry: registry.to_owned(),
            })
            .inc();
    }
}

/// A `/metrics` endpoint on a port of its own (a service starts one for
/// `MICRO_METRICS_ADDRESS`): turns recording on, and serves until dropped.
#[derive(Debug)]
pub struct Exporter {
    addr: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Exporter {
    /// Listen at `address` (the error names the setting) and serve `GET /metrics`.
    pub async fn start(address: &str) -> Result<Exporter> {
        enable();
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            Error::bad_request(
                "micro.metrics",
                format!("MICRO_METRICS_ADDRESS {address:?}: cannot listen there: {e}"),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::internal("micro.metrics", format!("the metrics listener: {e}")))?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(serve(listener, stopped));
        Ok(Exporter { addr, stop })
    }

    /// Where it listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serve `GET /metrics` on `listener` until `stop` fires.
async fn serve(listener: tokio::net::TcpListener, mut stop: tokio::sync::watch::Receiver<bool>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::{Response, StatusCode};

    let service =
        hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
            let rsp = if req.uri().path() == "/metrics" && req.method() == hyper::Method::GET {
                Response::builder()
                    .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
                    .body(Full::new(Bytes::from(render())))
            } else {
                Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(Full::new(Bytes::from_static(
                        b"metrics are at GET /metrics\n",
                    )))
            };
            Ok::<_, std::convert::Infallible>(rsp.unwrap_or_default())
        });
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((io, _)) = accepted else {
                    // Out of file descriptors, say: try again shortly.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(io);
                    // A client gets 10 s for its request head.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(io, service)
                        .await;
                });
            }
            _ = async { let _ = stop.wait_for(|s| *s).await; } => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_grpc_paths() {
        assert_eq!(endpoint_of("/greeter.v1.Greeter/Hello"), "Greeter.Hello");
        assert_eq!(endpoint_of("/Greeter/Hello"), "Greeter.Hello");
    }

    #[test]
    fn broker_and_registry_series_are_rendered() {
        enable();
        published("metrics.unit", Ok(()));
        delivered("metrics.unit", Some("svc"), 1, false);
        delivered("metrics.unit", Some("svc"), 2, true);
        dead_lettered("metrics.unit", Some("svc"));
        heartbeat_failed("metrics-unit", "etcd");
        let text = render();
        for line in [
            r#"micro_broker_published_total{topic="metrics.unit",status="OK"} 1"#,
            r#"micro_broker_delivered_total{topic="metrics.unit",queue="svc",status="failed"} 1"#,
            r#"micro_broker_delivered_total{topic="metrics.unit",queue="svc",status="ok"} 1"#,
            r#"micro_broker_redelivered_total{topic="metrics.unit",queue="svc"} 1"#,
            r#"micro_broker_dead_lettered_total{topic="metrics.unit",queue="svc"} 1"#,
            r#"micro_registry_heartbeat_failures_total{service="metrics-unit",registry="etcd"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
