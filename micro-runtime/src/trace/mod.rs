//! Distributed tracing: W3C trace context on every call and message, a span per call on both
//! sides and per delivery, in `tracing` and exported over OTLP.
//!
//! Off by default. With `MICRO_TRACER=log` (`--tracer log`) a service opens a span for every
//! call it serves, every call it makes, every message it publishes and every delivery it
//! handles; each is a [`tracing`] span whose fields carry `trace_id` and `span_id`, so the log
//! lines of a call name its trace. `MICRO_TRACER=otlp` also sends the finished spans to an
//! OpenTelemetry receiver (a Collector, Jaeger, Tempo …) over OTLP/HTTP with protobuf bodies,
//! at `MICRO_TRACER_ADDRESS` (`host:port` or an `http://` URL; default `127.0.0.1:4318`,
//! path `/v1/traces`).
//!
//! | Span | Kind | Name | Attributes |
//! |---|---|---|---|
//! | a call a handler serves | server | `service/Endpoint.Method` | `rpc.system`, `rpc.service`, `rpc.method`, `micro.node` (the node's id), `micro.status` |
//! | a call a client makes (all its attempts) | client | `service/Endpoint.Method` | `rpc.system`, `rpc.service`, `rpc.method`, `server.address` (the node that answered), `micro.status` |
//! | a typed publish | producer | `publish topic` | `messaging.system`, `messaging.destination.name` |
//! | a delivery to a subscriber | consumer | `process topic` | `messaging.system`, `messaging.destination.name`, `messaging.message.id`, `micro.attempt` |
//! | a request through `micro api` | server | `GET`, `POST` … | `http.request.method`, `url.path`, `http.response.status_code` |
//!
//! # Propagation
//!
//! The trace travels in the `traceparent` and `tracestate` metadata of calls (HTTP/2 headers
//! on gRPC, header pairs on the native transport) and in the headers of broker messages, as
//! the [W3C Trace Context](https://www.w3.org/TR/trace-context/) says, so stock gRPC and
//! OpenTelemetry peers join the same trace. Each span a service opens takes the incoming
//! `traceparent` as its parent and passes on its own id; `tracestate` goes on unchanged. A
//! malformed `traceparent` starts a new trace (and its `tracestate` is dropped). With tracing
//! off both pass through a service unchanged, as any other metadata does.
//!
//! Inside a handler, [`crate::Context::trace`] is the handler's span:
//!
//! ```
//! use micro::trace::SpanContext;
//!
//! let parent = SpanContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//!     .expect("a valid traceparent");
//! assert_eq!(parent.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert!(parent.is_sampled());
//! let child = parent.child();
//! assert_eq!(child.trace_id(), parent.trace_id());
//! assert_ne!(child.span_id(), parent.span_id());
//! assert!(SpanContext::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
//! ```
//!
//! A trace whose `traceparent` says "not sampled" (flags `00`) is propagated and logged but
//! not exported. Of the traces a service starts, the share `MICRO_TRACER_SAMPLE` says (1 by
//! default, [`Tracer::set_sampling`]) is sampled.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{Error, Result};

#[cfg(feature = "otlp")]
mod otlp;

const ID: &str = "micro.trace";

/// The metadata key of the W3C trace parent.
pub const TRACEPARENT: &str = "traceparent";
/// The metadata key of the W3C trace state (vendor data, passed on unchanged).
pub const TRACESTATE: &str = "tracestate";

/// Where a span stands in its trace: the W3C `traceparent` fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanContext {
    trace_id: u128,
    span_id: u64,
    flags: u8,
}

impl SpanContext {
    /// Read a `traceparent` value; `None` when it is malformed (wrong length or version,
    /// upper-case or non-hex digits, an all-zero id).
    pub fn parse(traceparent: &str) -> Option<SpanContext> {
        let value = traceparent.trim_matches([' ', '\t']).as_bytes();
        // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55 bytes.
        if value.len() < 55 || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let version = hex_field(&value[..2])? as u8;
        // Version ff is invalid; version 00 is exactly 55 bytes; a later version may append
        // fields after a dash, which this reader ignores.
        if version == 0xff
            || (version == 0 && value.len() != 55)
            || (value.len() > 55 && value[55] != b'-')
        {
            return None;
        }
        let trace_id = hex_field(&value[3..35])?;
        let span_id = hex_field(&value[36..52])? as u64;
        // Only `sampled` is defined (version 00): other bits are not passed on.
        let flags = hex_field(&value[53..55])? as u8 & SAMPLED;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        Some(SpanContext {
            trace_id,
            span_id,
            flags,
        })
    }

