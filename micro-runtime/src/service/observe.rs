//! What a service records about itself when metrics are on (`MICRO_METRICS_ADDRESS`).

use std::sync::Arc;

use crate::metrics::Serving;
use crate::options::Settings;
use crate::server::HandlerWrapper;

/// The service's handler wrappers, with the metrics wrapper outermost when metrics are on
/// (so it sees every call, whatever the service's own wrappers answer).
pub(super) fn wrappers(
    settings: &Settings,
    service: &str,
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
    wrappers
}
