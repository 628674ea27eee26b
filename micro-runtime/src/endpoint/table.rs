//! The compiled route table of a server, and [`Dispatch`]: everything a transport needs to
//! serve calls against it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::handler::{BoxFuture, Wrapped, call_target, guarded};
use super::{HandlerRequest, HandlerResponse, HandlerWrapper, ID, Route, Router};
use crate::auth::{ACCOUNT_HEADER, Gate};
use crate::codec::Format;
use crate::context::{CallInfo, Context, SharedResponse};
use crate::error::{Code, Error, Result};
use crate::middleware::{self, Next};
use crate::wire::DEFAULT_MAX_MESSAGE_SIZE;

/// The compiled routing table of a server.
pub(crate) struct RouteTable {
    by_path: HashMap<String, Arc<Route>>,
    by_name: HashMap<String, Arc<Route>>,
    services: Vec<String>,
    fallback: Option<Arc<Route>>,
}

/// The outcome of a lookup.
pub(crate) enum RouteMatch {
    Found(Arc<Route>),
    UnknownMethod(String),
    UnknownService(String),
}

impl RouteTable {
    /// Check every route and compile the table, each route inside its own wrappers.
    pub(crate) fn build(router: &Router) -> Result<RouteTable> {
        let mut by_path = HashMap::new();
        let mut by_name: HashMap<String, Arc<Route>> = HashMap::new();
        for route in &router.routes {
            route.validate()?;
            let route = Arc::new(wrapped(route));
            if by_path.insert(route.path(), route.clone()).is_some() {
                return Err(Error::bad_request(
                    ID,
                    format!("endpoint {} is registered twice", route.path()),
                ));
            }
            by_name
                .entry(route.name.clone())
                .or_insert_with(|| route.clone());
        }
        Ok(RouteTable {
            by_path,
            by_name,
            services: router.service_names(),
            fallback: router.fallback.as_ref().map(|f| Arc::new(wrapped(f))),
        })
    }

    pub(crate) fn lookup(&self, path: &str) -> RouteMatch {
        if let Some(route) = self.by_path.get(path) {
            return RouteMatch::Found(route.clone());
        }
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let Some((svc_full, method)) = trimmed.split_once('/') else {
            return RouteMatch::UnknownService(trimmed.to_owned());
        };
        let miss = self.miss(svc_full, method);
        match (&miss, &self.fallback) {
            (RouteMatch::Found(_), _) | (_, None) => miss,
            (_, Some(fallback)) => Self::fallback_for(fallback, svc_full, method, miss),
        }
    }

    /// A call to `svc_full`/`method` that no path names: a route by its short name, or what
    /// is unknown.
    fn miss(&self, svc_full: &str, method: &str) -> RouteMatch {
        let (package, svc) = match svc_full.rsplit_once('.') {
            Some((pkg, svc)) => (Some(pkg), svc),
            None => (None, svc_full),
        };
        let name = format!("{svc}.{method}");
        if let Some(route) = self.by_name.get(&name) {
            // A caller that names no package reaches the route; one that names another
            // package does not.
            if package.is_none() || route.package.is_none() {
                return RouteMatch::Found(route.clone());
            }
        }
        let known = self
            .services
            .iter()
            .any(|s| s == svc_full || (package.is_none() && s.rsplit('.').next() == Some(svc)));
        if known {
            RouteMatch::UnknownMethod(format!("{svc}.{method}"))
        } else {
            RouteMatch::UnknownService(svc_full.to_owned())
        }
    }

    /// The fallback, named after the endpoint called, when that name is well formed.
    fn fallback_for(
        fallback: &Route,
        svc_full: &str,
        method: &str,
        miss: RouteMatch,
    ) -> RouteMatch {
        let (package, svc) = match svc_full.rsplit_once('.') {
            Some((pkg, svc)) => (Some(pkg), svc),
            None => (None, svc_full),
        };
        let mut route = fallback.clone();
        route.name = format!("{svc}.{method}");
        route.package = package.map(str::to_owned);
        route.endpoint.name.clone_from(&route.name);
        if route.validate().is_err() {
            return miss;
        }
        RouteMatch::Found(Arc::new(route))
    }
}