    /// A new trace: fresh ids, sampled.
    pub fn root() -> SpanContext {
        SpanContext {
            trace_id: nonzero(|| fastrand::u128(..)),
            span_id: nonzero(|| fastrand::u64(..)),
            flags: SAMPLED,
        }
    }

    /// A span of the same trace under this one: a fresh span id, the same flags.
    #[must_use]
    pub fn child(&self) -> SpanContext {
        SpanContext {
            span_id: nonzero(|| fastrand::u64(..)),
            ..*self
        }
    }

    /// The `traceparent` value naming this span as the parent.
    pub fn traceparent(&self) -> String {
        let mut out = Vec::with_capacity(55);
        out.extend_from_slice(b"00-");
        hex_into(&mut out, self.trace_id, 32);
        out.push(b'-');
        hex_into(&mut out, u128::from(self.span_id), 16);
        out.push(b'-');
        hex_into(&mut out, u128::from(self.flags), 2);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        let mut out = String::with_capacity(32);
        push_hex(&mut out, self.trace_id, 32);
        out
    }

    /// The span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        let mut out = String::with_capacity(16);
        push_hex(&mut out, u128::from(self.span_id), 16);
        out
    }

    /// True when the trace is recorded (the `sampled` flag).
    pub fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn trace_bytes(&self) -> [u8; 16] {
        self.trace_id.to_be_bytes()
    }

    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn span_bytes(&self) -> [u8; 8] {
        self.span_id.to_be_bytes()
    }
}

impl fmt::Debug for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

impl fmt::Display for SpanContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

const SAMPLED: u8 = 1;

/// Append the low `digits` hex digits of `v`, lower case, zero-padded.
fn hex_into(out: &mut Vec<u8>, v: u128, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend(
        (0..digits)
            .rev()
            .map(|i| HEX[((v >> (i * 4)) & 0xf) as usize]),
    );
}

fn push_hex(out: &mut String, v: u128, digits: u32) {
    let mut bytes = Vec::with_capacity(digits as usize);
    hex_into(&mut bytes, v, digits);
    out.push_str(std::str::from_utf8(&bytes).unwrap_or_default());
}

/// Hex digits shown lazily (a `tracing` field costs nothing while nobody listens).
struct Hex(u128, u32);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.1 as usize);
        push_hex(&mut out, self.0, self.1);
        f.write_str(&out)
    }
}

fn nonzero<T: PartialEq + Default>(mut draw: impl FnMut() -> T) -> T {
    loop {
        let v = draw();
        if v != T::default() {
            return v;
        }
    }
}

/// Lower-case hex digits as a number (at most 32 of them).
fn hex_field(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u128::from(v))
    })
}

/// What `MICRO_TRACER` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracerKind {
    /// No spans; `traceparent` passes through as any metadata (the default).
    #[default]
    Off,
    /// Spans in `tracing` (their ids in the log lines), nothing exported.
    Log,
    /// Spans in `tracing`, and exported over OTLP/HTTP to `MICRO_TRACER_ADDRESS`.
    Otlp,
}

impl FromStr for TracerKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<TracerKind> {
        match s.trim() {
            "" | "off" | "noop" => Ok(TracerKind::Off),
            "log" => Ok(TracerKind::Log),
            "otlp" | "opentelemetry" => Ok(TracerKind::Otlp),
            other => Err(Error::bad_request(
                ID,
                format!("unknown tracer {other:?}: the tracers are off, log and otlp"),
            )),
        }
    }
}

/// The kind of a span, as OpenTelemetry names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpanKind {
    /// Serving a call (or an HTTP request).
    Server,
    /// Making a call.
    Client,
    /// Publishing a message.
    Producer,
    /// Handling a delivered message.
    Consumer,
}

impl SpanKind {
    /// The OTLP enum value.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    fn otlp(self) -> i32 {
        match self {
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        }
    }
}

