//! [`Router`]: a set of endpoints, and [`IntoRouter`] for what provides them.

use std::future::Future;

use super::Route;
use crate::codec::Message;
use crate::context::Context;
use crate::error::Result;

/// Something that provides endpoints: a [`Router`], a [`Route`], or a generated server.
pub trait IntoRouter {
    /// The endpoints.
    fn into_router(self) -> Router;
}

/// A set of endpoints.
///
/// ```
/// use micro::server::Router;
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Req { #[prost(string, tag = "1")] name: String }
/// # impl micro::codec::ProstSerde for Req {}
/// let router = Router::new()
///     .unary("Echo.Call", |_ctx, req: Req| async move { Ok(req) })
///     .unary("Echo.Again", |_ctx, req: Req| async move { Ok(req) });
/// assert_eq!(router.routes().len(), 2);
/// ```
#[derive(Clone, Default, Debug)]
pub struct Router {
    pub(crate) routes: Vec<Route>,
    /// What serves calls to endpoints no route names (see [`Router::fallback`]).
    pub(crate) fallback: Option<Route>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Router {
        Router::default()
    }

    /// Add an endpoint.
    #[must_use]
    pub fn route(mut self, route: Route) -> Router {
        self.routes.push(route);
        self
    }

    /// Add a unary endpoint (shorthand for [`Route::unary`]).
    #[must_use]
    pub fn unary<Req, Resp, F, Fut>(self, name: impl Into<String>, handler: F) -> Router
    where
        F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        self.route(Route::unary(name, handler))
    }

    /// Add every endpoint of `other` (and its fallback, when this router has none).
    #[must_use]
    pub fn merge(mut self, other: impl IntoRouter) -> Router {
        let other = other.into_router();
        self.routes.extend(other.routes);
        if self.fallback.is_none() {
            self.fallback = other.fallback;
        }
        self
    }

    /// Serve every call to an endpoint no route names with `handler`, over raw bytes in the
    /// caller's [`Format`](crate::codec::Format) (unary calls only): what a proxy or a
    /// sidecar needs to take calls for endpoints it learns at run time.
    /// [`Context::endpoint`] names the endpoint called (`Greeter.Hello`). The fallback is
    /// never published in the registry.
    ///
    /// ```
    /// use micro::server::Router;
    ///
    /// let echo_any = Router::new().fallback(|_ctx, _format, body| async move { Ok(body) });
    /// assert!(echo_any.routes().is_empty());
    /// ```
    #[must_use]
    pub fn fallback<F, Fut>(mut self, handler: F) -> Router
    where
        F: Fn(Context, crate::codec::Format, bytes::Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bytes::Bytes>> + Send + 'static,
    {
        let mut route = Route::raw("Fallback.Any", handler);
        route.internal = true;
        self.fallback = Some(route);
        self
    }

    /// The endpoints, in the order they were added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The full service names (`greeter.Greeter`) of the endpoints, in order of first use.
    pub(crate) fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for route in &self.routes {
            let path = route.path();
            let name = path[1..].split('/').next().unwrap_or_default();
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        names
    }

    /// Mark every endpoint as the framework's own (health, reflection): out of the registry,
    /// and outside the service's wrappers.
    pub(crate) fn framework(mut self) -> Router {
        for route in &mut self.routes {
            route.internal = true;
            route.framework = true;
        }
        self
    }

    /// Check every endpoint name and package, and that no two endpoints share a gRPC path.
    pub(crate) fn check(&self) -> Result<()> {
        let mut paths = std::collections::HashSet::new();
        for route in &self.routes {
            route.validate()?;
            if !paths.insert(route.path()) {
                return Err(crate::error::Error::bad_request(
                    super::ID,
                    format!("endpoint {} is registered twice", route.path()),
                ));
            }
        }
        Ok(())
    }

    /// Keep every endpoint out of the registry. They are still served, and still run inside
    /// the service's wrappers.
    #[must_use]
    pub fn internal(mut self) -> Router {
        for route in &mut self.routes {
            route.internal = true;
        }
        self
    }
}

impl IntoRouter for Router {
    fn into_router(self) -> Router {
        self
    }
}

impl IntoRouter for Route {
    fn into_router(self) -> Router {
        Router::new().route(self)
    }
}
