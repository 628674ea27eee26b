//! Middleware: go-micro's wrappers, as plain async closures or any [`tower::Layer`].
//!
//! A chain of [`Wrapper`]s runs around a core — a server's endpoint handler, a client's call,
//! a subscriber's handler. Each wrapper gets the request and the rest of the chain as a
//! [`Next`], and decides: change the request, call `next`, look at or change the result, or
//! answer by itself without calling `next` (an error short-circuits the chain).
//!
//! | Where | Request | Response | Alias | Add it with |
//! |---|---|---|---|---|
//! | server: every endpoint, or one route | [`HandlerRequest`](crate::server::HandlerRequest) | [`HandlerResponse`](crate::server::HandlerResponse) | [`HandlerWrapper`](crate::server::HandlerWrapper) | `ServiceBuilder::wrap`, `ServiceBuilder::layer`, `Route::wrap`, `Route::layer` |
//! | client: every call | [`CallRequest`](crate::client::CallRequest) | [`CallResponse`](crate::client::CallResponse) | [`CallWrapper`](crate::client::CallWrapper) | `Client::wrap`, `Client::layer`, `ServiceBuilder::wrap_call` |
//! | subscriber: every delivery | [`Event`](crate::broker::Event) | `()` | [`SubscriberWrapper`](crate::broker::SubscriberWrapper) | `ServiceBuilder::wrap_subscriber`, `Subscriber::wrap` |
//!
//! On a service or a route, wrappers run in the order they were added: the first added is
//! the outermost, so it sees the request first and the response last (as with
//! `tower::ServiceBuilder`); service-wide wrappers run outside a route's own and are built
//! once for the whole service (a concurrency limit is the service's, not each endpoint's).
//! `Client::wrap` and `Client::layer` return a client with the new wrapper outside the ones
//! it had, sharing them.
//!
//! ```
//! use micro::middleware::Wrapper;
//!
//! // A wrapper over plain strings, to show the shape: log, call on, look at the answer.
//! let shout: Wrapper<String, String> = Wrapper::new(|req: String, next| async move {
//!     let rsp = next.call(req.to_uppercase()).await?;
//!     Ok(format!("{rsp}!"))
//! });
//! let core = micro::middleware::Next::new(|req: String| async move { Ok(req) });
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let chain = micro::middleware::chain(&[shout], core);
//! assert_eq!(chain.call("hi".into()).await.unwrap(), "HI!");
//! # });
//! ```
//!
//! Any `tower::Layer` whose service is `Clone` works too: `tower::limit::ConcurrencyLimitLayer`,
//! `tower::timeout::TimeoutLayer`, `tower::load_shed::LoadShedLayer`, or your own. Their
//! errors become micro errors: a tower timeout is `408 DEADLINE_EXCEEDED`, load shedding is
//! `503 UNAVAILABLE` ("overloaded"), a micro [`Error`] passes through as it is.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use crate::error::{BoxError, Error, Failure, Result};

const ID: &str = "micro.middleware";

/// What the rest of a chain returns.
type Reply<T> = crate::BoxFuture<'static, Result<T>>;

/// The rest of a chain: call it to go on. Cheap to clone.
///
/// `Next` is also a [`tower::Service`], which is how tower layers wrap it. A chain of tower
/// layers keeps tower's readiness: a `LoadShedLayer` in front of a `ConcurrencyLimitLayer`
/// sheds while the limit is reached, as in a `tower::ServiceBuilder`.
pub struct Next<Req, Resp> {
    inner: Inner<Req, Resp>,
}

enum Inner<Req, Resp> {
    /// A function: always ready.
    Fn(Arc<dyn Fn(Req) -> Reply<Resp> + Send + Sync>),
    /// A tower service: each clone gets its own copy of `template` (a concurrency limit's
    /// permit belongs to one call), made ready before it is called.
    Service {
        template: Arc<Mutex<Box<dyn DynService<Req, Resp>>>>,
        ready: Mutex<Option<Box<dyn DynService<Req, Resp>>>>,
    },
}

impl<Req, Resp> Clone for Next<Req, Resp> {
    fn clone(&self) -> Self {
        let inner = match &self.inner {
            Inner::Fn(f) => Inner::Fn(f.clone()),
            Inner::Service { template, .. } => Inner::Service {
                template: template.clone(),
                ready: Mutex::new(None),
            },
        };
        Next { inner }
    }
}