/// Opens spans for one service (its name goes on every span it exports). Cheap to clone.
///
/// A service builds its own from its settings; a program that calls services without being
/// one (a gateway, a tool) makes one with [`Tracer::new`] or [`Tracer::from_settings`] and
/// wraps its client with [`crate::Client::traced`].
#[derive(Clone)]
pub struct Tracer {
    inner: Arc<Inner>,
}

struct Inner {
    service: Arc<str>,
    /// `sampling()`, as the bits of an f64.
    sample: std::sync::atomic::AtomicU64,
    /// The id of the node serving, once the service started.
    node: std::sync::OnceLock<Arc<str>>,
    #[cfg(feature = "otlp")]
    exporter: Option<otlp::Exporter>,
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("service", &self.inner.service)
            .field("exports", &self.exports())
            .finish()
    }
}

impl Tracer {
    /// A tracer for `service` whose spans go to `tracing` only.
    pub fn new(service: impl Into<String>) -> Tracer {
        Tracer {
            inner: Arc::new(Inner {
                service: service.into().into(),
                sample: std::sync::atomic::AtomicU64::new(1f64.to_bits()),
                node: std::sync::OnceLock::new(),
                #[cfg(feature = "otlp")]
                exporter: None,
            }),
        }
    }

    /// The tracer `MICRO_TRACER` and `MICRO_TRACER_ADDRESS` ask for (`None` when tracing
    /// is off). An address that is no `host:port` or `http://` URL is an error naming it.
    pub fn from_settings(
        kind: TracerKind,
        address: Option<&str>,
        service: impl Into<String>,
    ) -> Result<Option<Tracer>> {
        let service: Arc<str> = service.into().into();
        match kind {
            TracerKind::Off => Ok(None),
            TracerKind::Log => Ok(Some(Tracer::new(&*service))),
            #[cfg(feature = "otlp")]
            TracerKind::Otlp => {
                let url = otlp::endpoint(address.unwrap_or(otlp::DEFAULT_ADDRESS))?;
                Ok(Some(Tracer {
                    inner: Arc::new(Inner {
                        sample: std::sync::atomic::AtomicU64::new(1f64.to_bits()),
                        node: std::sync::OnceLock::new(),
                        exporter: Some(otlp::Exporter::new(url, service.clone())),
                        service,
                    }),
                }))
            }
            #[cfg(not(feature = "otlp"))]
            TracerKind::Otlp => {
                let _ = address;
                Err(Error::bad_request(
                    ID,
                    "MICRO_TRACER=otlp: this build has no OTLP exporter (enable micro's `otlp` feature)",
                ))
            }
        }
    }

    /// The service named on the spans.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The id of the node whose calls this tracer's server spans record (`micro.node`).
    pub fn node(&self) -> Option<&str> {
        self.inner.node.get().map(|n| &**n)
    }

    pub(crate) fn node_shared(&self) -> Option<Arc<str>> {
        self.inner.node.get().cloned()
    }

    pub(crate) fn service_shared(&self) -> Arc<str> {
        self.inner.service.clone()
    }

    pub(crate) fn set_node(&self, id: &str) {
        let _ = self.inner.node.set(id.into());
    }

    /// True when finished spans are exported (`MICRO_TRACER=otlp`).
    pub fn exports(&self) -> bool {
        #[cfg(feature = "otlp")]
        {
            self.inner.exporter.is_some()
        }
        #[cfg(not(feature = "otlp"))]
        {
            false
        }
    }

    /// Open a span under `parent` (a new trace without one). End it with [`Span::end`].
    pub fn start(
        &self,
        kind: SpanKind,
        name: impl Into<Cow<'static, str>>,
        parent: Option<SpanContext>,
    ) -> Span {
        self.open(kind, Name::Text(Text::from(name.into())), parent)
    }

    /// Open the span of a call: named `service/Endpoint.Method`, with the `rpc.*`
    /// attributes (both made when the span is exported or logged, not per call).
    pub(crate) fn start_rpc(
        &self,
        kind: SpanKind,
        service: Text,
        method: Text,
        parent: Option<SpanContext>,
    ) -> Span {
        self.open(kind, Name::Rpc(service, method), parent)
    }

