//! The OTLP/HTTP exporter: finished spans in batches, as `ExportTraceServiceRequest`
//! protobuf bodies POSTed to the receiver's `/v1/traces`.
//!
//! The messages below are the subset of `opentelemetry/proto/trace/v1/trace.proto` and
//! `collector/trace/v1/trace_service.proto` (OTLP 1.x) that spans need, with the schema's
//! field numbers. Export runs on a Tokio task: spans queue in a bounded channel (a full queue
//! drops spans rather than slowing calls, with a warning), and go out every second or every
//! 512 spans.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use tokio::sync::{mpsc, oneshot};

use super::{ID, Record, Status, Value};
use crate::error::{Error, Result};

/// Where spans go when `MICRO_TRACER_ADDRESS` is not set: a local Collector's OTLP/HTTP port.
pub(super) const DEFAULT_ADDRESS: &str = "127.0.0.1:4318";

/// Spans waiting to go; more are dropped.
const QUEUE: usize = 4096;
/// Spans per request.
const BATCH: usize = 512;
/// How often a partial batch goes.
const EVERY: Duration = Duration::from_secs(1);
/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// `MICRO_TRACER_ADDRESS` as the URL spans are POSTed to.
pub(super) fn endpoint(address: &str) -> Result<http::Uri> {
    let address = address.trim();
    let bad = |why: &str| {
        Error::bad_request(
            ID,
            format!(
                "MICRO_TRACER_ADDRESS {address:?}: {why} (give host:port or http://host:port[/path] of an OTLP/HTTP receiver)"
            ),
        )
    };
    if address.starts_with("https://") {
        return Err(bad(
            "the OTLP exporter speaks plain HTTP; put a local Collector in front of a TLS receiver",
        ));
    }
    let full = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let uri: http::Uri = full.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// is supported"));
    }
    let Some(authority) = uri.authority() else {
        return Err(bad("no host"));
    };
    if authority.port_u16().is_none() {
        return Err(bad("no port"));
    }
    let path = match uri.path() {
        "" | "/" => "/v1/traces",
        p => p,
    };
    http::Uri::builder()
        .scheme("http")
        .authority(authority.clone())
        .path_and_query(path)
        .build()
        .map_err(|_| bad("not a URL"))
}

enum Job {
    Span(Box<Record>),
    Flush(oneshot::Sender<()>),
}

/// Sends one service's spans; its task starts with the first span.
pub(super) struct Exporter {
    url: http::Uri,
    service: Arc<str>,
    queue: std::sync::OnceLock<mpsc::Sender<Job>>,
    dropped: Arc<AtomicU64>,
}

impl Exporter {
    pub(super) fn new(url: http::Uri, service: Arc<str>) -> Exporter {
        Exporter {
            url,
            service,
            queue: std::sync::OnceLock::new(),
            dropped: Arc::default(),
        }
    }

    fn queue(&self) -> Option<&mpsc::Sender<Job>> {
        if let Some(q) = self.queue.get() {
            return Some(q);
        }
        // Spans end inside the runtime; one that ends outside has nowhere to go.
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        Some(self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            runtime.spawn(run(
                rx,
                self.url.clone(),
                self.service.clone(),
                self.dropped.clone(),
            ));
            tx
        }))
    }

    pub(super) fn export(&self, record: Record) {
        let Some(queue) = self.queue() else {
            return;
        };
        if queue.try_send(Job::Span(Box::new(record))).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) async fn flush(&self, within: Duration) {
        let Some(queue) = self.queue.get() else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        if queue.send(Job::Flush(tx)).await.is_ok() {
            let _ = tokio::time::timeout(within, rx).await;
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<Job>,
    url: http::Uri,
    service: Arc<str>,
    dropped: Arc<AtomicU64>,
) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut batch: Vec<Record> = Vec::new();
    let mut failing = false;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut ack = None;
        tokio::select! {
            job = rx.recv() => match job {
                Some(Job::Span(record)) => {
                    batch.push(*record);
                    if batch.len() < BATCH {
                        continue;
                    }
                }
                Some(Job::Flush(done)) => ack = Some(done),
                None => {
                    if !batch.is_empty() {
                        let _ = send(&client, &url, &service, std::mem::take(&mut batch)).await;
                    }
                    return;
                }
            },
            _ = tick.tick() => {
                if batch.is_empty() {
                    continue;
                }
            }
        }
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(
                service = %service,
                "{lost} spans were dropped: the OTLP queue was full ({QUEUE} spans)"
            );
        }
        if !batch.is_empty() {
            let spans = batch.len();
            match send(&client, &url, &service, std::mem::take(&mut batch)).await {
                Ok(()) => {
                    if failing {
                        tracing::info!(%url, "OTLP export works again");
                    }
                    failing = false;
                }
                Err(why) => {
                    // Once per run of failures: a receiver that is down says so, not a flood.
                    if !failing {
                        tracing::warn!(%url, "OTLP export of {spans} spans failed: {why}");
                    }
                    failing = true;
                }
            }
        }
        if let Some(done) = ack {
            let _ = done.send(());
        }
    }
}

