//! The per-call [`Context`]: deadline and metadata, carried from caller to handler and on to
//! the handler's own outgoing calls.
//!
//! A handler receives the caller's deadline (from `grpc-timeout`) and metadata (from the
//! request headers) in its `Context`. Passing that context to an outgoing call propagates
//! both: the downstream call gets what is left of the deadline, never more, and the same
//! metadata.
//!
//! ```
//! use std::time::Duration;
//! use micro::Context;
//!
//! let ctx = Context::new()
//!     .with_timeout(Duration::from_secs(2))
//!     .with_metadata("x-request-id", "42");
//! assert!(ctx.remaining().unwrap() <= Duration::from_secs(2));
//! assert_eq!(ctx.metadata().get("X-Request-Id"), Some("42"));
//! ```
//!
//! # Propagation by default
//!
//! While a handler runs, its context is also the *current* one of its task
//! ([`Context::current`]). Calls made without a context (`Client::call`, a generated client's
//! `hello(req)`) and events published without one take it, so the caller's deadline and
//! metadata follow every call a handler makes, as Go's `context.Context` passed along would.
//! A context passed explicitly (`call_with`, `hello_with`) is used as given; a task a handler
//! spawns starts without one (pass the context to it).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Call metadata: lower-case keys to string values, sent as HTTP/2 headers.
///
/// Keys are case-insensitive (stored lower-case, as HTTP/2 requires). Keys ending in `-bin`
/// hold binary metadata; their value is kept in its base64 wire form.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    // Static keys (the ones micro sets itself) cost no allocation.
    entries: BTreeMap<Cow<'static, str>, String>,
}

impl Metadata {
    /// An empty map.
    pub const fn new() -> Metadata {
        Metadata {
            entries: BTreeMap::new(),
        }
    }

    /// The value for `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.entries
                .get(key.to_ascii_lowercase().as_str())
                .map(String::as_str)
        } else {
            self.entries.get(key).map(String::as_str)
        }
    }

    /// Set `key` to `value`, replacing any previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let mut key = key.into();
        key.make_ascii_lowercase();
        self.entries.insert(Cow::Owned(key), value.into())
    }

    /// [`Metadata::insert`] for a key known at compile time, already in lower case.
    pub(crate) fn insert_static(&mut self, key: &'static str, value: String) -> Option<String> {
        debug_assert!(!key.bytes().any(|b| b.is_ascii_uppercase()));
        self.entries.insert(Cow::Borrowed(key), value)
    }

    /// Remove `key`.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.remove(key.to_ascii_lowercase().as_str())
    }

    /// Iterate over `(key, value)` pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Copy every entry of `other` into this map, replacing values of the same keys.
    pub fn extend(&mut self, other: &Metadata) {
        for (k, v) in &other.entries {
            self.entries.insert(k.clone(), v.clone());
        }
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials never reach a log line through `{:?}`.
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| {
                let secret = matches!(
                    k.as_ref(),
                    "authorization" | "proxy-authorization" | "cookie" | "x-api-key"
                );
                (k, if secret { "<redacted>" } else { v.as_str() })
            }))
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Metadata {
        let mut md = Metadata::new();
        for (k, v) in iter {
            md.insert(k, v);
        }
        md
    }
}

/// Metadata a handler sends back: response headers and trailers.
#[derive(Debug, Default)]
pub(crate) struct ResponseMetadata {
    pub(crate) headers: Metadata,
    pub(crate) trailers: Metadata,
}

/// Shared between the dispatcher and the handler of one call.
pub(crate) type SharedResponse = Arc<std::sync::Mutex<ResponseMetadata>>;

/// What the server knows about the call a handler is serving.
#[derive(Clone, Debug)]
pub(crate) struct CallInfo {
    pub(crate) service: Arc<str>,
    pub(crate) endpoint: Arc<str>,
    pub(crate) peer: Option<SocketAddr>,
}

