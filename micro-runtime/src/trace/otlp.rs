//! The OTLP/HTTP exporter: finished spans in batches, as `ExportTraceServiceRequest`
//! protobuf bodies POSTed to the receiver's `/v1/traces`.
//!
//! The body is written straight from the finished spans in the wire format of
//! `opentelemetry/proto/collector/trace/v1/trace_service.proto` (OTLP 1.x; the field numbers
//! are the schema's, and the tests decode it with the schema's messages), without building
//! the messages first: exporting costs a few hundred instructions per span. Spans wait in a
//! bounded queue (a full queue drops spans rather than slowing calls, with a warning) and a
//! Tokio task sends them every second, or as soon as 512 are waiting.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::encoding::{encode_varint, encoded_len_varint};
use tokio::sync::Notify;

use super::{ID, Name, Named, Record, Status, Value};
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

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Sends one service's spans; its task starts with the first span and ends once the tracer
/// is gone.
pub(super) struct Exporter {
    shared: Arc<Shared>,
    started: std::sync::Once,
}

struct Shared {
    url: http::Uri,
    service: Arc<str>,
    // Spans hand their records over boxed: queued as they come, never copied.
    #[allow(clippy::vec_box)]
    pending: Mutex<Vec<Box<Record>>>,
    /// Wakes the task when a batch is full.
    full: Arc<Notify>,
    dropped: AtomicU64,
    failing: AtomicBool,
    client: HttpClient,
    /// Held while spans are taken and sent, so a flush waits for a send under way.
    sending: tokio::sync::Mutex<()>,
}

impl Exporter {
    pub(super) fn new(url: http::Uri, service: Arc<str>) -> Exporter {
        Exporter {
            shared: Arc::new(Shared {
                url,
                service,
                pending: Mutex::new(Vec::new()),
                full: Arc::new(Notify::new()),
                dropped: AtomicU64::new(0),
                failing: AtomicBool::new(false),
                client: Client::builder(TokioExecutor::new()).build_http(),
                sending: tokio::sync::Mutex::new(()),
            }),
            started: std::sync::Once::new(),
        }
    }

    pub(super) fn export(&self, record: Box<Record>) {
        // The task starts with the first span, inside the runtime (a span that ends
        // outside one has nowhere to go); later spans only queue.
        if !self.started.is_completed() {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            self.started.call_once(|| {
                runtime.spawn(run(Arc::downgrade(&self.shared), self.shared.full.clone()));
            });
        }
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if pending.len() >= QUEUE {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.push(record);
        if pending.len() == BATCH {
            self.shared.full.notify_one();
        }
    }

    pub(super) async fn flush(&self, within: Duration) {
        let _ = tokio::time::timeout(within, self.shared.send_pending()).await;
    }
}

impl Drop for Exporter {
    /// The last tracer is gone: what is still queued goes out on a task of its own, if
    /// the runtime still runs (a service's `stop` flushes and waits instead).
    fn drop(&mut self) {
        let waiting = !self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty();
        if waiting && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shared = self.shared.clone();
            runtime.spawn(async move { shared.send_pending().await });
        }
    }
}

impl Shared {
    /// Send what is waiting, in batches.
    async fn send_pending(&self) {
        let _sending = self.sending.lock().await;
        loop {
            let batch: Vec<Box<Record>> = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let n = pending.len().min(BATCH);
                pending.drain(..n).collect()
            };
            if batch.is_empty() {
                return;
            }
            let lost = self.dropped.swap(0, Ordering::Relaxed);
            if lost > 0 {
                tracing::warn!(
                    service = %self.service,
                    "{lost} spans were dropped: the OTLP queue was full ({QUEUE} spans)"
                );
            }
            let spans = batch.len();
            match send(&self.client, &self.url, &self.service, &batch).await {
                Ok(()) => {
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!(url = %self.url, "OTLP export works again");
                    }
                }
                Err(why) => {
                    // Once per run of failures: a receiver that is down says so, not a flood.
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(url = %self.url, "OTLP export of {spans} spans failed: {why}");
                    }
                }
            }
        }
    }
}

async fn run(shared: Weak<Shared>, full: Arc<Notify>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = full.notified() => {}
            _ = tick.tick() => {}
        }
        // Only while sending: once the tracer is gone, so is this task.
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.send_pending().await;
    }
}

async fn send(
    client: &HttpClient,
    url: &http::Uri,
    service: &str,
    batch: &[Box<Record>],
) -> std::result::Result<(), String> {
    let body = encode(service, batch);
    let request = http::Request::post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status();
        // Read the (partial success) answer so the connection can be reused.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    };
    tokio::time::timeout(EXPORT_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {EXPORT_TIMEOUT:?}"))?
}

// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// The bytes of a field's key.
fn key_len(tag: u32) -> usize {
    encoded_len_varint(u64::from(tag << 3))
}

/// A varint; most here are one byte.
fn varint(buf: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        buf.push(v as u8);
    } else {
        encode_varint(v, buf);
    }
}

fn put_key(buf: &mut Vec<u8>, tag: u32, wire: u32) {
    varint(buf, u64::from(tag << 3 | wire));
}