/// `route` with its own wrappers around its handler.
fn wrapped(route: &Route) -> Route {
    let mut route = route.clone();
    if route.wrappers.is_empty() {
        return route;
    }
    let inner = route.handler.clone();
    let core = {
        let inner = inner.clone();
        Next::boxed(move |request| inner.call(request))
    };
    route.handler = Arc::new(Wrapped {
        chain: middleware::chain(&route.wrappers, core),
        inner,
    });
    route
}

/// Limits that protect a server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_recv: usize,
    pub(crate) max_send: usize,
    pub(crate) max_concurrent_streams: u32,
    /// Request metadata, counted as HTTP/2 does (name + value + 32 per entry).
    pub(crate) max_header_list_size: u32,
    /// How long a new connection may take to show which transport it speaks.
    pub(crate) handshake_timeout: Duration,
    /// A connection without calls for this long is asked to go away (on HTTP/2: one that
    /// started no call for this long; calls still open finish).
    pub(crate) idle_timeout: Option<Duration>,
    /// A connection quiet for this long is pinged ...
    pub(crate) keepalive_interval: Option<Duration>,
    /// ... and closed when the ping is not answered within this.
    pub(crate) keepalive_timeout: Duration,
    /// Connections served at once; more are closed as they arrive.
    pub(crate) max_connections: usize,
    /// A connection older than this is asked to go away once its calls are done.
    pub(crate) max_connection_age: Option<Duration>,
    /// The deadline of a unary call whose caller set none.
    pub(crate) default_timeout: Option<Duration>,
    /// Shed unary calls when the CPU share is over this and calls in flight exceed what the
    /// server carried; `None`: never.
    pub(crate) shed_cpu: Option<f64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_recv: DEFAULT_MAX_MESSAGE_SIZE,
            max_send: DEFAULT_MAX_MESSAGE_SIZE,
            max_concurrent_streams: 200,
            max_header_list_size: 16 * 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(300)),
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_timeout: Duration::from_secs(20),
            max_connections: 10_000,
            max_connection_age: None,
            default_timeout: Some(Duration::from_secs(60)),
            shed_cpu: Some(0.9),
        }
    }
}

/// What a transport serves calls against: the route table, the service's name, the limits
/// and the service-wide wrappers. Every transport finds routes, checks formats, builds call
/// contexts and calls handlers here, so they answer alike.
pub(crate) struct Dispatch {
    pub(crate) table: RouteTable,
    pub(crate) service: Arc<str>,
    pub(crate) limits: Limits,
    /// The service-wide wrappers, built once for every endpoint (so a tower layer's state,
    /// such as a concurrency limit, is the service's); `None` without any.
    chain: Option<Next<HandlerRequest, HandlerResponse>>,
    /// The load shedder, unless turned off.
    shed: Option<Arc<super::shed::Shedder>>,
    /// Token and rule checks, when auth is on.
    gate: Option<Arc<Gate>>,
}

impl Dispatch {
    /// Serve `table` as `service` with `wrappers` around every endpoint that is not the
    /// framework's own.
    pub(crate) fn new(
        table: RouteTable,
        service: &str,
        limits: Limits,
        wrappers: &[HandlerWrapper],
    ) -> Dispatch {
        let chain =
            (!wrappers.is_empty()).then(|| middleware::chain(wrappers, Next::boxed(call_target)));
        Dispatch {
            table,
            service: service.into(),
            limits,
            chain,
            shed: limits
                .shed_cpu
                .map(|cpu| Arc::new(super::shed::Shedder::new(cpu))),
            gate: None,
        }
    }