impl<Req, Resp> fmt::Debug for Next<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Next<Req, Resp> {
    /// A chain that ends in `f`.
    pub fn new<F, Fut>(f: F) -> Next<Req, Resp>
    where
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
    {
        Next::boxed(move |req| Box::pin(f(req)))
    }

    /// A chain that ends in `f`, which already returns a boxed future.
    pub(crate) fn boxed(f: impl Fn(Req) -> Reply<Resp> + Send + Sync + 'static) -> Next<Req, Resp> {
        Next {
            inner: Inner::Fn(Arc::new(f)),
        }
    }

    /// A chain that goes through a tower service.
    fn service(service: impl DynService<Req, Resp> + 'static) -> Next<Req, Resp> {
        Next {
            inner: Inner::Service {
                template: Arc::new(Mutex::new(Box::new(service))),
                ready: Mutex::new(None),
            },
        }
    }

    /// Go on down the chain with `req`.
    pub fn call(&self, req: Req) -> Reply<Resp> {
        match &self.inner {
            Inner::Fn(f) => f(req),
            Inner::Service { template, .. } => {
                let mut service = template
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone_box();
                Box::pin(async move {
                    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                    service.call(req).await
                })
            }
        }
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> tower::Service<Req> for Next<Req, Resp> {
    type Response = Resp;
    type Error = Error;
    type Future = Reply<Resp>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        match &mut self.inner {
            Inner::Fn(_) => Poll::Ready(Ok(())),
            Inner::Service { template, ready } => {
                let ready = ready.get_mut().unwrap_or_else(|e| e.into_inner());
                let service = ready.get_or_insert_with(|| {
                    template
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone_box()
                });
                service.poll_ready(cx)
            }
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        match &mut self.inner {
            Inner::Fn(f) => f(req),
            Inner::Service { ready, .. } => {
                let ready = ready.get_mut().unwrap_or_else(|e| e.into_inner());
                match ready.take() {
                    Some(mut service) => service.call(req),
                    // Called without poll_ready: go through the ready check ourselves.
                    None => Next::call(self, req),
                }
            }
        }
    }
}

/// A tower service with its types erased.
trait DynService<Req, Resp>: Send {
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<()>>;
    fn call(&mut self, req: Req) -> Reply<Resp>;
    fn clone_box(&self) -> Box<dyn DynService<Req, Resp>>;
}

impl<S, Req, Resp> DynService<Req, Resp> for S
where
    S: tower::Service<Req, Response = Resp> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        tower::Service::poll_ready(self, cx).map_err(|e| from_tower(e.into()))
    }

    fn call(&mut self, req: Req) -> Reply<Resp> {
        let fut = tower::Service::call(self, req);
        Box::pin(async move { fut.await.map_err(|e| from_tower(e.into())) })
    }

    fn clone_box(&self) -> Box<dyn DynService<Req, Resp>> {
        Box::new(self.clone())
    }
}

/// Puts one step in front of the rest of a chain.
type Wrap<Req, Resp> = dyn Fn(Next<Req, Resp>) -> Next<Req, Resp> + Send + Sync;

/// One step of a chain: given the rest of the chain, the chain with this step in front.
pub struct Wrapper<Req, Resp> {
    wrap: Arc<Wrap<Req, Resp>>,
    what: &'static str,
}

impl<Req, Resp> Clone for Wrapper<Req, Resp> {
    fn clone(&self) -> Self {
        Wrapper {
            wrap: self.wrap.clone(),
            what: self.what,
        }
    }
}