    /// Open the span of a publish (producer) or a delivery (consumer) on `topic`.
    pub(crate) fn start_messaging(
        &self,
        kind: SpanKind,
        topic: Text,
        system: &'static str,
        parent: Option<SpanContext>,
    ) -> Span {
        let mut span = self.open(kind, Name::Topic(topic), parent);
        span.push("messaging.system", Value::Str(Text::Static(system)));
        span
    }

    fn open(&self, kind: SpanKind, name: Name, parent: Option<SpanContext>) -> Span {
        let context = match parent {
            Some(p) => p.child(),
            None => {
                let mut root = SpanContext::root();
                let ratio = self.sampling();
                if ratio < 1.0 && fastrand::f64() >= ratio {
                    root.flags &= !SAMPLED;
                }
                root
            }
        };
        let trace_id = Hex(context.trace_id, 32);
        let span_id = Hex(u128::from(context.span_id), 16);
        let service = &*self.inner.service;
        let named = Named(kind, &name);
        // tracing wants a name known at compile time: one per kind, the span's own name a
        // field. Fields are shown lazily: nothing is formatted while nobody listens.
        let tracing = match kind {
            SpanKind::Server => {
                tracing::info_span!("serve", service = %service, span = %named, trace_id = %trace_id, span_id = %span_id)
            }
            SpanKind::Client => {
                tracing::info_span!("call", service = %service, span = %named, trace_id = %trace_id, span_id = %span_id)
            }
            SpanKind::Producer => {
                tracing::info_span!("publish", service = %service, span = %named, trace_id = %trace_id, span_id = %span_id)
            }
            SpanKind::Consumer => {
                tracing::info_span!("deliver", service = %service, span = %named, trace_id = %trace_id, span_id = %span_id)
            }
        };
        // Only a span that will be exported keeps what it records.
        let record = (self.exports() && context.is_sampled()).then(|| {
            Box::new(Record {
                context,
                parent: parent.map(|p| p.span_id),
                name,
                kind,
                start: SystemTime::now(),
                end: SystemTime::UNIX_EPOCH,
                code: None,
                attributes: Default::default(),
                status: Status::Unset,
            })
        });
        Span {
            tracer: self.clone(),
            context,
            kind,
            record,
            tracing,
            ended: false,
        }
    }