    /// Check every call's token and the rules before its body is read.
    pub(crate) fn with_gate(mut self, gate: Option<Arc<Gate>>) -> Dispatch {
        self.gate = gate;
        self
    }

    /// Let a call to `route` in if its caller may make it (auth on), before its request
    /// body is read: the caller's `authorization` is checked against the rules, whatever
    /// arrived as [`ACCOUNT_HEADER`] is dropped, and a verified account is put in its place
    /// and in the context. Health checks are always let in (load balancers carry no token).
    pub(crate) fn authorize(&self, route: &Route, ctx: &mut Context) -> Result<()> {
        let Some(gate) = &self.gate else {
            return Ok(());
        };
        let md = ctx.metadata_mut();
        md.remove(ACCOUNT_HEADER);
        if route.framework && route.package.as_deref() == Some("grpc.health.v1") {
            return Ok(());
        }
        let caller = gate
            .check_endpoint(md.get("authorization"), &self.service, &route.name)
            .inspect_err(|e| {
                tracing::debug!(endpoint = %route.name, error = %e, "call refused by auth");
            })?;
        if let Some(caller) = caller {
            md.insert(ACCOUNT_HEADER, caller.header().to_owned());
            ctx.set_account(caller.account().clone());
        }
        Ok(())
    }

    /// Call `route` with `request`, through the service's wrappers.
    pub(crate) fn call(
        &self,
        route: &Route,
        request: HandlerRequest,
    ) -> BoxFuture<Result<HandlerResponse>> {
        self.dispatch(route, request)
    }