/// The context of a call: its deadline and metadata.
///
/// A client builds one (or uses [`Context::new`]); a handler receives one with the caller's
/// deadline and metadata, and passes it on to propagate both. While a handler runs its
/// context is also [`Context::current`], which calls and events made without one use, so
/// propagation happens by default. A handler whose deadline passes is dropped at its next
/// `.await` ([`Cleanup`] says what that means and how to undo work half-done).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Context {
    deadline: Option<Instant>,
    metadata: Metadata,
    call: Option<Arc<CallInfo>>,
    response: Option<SharedResponse>,
    /// Entries of [`HOP_LOCAL`] as the call brought them: not passed on unchanged.
    received: Option<Arc<[(&'static str, String)]>>,
    /// On the server with auth on: the caller's verified account.
    account: Option<Arc<crate::auth::Account>>,
    /// With tracing on: the tracer of the service serving the call, for the spans of what
    /// the handler does (publishing).
    tracer: Option<crate::trace::Tracer>,
}

/// Metadata that stays on the hop it came with: credentials and per-connection HTTP headers.
///
/// A handler sees every entry the caller sent; when it passes its context on, these are
/// left out of the calls it makes, so a caller's `authorization` or `cookie` does not travel
/// to every service behind the first one. Everything else travels (trace ids, tenant,
/// custom `x-` keys). To pass one of these on, set it in the call's own metadata
/// ([`crate::client::CallOptions::metadata`]) or give it a new value in the context: only
/// the value exactly as received stays behind.
pub const HOP_LOCAL: &[&str] = &[
    "authorization",
    "micro-account",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "origin",
    "referer",
    "accept",
    "accept-language",
    "content-encoding",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

/// The span `metadata` names as the parent: its `traceparent` when valid.
pub(crate) fn trace_parent(metadata: &Metadata) -> Option<crate::trace::SpanContext> {
    metadata
        .get(crate::trace::TRACEPARENT)
        .and_then(crate::trace::SpanContext::parse)
}

/// Make `span` the parent `metadata` names: `traceparent` becomes the span's own; a
/// `tracestate` that came with an invalid `traceparent` goes (W3C: it belongs to that one).
pub(crate) fn stamp_trace(metadata: &mut Metadata, span: &crate::trace::Span, had_parent: bool) {
    if !had_parent {
        metadata.remove(crate::trace::TRACESTATE);
    }
    metadata.insert_static(crate::trace::TRACEPARENT, span.context().traceparent());
}

tokio::task_local! {
    /// The context of the call the current task is handling.
    static CURRENT: Context;
}

impl Context {
    /// A context with no deadline and no metadata.
    pub fn new() -> Context {
        Context::default()
    }

    /// The context of the call this task is handling (inside a handler: the caller's
    /// deadline and metadata), or a new one outside handlers.
    pub fn current() -> Context {
        CURRENT.try_with(Context::clone).unwrap_or_default()
    }

    /// Run `work` with `self` as the current context of its task.
    pub(crate) async fn scope<F: std::future::Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// Set the deadline to `timeout` from now (keeping an earlier deadline if there is one).
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Context {
        let at = Instant::now().checked_add(timeout);
        match at {
            Some(at) => self.with_deadline(at),
            None => self,
        }
    }

    /// Set the deadline (keeping an earlier deadline if there is one).
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Context {
        self.deadline = Some(match self.deadline {
            Some(existing) if existing < deadline => existing,
            _ => deadline,
        });
        self
    }

    /// Note which entries of [`HOP_LOCAL`] the call brought (servers call this once the
    /// caller's metadata is in).
    pub(crate) fn mark_received(&mut self) {
        if self.metadata.is_empty() {
            return;
        }
        let held: Vec<(&'static str, String)> = self
            .metadata
            .iter()
            .filter_map(|(k, v)| {
                let key = HOP_LOCAL.iter().find(|h| **h == k)?;
                Some((*key, v.to_owned()))
            })
            .collect();
        self.received = (!held.is_empty()).then(|| held.into());
    }

    /// The metadata calls made with this context send: all of it, less the [`HOP_LOCAL`]
    /// entries still as the call that brought this context received them.
    pub(crate) fn forwarded_metadata(&self) -> std::borrow::Cow<'_, Metadata> {
        let Some(received) = &self.received else {
            return std::borrow::Cow::Borrowed(&self.metadata);
        };
        let mut md = self.metadata.clone();
        for (k, v) in received.iter() {
            if md.get(k) == Some(v.as_str()) {
                md.remove(k);
            }
        }
        std::borrow::Cow::Owned(md)
    }

    /// Add one metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Context {
        self.metadata.insert(key, value);
        self
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time left before the deadline (zero once it has passed), if there is a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// True when the deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.deadline.is_some_and(|d| d <= Instant::now())
    }

    /// The call metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The call metadata, for changing it.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// On the server: the registry name of the service this call reached.
    pub fn service(&self) -> Option<&str> {
        self.call.as_deref().map(|c| &*c.service)
    }

    /// On the server: the endpoint being served, e.g. `Greeter.Hello`.
    pub fn endpoint(&self) -> Option<&str> {
        self.call.as_deref().map(|c| &*c.endpoint)
    }

    /// On the server: the endpoint being served, shared.
    pub(crate) fn endpoint_shared(&self) -> Option<Arc<str>> {
        self.call.as_deref().map(|c| c.endpoint.clone())
    }

    /// On the server with auth on (`MICRO_AUTH`): the caller's account, its token checked;
    /// `None` for an anonymous caller (one a public rule let in) or with auth off.
    pub fn account(&self) -> Option<&crate::auth::Account> {
        self.account.as_deref()
    }

    pub(crate) fn set_account(&mut self, account: Arc<crate::auth::Account>) {
        self.account = Some(account);
    }

    /// The span this context's calls and events are made under: its `traceparent` (inside
    /// a handler with tracing on, the handler's span; see [`crate::trace`]).
    pub fn trace(&self) -> Option<crate::trace::SpanContext> {
        trace_parent(&self.metadata)
    }

    /// Open spans with `tracer` for what is done with this context: events published with
    /// it get a producer span (handlers' contexts have their service's tracer already).
    #[must_use]
    pub fn with_tracer(mut self, tracer: crate::trace::Tracer) -> Context {
        self.tracer = Some(tracer);
        self
    }

    /// The tracer set by [`Context::with_tracer`] or by the service serving the call.
    pub fn tracer(&self) -> Option<&crate::trace::Tracer> {
        self.tracer.as_ref()
    }

    pub(crate) fn set_tracer(&mut self, tracer: crate::trace::Tracer) {
        self.tracer = Some(tracer);
    }

    /// On the server: the caller's address.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.call.as_deref().and_then(|c| c.peer)
    }

    pub(crate) fn set_call(&mut self, info: CallInfo) {
        self.call = Some(Arc::new(info));
    }

    pub(crate) fn set_response(&mut self, response: SharedResponse) {
        self.response = Some(response);
    }

    pub(crate) fn response(&self) -> Option<SharedResponse> {
        self.response.clone()
    }

    /// On the server: add a response header. Headers go out with the first response message
    /// (or with the status when there is none); later calls have no effect.
    pub fn set_header(&self, key: impl Into<String>, value: impl Into<String>) {
        if let Some(r) = &self.response {
            r.lock()
                .unwrap_or_else(|e| e.into_inner())
                .headers
                .insert(key, value);
        }
    }

    /// On the server: add a response trailer, sent with the status at the end of the call.
    pub fn set_trailer(&self, key: impl Into<String>, value: impl Into<String>) {
        if let Some(r) = &self.response {
            r.lock()
                .unwrap_or_else(|e| e.into_inner())
                .trailers
                .insert(key, value);
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("remaining", &self.remaining())
            .field("metadata", &self.metadata)
            .field("endpoint", &self.endpoint())
            .finish()
    }
}

/// Async cleanup for a handler that may be stopped half-way.
///
/// # When the deadline passes
///
/// A handler whose deadline passes is stopped: its future is
/// dropped at its next `.await`, the caller gets `DEADLINE_EXCEEDED` (408), and no code after
/// that `.await` runs — no work continues for nobody. Locals are dropped as usual, so a
/// [`Drop`] guard releases what they hold. For cleanup that must await (undo a reservation on
/// another service, roll back a row), arm a [`Cleanup`]: it runs in a task of its own if the
/// handler is dropped before [`Cleanup::disarm`]. Work that must finish whatever the caller
/// does belongs in a task the handler spawns (`tokio::spawn`), not in the handler itself.
///
/// ```
/// # async fn reserve(_: &str) -> micro::Result<u64> { Ok(7) }
/// # async fn release(_: u64) {}
/// # async fn charge() -> micro::Result<()> { Ok(()) }
/// async fn place(_ctx: micro::Context, sku: &str) -> micro::Result<()> {
///     let reservation = reserve(sku).await?;
///     // If the deadline passes during `charge`, the reservation is released.
///     let undo = micro::Cleanup::new(release(reservation));
///     charge().await?;
///     undo.disarm();
///     Ok(())
/// }
/// ```
///
/// Unless [`Cleanup::disarm`] is called first, dropping it spawns its future on the current
/// Tokio runtime, with the current [`Context`]'s metadata but no deadline.
#[must_use = "a Cleanup dropped at once runs at once; keep it until the work it undoes is done"]
pub struct Cleanup {
    task: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>>,
}

impl Cleanup {
    /// Run `undo` if this guard is dropped before [`Cleanup::disarm`].
    pub fn new<F>(undo: F) -> Cleanup
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        Cleanup {
            task: Some(Box::pin(undo)),
        }
    }

    /// The work finished: do not run the cleanup.
    pub fn disarm(mut self) {
        self.task = None;
    }
}