async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &http::Uri,
    service: &str,
    batch: Vec<Record>,
) -> std::result::Result<(), String> {
    let body = encode(service, batch);
    let request = http::Request::post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(EXPORT_TIMEOUT, client.request(request))
        .await
        .map_err(|_| format!("no answer within {EXPORT_TIMEOUT:?}"))?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    if status.is_success() {
        // Read the (partial success) answer so the connection can be reused.
        let _ = response.into_body().collect().await;
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}

/// The request body for `batch`: one resource (the service), one scope (micro).
pub(super) fn encode(service: &str, batch: Vec<Record>) -> Vec<u8> {
    let spans = batch.into_iter().map(span).collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.name", Value::Str(Cow::Owned(service.to_owned()))),
                    key_value("telemetry.sdk.name", Value::Str(Cow::Borrowed("micro"))),
                    key_value("telemetry.sdk.language", Value::Str(Cow::Borrowed("rust"))),
                    key_value(
                        "telemetry.sdk.version",
                        Value::Str(Cow::Borrowed(env!("CARGO_PKG_VERSION"))),
                    ),
                ],
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "micro".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                }),
                spans,
            }],
        }],
    };
    request.encode_to_vec()
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn span(r: Record) -> Span {
    let (code, message) = match r.status {
        Status::Unset => (0, String::new()),
        Status::Ok => (1, String::new()),
        Status::Error(m) => (2, m),
    };
    Span {
        trace_id: r.context.trace_bytes().to_vec(),
        span_id: r.context.span_bytes().to_vec(),
        parent_span_id: r.parent.map_or_else(Vec::new, |p| p.to_be_bytes().to_vec()),
        name: r.name.into_owned(),
        kind: r.kind.otlp(),
        start_time_unix_nano: nanos(r.start),
        end_time_unix_nano: nanos(r.end),
        attributes: r
            .attributes
            .into_iter()
            .map(|(k, v)| key_value(k, v))
            .collect(),
        status: Some(SpanStatus { message, code }),
        flags: u32::from(r.context.flags),
    }
}

fn key_value(key: &str, value: Value) -> KeyValue {
    let value = match value {
        Value::Str(s) => any_value::Value::StringValue(s.into_owned()),
        Value::Int(i) => any_value::Value::IntValue(i),
    };
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Resource {
    #[prost(message, repeated, tag = "1")]
    attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    spans: Vec<Span>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InstrumentationScope {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    version: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Span {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    span_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    parent_span_id: Vec<u8>,
    #[prost(string, tag = "5")]
    name: String,
    #[prost(int32, tag = "6")]
    kind: i32,
    #[prost(fixed64, tag = "7")]
    start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    attributes: Vec<KeyValue>,
    #[prost(message, optional, tag = "15")]
    status: Option<SpanStatus>,
    #[prost(fixed32, tag = "16")]
    flags: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SpanStatus {
    #[prost(string, tag = "2")]
    message: String,
    #[prost(int32, tag = "3")]
    code: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(message, optional, tag = "2")]
    value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 3")]
    value: Option<any_value::Value>,
}

mod any_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(super) enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(int64, tag = "3")]
        IntValue(i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_otlp_http_urls_and_bad_ones_say_why() {
        assert_eq!(
            endpoint("127.0.0.1:4318").unwrap().to_string(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            endpoint("http://collector:4318/").unwrap().to_string(),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            endpoint("http://collector:4318/otlp/v1/traces")
                .unwrap()
                .to_string(),
            "http://collector:4318/otlp/v1/traces"
        );
        for (bad, why) in [
            ("https://collector:4318", "plain HTTP"),
            ("collector", "no port"),
            ("grpc://collector:4317", "only http://"),
            ("http://", "not a URL"),
        ] {
            let err = endpoint(bad).unwrap_err();
            assert!(
                err.detail().contains(why) && err.detail().contains("MICRO_TRACER_ADDRESS"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn spans_encode_with_the_schemas_field_numbers() {
        let tracer = super::super::Tracer::new("svc");
        let parent = super::super::SpanContext::root();
        let mut s = tracer.start(super::super::SpanKind::Client, "svc/A.B", Some(parent));
        s.set_attribute("rpc.service", "svc");
        let mut record = s.record.take().unwrap();
        record.status = Status::Error("404 Not Found: no such book".into());
        let body = encode("svc", vec![record.clone()]);
        let back = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        let span = &back.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id, parent.trace_bytes().to_vec());
        assert_eq!(span.parent_span_id, parent.span_bytes().to_vec());
        assert_eq!(span.kind, 3);
        assert_eq!(span.name, "svc/A.B");
        let status = span.status.as_ref().unwrap();
        assert_eq!(
            (status.code, status.message.as_str()),
            (2, "404 Not Found: no such book")
        );
        let resource = back.resource_spans[0].resource.as_ref().unwrap();
        assert_eq!(resource.attributes[0].key, "service.name");
        // Field 1 of the request, field 1 of ResourceSpans (the resource): wire bytes 0x0a.
        assert_eq!(body[0], 0x0a);
    }
}
