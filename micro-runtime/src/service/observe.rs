//! What a service records about itself: metrics when `MICRO_METRICS_ADDRESS` is set, spans
//! when `MICRO_TRACER` is.

use std::sync::Arc;

use tracing::Instrument as _;

use crate::metrics::Serving;
use crate::options::Settings;
use crate::server::HandlerWrapper;
use crate::trace::{SpanKind, Text, Tracer};

/// The service's handler wrappers, with the tracing wrapper outermost when tracing is on,
/// then the metrics wrapper when metrics are on (so they see every call, whatever the
/// service's own wrappers answer, and the service's wrappers run inside the call's span).
pub(super) fn wrappers(
    settings: &Settings,
    service: &str,
    tracer: Option<&Tracer>,
    mut wrappers: Vec<HandlerWrapper>,
) -> Vec<HandlerWrapper> {
    if settings.metrics_address.is_some() {
        crate::metrics::enable();
        let service: Arc<str> = Arc::from(service);
        wrappers.insert(
            0,
            HandlerWrapper::new(move |req, next| {
                let serving = Serving::start(&service, req.endpoint());
                async move {
                    let result = next.call(req).await;
                    serving.done(result.as_ref().map(|_| ()));
                    result
                }
            }),
        );
    }
    if let Some(tracer) = tracer {
        wrappers.insert(0, serving_spans(tracer.clone()));
    }
    wrappers
}

/// A server span per call: the caller's `traceparent` its parent, its own id the parent of
/// what the handler does (the context's `traceparent` becomes the span's).
fn serving_spans(tracer: Tracer) -> HandlerWrapper {
    HandlerWrapper::new(move |mut req, next| {
        let ctx = req.context_mut();
        let parent = crate::context::trace_parent(ctx.metadata());
        let method = ctx.endpoint_shared().unwrap_or_else(|| Arc::from(""));
        let mut span = tracer.start_rpc(
            SpanKind::Server,
            Text::Shared(tracer.service_shared()),
            Text::Shared(method),
            parent,
        );
        if let Some(node) = tracer.node_shared() {
            span.set_shared("micro.node", node);
        }
        crate::context::stamp_trace(ctx.metadata_mut(), &span, parent.is_some());
        ctx.set_tracer(tracer.clone());
        let work = span.tracing().in_scope(|| next.call(req));
        let scope = span.tracing().clone();
        async move {
            let result = work.instrument(scope).await;
            span.end(result.as_ref().map(|_| ()));
            result
        }
    })
}