impl fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cleanup")
            .field("armed", &self.task.is_some())
            .finish()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(task) = self.task.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "a Cleanup was dropped outside a Tokio runtime: its cleanup did not run"
            );
            return;
        };
        // Calls the cleanup makes carry the handler's metadata, without its spent deadline.
        let mut ctx = Context::new();
        *ctx.metadata_mut() = Context::current().metadata().clone();
        runtime.spawn(CURRENT.scope(ctx, task));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_cleanup_runs_with_the_handlers_metadata_and_a_disarmed_one_does_not() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let handler = Context::new()
            .with_timeout(Duration::from_millis(20))
            .with_metadata("x-request-id", "r1");
        let stopped = tokio::time::timeout(
            Duration::from_millis(20),
            handler.scope(async move {
                let undo = Cleanup::new(async move {
                    let ctx = Context::current();
                    let _ = tx.send((
                        ctx.metadata().get("x-request-id").map(str::to_owned),
                        ctx.deadline(),
                    ));
                });
                std::future::pending::<()>().await;
                undo.disarm();
            }),
        )
        .await;
        assert!(stopped.is_err(), "the handler was cut off");
        let (id, deadline) = rx.await.unwrap();
        assert_eq!(id.as_deref(), Some("r1"));
        assert_eq!(
            deadline, None,
            "the cleanup does not inherit the spent deadline"
        );

        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        Cleanup::new(async move {
            let _ = tx.send(());
        })
        .disarm();
        tokio::task::yield_now().await;
        assert!(rx.try_recv().is_err(), "a disarmed cleanup never runs");
    }

    #[test]
    fn earlier_deadline_wins() {
        let ctx = Context::new().with_timeout(Duration::from_millis(10));
        let first = ctx.deadline();
        let ctx = ctx.with_timeout(Duration::from_secs(60));
        assert_eq!(ctx.deadline(), first);
    }

    #[tokio::test]
    async fn the_current_context_is_the_scoped_one() {
        assert!(Context::current().metadata().is_empty());
        let ctx = Context::new().with_metadata("x-request-id", "7");
        let seen = ctx
            .scope(async {
                Context::current()
                    .metadata()
                    .get("x-request-id")
                    .map(str::to_owned)
            })
            .await;
        assert_eq!(seen.as_deref(), Some("7"));
        assert!(
            Context::current().metadata().is_empty(),
            "only inside the scope"
        );
    }

    #[test]
    fn a_stamped_span_becomes_the_parent_and_an_orphan_tracestate_goes() {
        let tracer = crate::trace::Tracer::new("greeter");
        let span = tracer.start(crate::trace::SpanKind::Server, "x", None);
        let mut md = Metadata::new();
        md.insert(crate::trace::TRACESTATE, "vendor=1");
        stamp_trace(&mut md, &span, false);
        assert_eq!(md.get(crate::trace::TRACESTATE), None);
        assert_eq!(trace_parent(&md), Some(span.context()));
        md.insert(crate::trace::TRACESTATE, "vendor=1");
        stamp_trace(&mut md, &span, true);
        assert_eq!(
            md.get(crate::trace::TRACESTATE),
            Some("vendor=1"),
            "kept with its parent"
        );
    }

    #[test]
    fn metadata_keys_are_case_insensitive() {
        let mut md = Metadata::new();
        md.insert("X-Trace", "a");
        assert_eq!(md.get("x-trace"), Some("a"));
        assert_eq!(md.get("X-TRACE"), Some("a"));
        assert_eq!(md.remove("X-Trace").as_deref(), Some("a"));
        assert!(md.is_empty());
    }
}