impl<Req, Resp> fmt::Debug for Wrapper<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Wrapper<Req, Resp> {
    /// A wrapper from an async closure `|req, next| async move { .. next.call(req).await }`.
    pub fn new<F, Fut>(f: F) -> Wrapper<Req, Resp>
    where
        F: Fn(Req, Next<Req, Resp>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
    {
        let f = Arc::new(f);
        Wrapper {
            wrap: Arc::new(move |next: Next<Req, Resp>| {
                let f = f.clone();
                Next::boxed(move |req| Box::pin(f(req, next.clone())))
            }),
            what: "wrapper fn",
        }
    }

    /// A wrapper from any `tower::Layer` whose service is `Clone` (each call gets a clone of
    /// the layered service, so shared state such as a concurrency limit's semaphore holds
    /// across calls).
    pub fn layer<L>(layer: L) -> Wrapper<Req, Resp>
    where
        L: tower::Layer<Next<Req, Resp>> + Send + Sync + 'static,
        L::Service: tower::Service<Req, Response = Resp> + Clone + Send + 'static,
        <L::Service as tower::Service<Req>>::Error: Into<BoxError>,
        <L::Service as tower::Service<Req>>::Future: Send + 'static,
    {
        Wrapper {
            wrap: Arc::new(move |next: Next<Req, Resp>| Next::service(layer.layer(next))),
            what: std::any::type_name::<L>(),
        }
    }

    /// Put this step in front of `next`.
    pub fn wrap(&self, next: Next<Req, Resp>) -> Next<Req, Resp> {
        (self.wrap)(next)
    }
}

/// `core` with `wrappers` around it, the first one outermost.
pub fn chain<Req: Send + 'static, Resp: Send + 'static>(
    wrappers: &[Wrapper<Req, Resp>],
    core: Next<Req, Resp>,
) -> Next<Req, Resp> {
    wrappers.iter().rev().fold(core, |next, w| w.wrap(next))
}

/// A tower error as a micro error.
fn from_tower(e: BoxError) -> Error {
    let e = match e.downcast::<crate::error::StdError>() {
        Ok(e) => return e.0,
        Err(e) => e,
    };
    if e.is::<tower::timeout::error::Elapsed>() {
        return Error::timeout(ID, "the call timed out in a tower timeout layer");
    }
    if e.is::<tower::load_shed::error::Overloaded>() {
        // Shed before anything ran: safe to send elsewhere.
        return Error::unavailable(ID, "overloaded: the concurrency limit is reached")
            .with_failure(Failure::BeforeSend);
    }
    Error::internal(ID, format!("middleware failed: {e}")).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn record(log: &Arc<Mutex<Vec<String>>>, name: &'static str) -> Wrapper<u32, u32> {
        let log = log.clone();
        Wrapper::new(move |req: u32, next: Next<u32, u32>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(format!("{name} in"));
                let rsp = next.call(req).await;
                log.lock().unwrap().push(format!("{name} out"));
                rsp
            }
        })
    }

    #[tokio::test]
    async fn first_added_is_outermost() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let core_log = log.clone();
        let core = Next::new(move |req: u32| {
            core_log.lock().unwrap().push("core".to_owned());
            async move { Ok(req + 1) }
        });
        let chain = chain(&[record(&log, "a"), record(&log, "b")], core);
        assert_eq!(chain.call(1).await.unwrap(), 2);
        assert_eq!(
            *log.lock().unwrap(),
            ["a in", "b in", "core", "b out", "a out"]
        );
    }

    #[tokio::test]
    async fn an_error_short_circuits() {
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = ran.clone();
        let core = Next::new(move |req: u32| {
            seen.fetch_add(1, Ordering::SeqCst);
            async move { Ok(req) }
        });
        let deny: Wrapper<u32, u32> =
            Wrapper::new(|_req, _next| async move { Err(Error::forbidden("test", "no entry")) });
        let err = chain(&[deny], core).call(1).await.unwrap_err();
        assert_eq!(err.code(), 403);
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn tower_errors_become_micro_errors() {
        let slow = Next::new(|req: u32| async move {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            Ok(req)
        });
        let timeout = Wrapper::layer(tower::timeout::TimeoutLayer::new(
            std::time::Duration::from_millis(10),
        ));
        let err = chain(&[timeout], slow).call(1).await.unwrap_err();
        assert_eq!(err.code(), 408);

        let failing =
            Next::new(|_req: u32| async move { Err::<u32, _>(Error::not_found("core", "gone")) });
        let timeout = Wrapper::layer(tower::timeout::TimeoutLayer::new(
            std::time::Duration::from_secs(10),
        ));
        let err = chain(&[timeout], failing).call(1).await.unwrap_err();
        assert_eq!((err.code(), err.id()), (404, "core"));
    }
}
#[cfg(test)]
mod tower_readiness {
    use super::*;

    #[tokio::test]
    async fn load_shed_sees_a_concurrency_limit_behind_it() {
        let core = Next::new(|req: u64| async move {
            tokio::time::sleep(std::time::Duration::from_millis(req)).await;
            Ok(req)
        });
        let c = chain(
            &[
                Wrapper::layer(tower::load_shed::LoadShedLayer::new()),
                Wrapper::layer(tower::limit::ConcurrencyLimitLayer::new(1)),
            ],
            core,
        );
        let (a, b) = tokio::join!(c.call(30), async {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            c.call(1).await
        });
        let err = b.unwrap_err();
        assert_eq!(err.code(), 503, "{err}");
        assert_eq!(a.unwrap(), 30);
    }
}