    /// The share of new traces that are sampled (exported): `MICRO_TRACER_SAMPLE`, 1 by
    /// default. A trace that arrives keeps its caller's decision.
    pub fn sampling(&self) -> f64 {
        f64::from_bits(self.inner.sample.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sample `ratio` of new traces (clamped to 0–1); the others are propagated and logged
    /// but not exported.
    pub fn set_sampling(&self, ratio: f64) {
        let ratio = if ratio.is_nan() {
            1.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        self.inner
            .sample
            .store(ratio.to_bits(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Send the spans finished so far to the receiver now, waiting up to `within` (a service
    /// does this as it stops). Nothing to do without an exporter.
    pub async fn flush(&self, within: std::time::Duration) {
        #[cfg(feature = "otlp")]
        if let Some(exporter) = &self.inner.exporter {
            exporter.flush(within).await;
        }
        #[cfg(not(feature = "otlp"))]
        let _ = within;
    }

    fn finish(&self, record: Box<Record>) {
        #[cfg(feature = "otlp")]
        if let Some(exporter) = &self.inner.exporter {
            exporter.export(record);
        }
        #[cfg(not(feature = "otlp"))]
        let _ = record;
    }
}

/// How a span ended.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Unset,
    Error(String),
}

/// A span's data once it ends (read by the exporter).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
struct Record {
    context: SpanContext,
    parent: Option<u64>,
    name: Name,
    kind: SpanKind,
    start: SystemTime,
    end: SystemTime,
    /// `micro.status`.
    code: Option<i32>,
    /// In place: a span allocates nothing for them.
    attributes: [Option<(&'static str, Value)>; ATTRIBUTES],
    status: Status,
}

/// Attributes a span holds beyond those its name implies; more are dropped.
const ATTRIBUTES: usize = 6;

/// Text a span holds: borrowed for good, owned, or shared with the service.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Text {
    Static(&'static str),
    Owned(String),
    Shared(Arc<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Owned(s) => s,
            Text::Shared(s) => s,
        }
    }
}

impl From<Cow<'static, str>> for Text {
    fn from(s: Cow<'static, str>) -> Text {
        match s {
            Cow::Borrowed(s) => Text::Static(s),
            Cow::Owned(s) => Text::Owned(s),
        }
    }
}

/// A span's name, composed only when it is shown or exported.
#[derive(Clone, Debug)]
enum Name {
    /// As given.
    Text(Text),
    /// `service/Endpoint.Method`.
    Rpc(Text, Text),
    /// `publish topic` or `process topic`, by the span's kind.
    Topic(Text),
}

/// A name with the kind that completes it.
struct Named<'a>(SpanKind, &'a Name);

impl Named<'_> {
    /// The name's parts, to be written one after the other.
    fn parts(&self) -> [&str; 3] {
        match self.1 {
            Name::Text(t) => [t.as_str(), "", ""],
            Name::Rpc(service, method) => [service.as_str(), "/", method.as_str()],
            Name::Topic(topic) => {
                let verb = if self.0 == SpanKind::Producer {
                    "publish "
                } else {
                    "process "
                };
                [verb, topic.as_str(), ""]
            }
        }
    }
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.parts().iter().try_for_each(|p| f.write_str(p))
    }
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(Text),
    Int(i64),
}

/// An open span. It ends (and is exported) at [`Span::end`], or when dropped without an
/// end (status unset: the work was cancelled).
pub struct Span {
    tracer: Tracer,
    context: SpanContext,
    kind: SpanKind,
    /// What is exported (`None`: not exported). Boxed: a span moves with the future it is
    /// part of.
    record: Option<Box<Record>>,
    tracing: tracing::Span,
    ended: bool,
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Span")
            .field("context", &self.context())
            .finish_non_exhaustive()
    }
}

impl Span {
    /// The span's place in its trace; its [`SpanContext::traceparent`] is what calls made
    /// under it send.
    pub fn context(&self) -> SpanContext {
        self.context
    }

    /// The `tracing` span it opened: run the span's work in it (`Instrument::instrument`) so
    /// log lines carry the ids.
    pub fn tracing(&self) -> &tracing::Span {
        &self.tracing
    }

    /// True when the span records what it is given (it will be exported): callers skip
    /// building attribute values otherwise.
    pub fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    /// Add a string attribute. A span holds six besides those micro sets from its name and
    /// outcome; more are dropped (with a debug log line).
    pub fn set_attribute(&mut self, key: &'static str, value: impl Into<Cow<'static, str>>) {
        self.push(key, Value::Str(Text::from(value.into())));
    }

    /// Add a string attribute shared with other spans (a service's or node's name).
    pub(crate) fn set_shared(&mut self, key: &'static str, value: Arc<str>) {
        self.push(key, Value::Str(Text::Shared(value)));
    }

    /// Add an integer attribute (within the same six as [`Span::set_attribute`]).
    pub fn set_int(&mut self, key: &'static str, value: i64) {
        self.push(key, Value::Int(value));
    }

    fn push(&mut self, key: &'static str, value: Value) {
        let Some(r) = &mut self.record else {
            return;
        };
        match r.attributes.iter_mut().find(|a| a.is_none()) {
            Some(slot) => *slot = Some((key, value)),
            None => tracing::debug!(
                key,
                "a span holds {ATTRIBUTES} attributes: this one was dropped"
            ),
        }
    }

    /// End the span with the outcome of its work: `micro.status` is the code (200 for
    /// success), and an error sets the span's status to error with the error's code and
    /// detail — on a server span only when the server failed (as OpenTelemetry's RPC
    /// conventions say: `INTERNAL`, `UNAVAILABLE`, `DEADLINE_EXCEEDED` and the like, not a
    /// caller's bad request or a missing record). Success leaves the status unset.
    pub fn end<T>(mut self, outcome: std::result::Result<T, &Error>) {
        let code = match outcome {
            Ok(_) => 200,
            Err(e) => e.code(),
        };
        if let Some(r) = &mut self.record {
            r.code = Some(code);
        }
        let server = self.kind == SpanKind::Server;
        let status = match outcome {
            Err(e) if !server || server_fault(e) => {
                Status::Error(format!("{} {}: {}", e.code(), e.status(), e.detail()))
            }
            _ => Status::Unset,
        };
        self.close(status);
    }

    /// End the span of an HTTP request with its response status (an error from 500 up).
    pub fn end_http(mut self, status: u16) {
        self.set_int("http.response.status_code", i64::from(status));
        let status = if status >= 500 {
            Status::Error(format!("HTTP {status}"))
        } else {
            Status::Unset
        };
        self.close(status);
    }

    fn close(&mut self, status: Status) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        if let Status::Error(message) = &status {
            self.tracing
                .in_scope(|| tracing::debug!(error = %message, "span ended with an error"));
        }
        if let Some(mut record) = self.record.take() {
            record.status = status;
            record.end = SystemTime::now();
            self.tracer.finish(record);
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.close(Status::Unset);
    }
}

/// Is `e` the server's failure (not the caller's)? OpenTelemetry's gRPC conventions.
fn server_fault(e: &Error) -> bool {
    use crate::error::Code;
    matches!(
        e.grpc_code(),
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_and_malformed_values_are_refused() {
        let v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = SpanContext::parse(v).unwrap();
        assert_eq!(ctx.traceparent(), v);
        assert_eq!(ctx.span_id(), "00f067aa0ba902b7");
        assert!(ctx.is_sampled());
        let unsampled =
            SpanContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        assert!(!unsampled.is_sampled());
        assert!(!unsampled.child().is_sampled(), "a child keeps the flags");
        // Flags other than `sampled` are undefined in version 00: not passed on.
        let odd =
            SpanContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").unwrap();
        assert!(odd.traceparent().ends_with("-01"), "{odd}");
        // A later version may add fields; this reader takes the ones it knows.
        assert_eq!(
            SpanContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"),
            Some(ctx)
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(SpanContext::parse(bad), None, "{bad:?} is refused");
        }
    }

    #[test]
    fn roots_are_sampled_and_children_share_the_trace() {
        let root = SpanContext::root();
        assert!(root.is_sampled());
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
        assert_eq!(SpanContext::parse(&child.traceparent()), Some(child));
    }

    #[test]
    fn tracer_kinds_parse_and_unknown_ones_say_what_exists() {
        assert_eq!("otlp".parse::<TracerKind>().unwrap(), TracerKind::Otlp);
        assert_eq!("off".parse::<TracerKind>().unwrap(), TracerKind::Off);
        let err = "jaeger".parse::<TracerKind>().unwrap_err();
        assert!(err.detail().contains("off, log and otlp"), "{err}");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn a_span_names_its_parent_and_records_its_outcome() {
        let tracer = Tracer::from_settings(TracerKind::Otlp, Some("127.0.0.1:9"), "greeter")
            .unwrap()
            .unwrap();
        let parent = SpanContext::root();
        let span = tracer.start_rpc(
            SpanKind::Server,
            Text::Static("greeter"),
            Text::Static("Greeter.Hello"),
            Some(parent),
        );
        assert_eq!(
            Named(SpanKind::Server, &span.record.as_ref().unwrap().name).to_string(),
            "greeter/Greeter.Hello"
        );
        let record = span.record.clone().unwrap();
        assert_eq!(record.parent, Some(parent.span_id));
        assert_eq!(record.context.trace_id, parent.trace_id);
        span.end(Err::<(), _>(&Error::not_found("greeter", "no such name")));
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn sampling_decides_new_traces_and_follows_a_callers_decision() {
        let tracer = Tracer::from_settings(TracerKind::Otlp, Some("127.0.0.1:9"), "svc")
            .unwrap()
            .unwrap();
        tracer.set_sampling(0.0);
        let root = tracer.start(SpanKind::Server, "x", None);
        assert!(
            !root.context().is_sampled() && root.record.is_none(),
            "not exported"
        );
        let sampled = SpanContext::root();
        let child = tracer.start(SpanKind::Server, "x", Some(sampled));
        assert!(
            child.context().is_sampled() && child.record.is_some(),
            "the caller's decision"
        );
        tracer.set_sampling(f64::NAN);
        assert_eq!(tracer.sampling(), 1.0);
    }

    #[test]
    fn a_log_only_tracer_records_nothing_and_still_propagates() {
        let parent = SpanContext::root();
        let span = Tracer::new("svc").start(SpanKind::Client, "x", Some(parent));
        assert!(span.record.is_none() && !span.is_recording());
        assert_eq!(span.context().trace_id(), parent.trace_id());
    }
}