    /// Let a call to `route` in, or refuse it because the server is overloaded. Unary calls
    /// pass the shedder (the returned pass counts the call until dropped); health checks,
    /// reflection and streams do not (the priority lane: a load balancer still sees the
    /// node's health while it sheds).
    /// A call whose `deadline` already passed (its caller gave up while it queued) is
    /// refused too, without running its handler.
    pub(crate) fn admit(
        &self,
        route: &Route,
        deadline: Option<std::time::Instant>,
    ) -> Result<Option<super::shed::Pass>> {
        match &self.shed {
            Some(shed) if !route.framework && route.kind == super::StreamKind::Unary => {
                shed.admit(deadline, &route.name).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn dispatch(
        &self,
        route: &Route,
        mut request: HandlerRequest,
    ) -> BoxFuture<Result<HandlerResponse>> {
        match &self.chain {
            Some(chain) if !route.framework => {
                request.target = Some(route.handler.clone());
                request.enforced = request.ctx.deadline();
                guarded(|| chain.call(request))
            }
            _ => route.handler.call(request),
        }
    }

    /// The route for a gRPC path, or the `UNIMPLEMENTED` error that says what is unknown.
    pub(crate) fn route(&self, path: &str) -> Result<Arc<Route>> {
        match self.table.lookup(path) {
            RouteMatch::Found(route) => Ok(route),
            RouteMatch::UnknownMethod(m) => Err(Error::unimplemented(
                ID,
                format!("unknown endpoint {m} on service {}", self.service),
            )),
            RouteMatch::UnknownService(s) => Err(Error::unimplemented(
                ID,
                format!("unknown service {s:?} at this node of {}", self.service),
            )),
        }
    }

    /// Take a call to `route` in `format`: the context with the caller's deadline (`timeout`,
    /// capped by the route's), the call's identity and a slot for response metadata. The
    /// caller's metadata is the transport's to add.
    pub(crate) fn accept(
        &self,
        route: &Route,
        format: Format,
        timeout: Option<Duration>,
        peer: Option<SocketAddr>,
    ) -> Result<Context> {
        if !route.handler.supports(format) {
            return Err(Error::new(
                ID,
                format!("endpoint {} does not accept {format} messages", route.name),
                415,
            )
            .with_grpc_code(Code::InvalidArgument));
        }
        let mut ctx = Context::new();
        let unary = !route.kind.client_streams() && !route.kind.server_streams();
        let timeout = timeout.or(if unary {
            self.limits.default_timeout
        } else {
            None
        });
        if let Some(timeout) = timeout {
            ctx = ctx.with_timeout(timeout);
        }
        if let Some(timeout) = route.timeout {
            ctx = ctx.with_timeout(timeout);
        }
        ctx.set_call(CallInfo {
            service: self.service.clone(),
            endpoint: route.name.as_str().into(),
            peer,
        });
        ctx.set_response(SharedResponse::default());
        Ok(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    struct M {
        #[prost(string, tag = "1")]
        s: String,
    }
    impl crate::codec::ProstSerde for M {}

    fn router() -> Router {
        Router::new()
            .route(
                Route::unary("Greeter.Hello", |_c, m: M| async move { Ok(m) }).package("greeter"),
            )
            .route(Route::unary("Plain.Call", |_c, m: M| async move { Ok(m) }))
    }

    #[test]
    fn a_fallback_takes_every_well_formed_miss_under_the_name_called() {
        let router = router().fallback(|_c, _f, b| async move { Ok(b) });
        let table = RouteTable::build(&router).unwrap();
        let RouteMatch::Found(route) = table.lookup("/greeter.Greeter/Hello") else {
            panic!("the route itself comes first");
        };
        assert_eq!(route.name, "Greeter.Hello");
        assert!(route.internal || route.kind == crate::endpoint::StreamKind::Unary);
        for (path, name, package) in [
            ("/shop.Orders/Place", "Orders.Place", Some("shop")),
            ("/Orders/Place", "Orders.Place", None),
            ("/greeter.Greeter/Bye", "Greeter.Bye", Some("greeter")),
        ] {
            let RouteMatch::Found(route) = table.lookup(path) else {
                panic!("{path} goes to the fallback");
            };
            assert_eq!(route.name, name);
            assert_eq!(route.package.as_deref(), package);
        }
        // A name that is no endpoint name stays unknown.
        assert!(matches!(
            table.lookup("/Orders/not-a-method"),
            RouteMatch::UnknownService(_)
        ));
        assert!(router.routes().iter().all(|r| r.name != "Fallback.Any"));
    }

    #[test]
    fn lookup_by_full_path_short_path_and_misses() {
        let table = RouteTable::build(&router()).unwrap();
        assert!(matches!(
            table.lookup("/greeter.Greeter/Hello"),
            RouteMatch::Found(_)
        ));
        assert!(matches!(
            table.lookup("/Greeter/Hello"),
            RouteMatch::Found(_)
        ));
        assert!(matches!(table.lookup("/Plain/Call"), RouteMatch::Found(_)));
        assert!(matches!(
            table.lookup("/any.pkg.Plain/Call"),
            RouteMatch::Found(_)
        ));
        assert!(matches!(
            table.lookup("/other.Greeter/Hello"),
            RouteMatch::UnknownService(_)
        ));
        assert!(matches!(
            table.lookup("/greeter.Greeter/Nope"),
            RouteMatch::UnknownMethod(_)
        ));
        assert!(matches!(
            table.lookup("/Nope/Call"),
            RouteMatch::UnknownService(_)
        ));
        assert!(matches!(table.lookup("/"), RouteMatch::UnknownService(_)));
    }

    #[test]
    fn invalid_names_and_duplicates_are_errors() {
        for bad in [
            "Hello",
            "Greeter.",
            ".Hello",
            "Greeter.Hello.Again",
            "Gree ter.Hello",
            "Greeter/Hello",
        ] {
            let r = Router::new().unary(bad, |_c, m: M| async move { Ok(m) });
            let err = RouteTable::build(&r).err().unwrap();
            assert!(
                err.detail().contains("Service.Method"),
                "{bad}: {}",
                err.detail()
            );
        }
        let dup = router().merge(router());
        assert!(
            RouteTable::build(&dup)
                .err()
                .unwrap()
                .detail()
                .contains("twice")
        );
    }
}