/// The bytes of a length-delimited field holding `len` bytes.
fn len_field(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn put_len(buf: &mut Vec<u8>, tag: u32, len: usize) {
    put_key(buf, tag, LEN);
    varint(buf, len as u64);
}

fn put_str(buf: &mut Vec<u8>, tag: u32, s: &str) {
    put_len(buf, tag, s.len());
    buf.extend_from_slice(s.as_bytes());
}

/// An attribute as it is written.
#[derive(Clone, Copy)]
enum Attr<'a> {
    Str(&'a str),
    Int(i64),
}

/// `AnyValue`: `string_value` (1) or `int_value` (3).
fn any_len(v: Attr<'_>) -> usize {
    match v {
        Attr::Str(s) => len_field(1, s.len()),
        Attr::Int(i) => key_len(3) + encoded_len_varint(i as u64),
    }
}

/// `KeyValue`: `key` (1), `value` (2).
fn kv_len(k: &str, v: Attr<'_>) -> usize {
    len_field(1, k.len()) + len_field(2, any_len(v))
}

fn put_kv(buf: &mut Vec<u8>, tag: u32, k: &str, v: Attr<'_>) {
    put_len(buf, tag, kv_len(k, v));
    put_str(buf, 1, k);
    put_len(buf, 2, any_len(v));
    match v {
        Attr::Str(s) => put_str(buf, 1, s),
        Attr::Int(i) => {
            put_key(buf, 3, VARINT);
            varint(buf, i as u64);
        }
    }
}

/// Every attribute of a span: those its name implies, then its own.
fn attributes(r: &Record, mut f: impl FnMut(&str, Attr<'_>)) {
    match &r.name {
        Name::Rpc(service, method) => {
            f("rpc.system", Attr::Str("micro"));
            f("rpc.service", Attr::Str(service.as_str()));
            f("rpc.method", Attr::Str(method.as_str()));
        }
        Name::Topic(topic) => f("messaging.destination.name", Attr::Str(topic.as_str())),
        Name::Text(_) => {}
    }
    for (k, v) in r.attributes.iter().flatten() {
        match v {
            Value::Str(s) => f(k, Attr::Str(s.as_str())),
            Value::Int(i) => f(k, Attr::Int(*i)),
        }
    }
    if let Some(code) = r.code {
        f("micro.status", Attr::Int(i64::from(code)));
    }
}

fn status_parts(r: &Record) -> (i32, &str) {
    match &r.status {
        Status::Unset => (0, ""),
        Status::Error(m) => (2, m.as_str()),
    }
}

/// `Status`: `message` (2), `code` (3).
fn status_len(code: i32, message: &str) -> usize {
    let mut n = 0;
    if !message.is_empty() {
        n += len_field(2, message.len());
    }
    if code != 0 {
        n += key_len(3) + encoded_len_varint(code as u64);
    }
    n
}

/// `Span`: ids (1, 2, 4), name (5), kind (6), times (7, 8), attributes (9), status (15),
/// flags (16).
fn span_len(r: &Record) -> usize {
    let name_len: usize = Named(r.kind, &r.name).parts().iter().map(|p| p.len()).sum();
    let mut n = len_field(1, 16) + len_field(2, 8) + len_field(5, name_len);
    if r.parent.is_some() {
        n += len_field(4, 8);
    }
    n += key_len(6) + encoded_len_varint(r.kind.otlp() as u64);
    n += 2 * (key_len(7) + 8);
    attributes(r, |k, v| n += len_field(9, kv_len(k, v)));
    let (code, message) = status_parts(r);
    n += len_field(15, status_len(code, message));
    n + key_len(16) + 4
}

fn put_span(buf: &mut Vec<u8>, r: &Record) {
    put_len(buf, 1, 16);
    buf.extend_from_slice(&r.context.trace_bytes());
    put_len(buf, 2, 8);
    buf.extend_from_slice(&r.context.span_bytes());
    if let Some(parent) = r.parent {
        put_len(buf, 4, 8);
        buf.extend_from_slice(&parent.to_be_bytes());
    }
    let named = Named(r.kind, &r.name);
    let parts = named.parts();
    put_len(buf, 5, parts.iter().map(|p| p.len()).sum());
    for p in parts {
        buf.extend_from_slice(p.as_bytes());
    }
    put_key(buf, 6, VARINT);
    varint(buf, r.kind.otlp() as u64);
    put_key(buf, 7, FIXED64);
    buf.extend_from_slice(&nanos(r.start).to_le_bytes());
    put_key(buf, 8, FIXED64);
    buf.extend_from_slice(&nanos(r.end).to_le_bytes());
    attributes(r, |k, v| put_kv(buf, 9, k, v));
    let (code, message) = status_parts(r);
    put_len(buf, 15, status_len(code, message));
    if !message.is_empty() {
        put_str(buf, 2, message);
    }
    if code != 0 {
        put_key(buf, 3, VARINT);
        varint(buf, code as u64);
    }
    put_key(buf, 16, FIXED32);
    buf.extend_from_slice(&u32::from(r.context.flags).to_le_bytes());
}

const SCOPE: &str = "micro";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `ExportTraceServiceRequest` for `batch`: one `ResourceSpans` (the service, field 1)
/// holding one `ScopeSpans` (micro, field 2) with every span.
pub(super) fn encode(service: &str, batch: &[Box<Record>]) -> Vec<u8> {
    let resource: [(&str, &str); 4] = [
        ("service.name", service),
        ("telemetry.sdk.name", SCOPE),
        ("telemetry.sdk.language", "rust"),
        ("telemetry.sdk.version", VERSION),
    ];
    let resource_len: usize = resource
        .iter()
        .map(|(k, v)| len_field(1, kv_len(k, Attr::Str(v))))
        .sum();
    let spans: Vec<usize> = batch.iter().map(|r| span_len(r)).collect();
    let scope_len = len_field(1, SCOPE.len()) + len_field(2, VERSION.len());
    let scope_spans_len =
        len_field(1, scope_len) + spans.iter().map(|n| len_field(2, *n)).sum::<usize>();
    let resource_spans_len = len_field(1, resource_len) + len_field(2, scope_spans_len);
    let total = len_field(1, resource_spans_len);
    let mut buf = Vec::with_capacity(total);
    put_len(&mut buf, 1, resource_spans_len);
    put_len(&mut buf, 1, resource_len);
    for (k, v) in resource {
        put_kv(&mut buf, 1, k, Attr::Str(v));
    }
    put_len(&mut buf, 2, scope_spans_len);
    put_len(&mut buf, 1, scope_len);
    put_str(&mut buf, 1, SCOPE);
    put_str(&mut buf, 2, VERSION);
    for (r, n) in batch.iter().zip(spans) {
        put_len(&mut buf, 2, n);
        put_span(&mut buf, r);
    }
    debug_assert_eq!(buf.len(), total);
    buf
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::super::{SpanContext, SpanKind, Text, Tracer, TracerKind};
    use super::*;
    use prost::Message as _;

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
    fn the_body_decodes_with_the_schemas_messages() {
        // An exporting tracer (its task never starts: no runtime here).
        let tracer = Tracer::from_settings(TracerKind::Otlp, Some("127.0.0.1:9"), "svc")
            .unwrap()
            .unwrap();
        let parent = SpanContext::root();
        let mut rpc = tracer.start_rpc(
            SpanKind::Client,
            Text::Static("svc"),
            Text::Owned("A.B".into()),
            Some(parent),
        );
        let mut rpc = rpc.record.take().unwrap();
        rpc.code = Some(404);
        rpc.status = Status::Error("404 Not Found: no such book".into());
        rpc.end = SystemTime::now();
        let mut publish =
            tracer.start_messaging(SpanKind::Producer, Text::Static("orders"), "nats", None);
        let publish = publish.record.take().unwrap();
        let body = encode("svc", &[rpc.clone(), publish]);

        let back = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        assert_eq!(back.resource_spans.len(), 1);
        let resource_spans = &back.resource_spans[0];
        let resource = resource_spans.resource.as_ref().unwrap();
        assert_eq!(resource.attributes[0].key, "service.name");
        assert_eq!(string(&resource.attributes[0]), Some("svc"));
        let scope = &resource_spans.scope_spans[0];
        assert_eq!(scope.scope.as_ref().unwrap().name, "micro");
        let [span, produced] = &scope.spans[..] else {
            panic!("two spans: {:?}", scope.spans);
        };
        assert_eq!(span.trace_id, parent.trace_bytes().to_vec());
        assert_eq!(span.span_id, rpc.context.span_bytes().to_vec());
        assert_eq!(span.parent_span_id, parent.span_bytes().to_vec());
        assert_eq!((span.kind, span.name.as_str()), (3, "svc/A.B"));
        assert!(
            span.end_time_unix_nano >= span.start_time_unix_nano && span.start_time_unix_nano > 0
        );
        assert_eq!(span.flags, 1);
        let attrs: Vec<(&str, String)> = span
            .attributes
            .iter()
            .map(|kv| {
                let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    Some(any_value::Value::IntValue(i)) => i.to_string(),
                    None => String::new(),
                };
                (kv.key.as_str(), v)
            })
            .collect();
        assert_eq!(
            attrs,
            [
                ("rpc.system", "micro".to_owned()),
                ("rpc.service", "svc".to_owned()),
                ("rpc.method", "A.B".to_owned()),
                ("micro.status", "404".to_owned()),
            ]
        );
        let status = span.status.as_ref().unwrap();
        assert_eq!(
            (status.code, status.message.as_str()),
            (2, "404 Not Found: no such book")
        );
        assert_eq!(
            (produced.kind, produced.name.as_str()),
            (4, "publish orders")
        );
        assert!(
            produced.parent_span_id.is_empty(),
            "a root span has no parent"
        );
        assert_eq!(produced.status.as_ref().map(|s| s.code), Some(0));
    }

    fn string(kv: &KeyValue) -> Option<&str> {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s),
            any_value::Value::IntValue(_) => None,
        }
    }

    // The schema's messages (trace.proto, common.proto, resource.proto), to read the body
    // back: only the fields micro writes.

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
}
