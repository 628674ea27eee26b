//! Web apps written as services (go-micro's `web.NewService`): an axum router served on its
//! own port and registered as `<namespace>.<name>`, so `micro web` proxies `/<name>/` to it
//! (HTTP and websockets) and lists it on its home page.

use std::future::Future;
use std::time::Duration;

use micro::registry::{Node, RegisterOptions, Service, SharedRegistry};

/// A web app to serve and register.
///
/// ```no_run
/// # async fn run() -> micro::Result<()> {
/// let registry = micro::Settings::from_env()?.registry()?;
/// let router = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
/// micro_web::WebService::new("hello")
///     .serve(registry, router, micro::service::shutdown_signal())
///     .await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct WebService {
    name: String,
    namespace: String,
    version: String,
    address: String,
    ttl: Duration,
    interval: Duration,
}

impl WebService {
    /// A web app called `name` (`chat` registers as `micro.web.chat`, reached at `/chat/`),
    /// on 127.0.0.1 with a port the system picks.
    pub fn new(name: impl Into<String>) -> WebService {
        WebService {
            name: name.into(),
            namespace: "micro.web".to_owned(),
            version: "latest".to_owned(),
            address: "127.0.0.1:0".to_owned(),
            ttl: Duration::from_secs(30),
            interval: Duration::from_secs(10),
        }
    }

    /// The namespace of web services (`micro.web`, as `micro web --namespace`).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> WebService {
        self.namespace = namespace.into().trim_end_matches('.').to_owned();
        self
    }

    /// The version registered (`latest`).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> WebService {
        self.version = version.into();
        self
    }

    /// Where to listen (`127.0.0.1:0`). An address of every interface registers as
    /// 127.0.0.1: bind the address other hosts reach to be proxied from them.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> WebService {
        self.address = address.into();
        self
    }

    /// How long the registration lives without a refresh (30 s), and how often it is
    /// refreshed (10 s).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration, interval: Duration) -> WebService {
        // At least a second each: a zero interval would spin.
        self.ttl = ttl.max(Duration::from_secs(1));
        self.interval = interval.min(self.ttl).max(Duration::from_secs(1));
        self
    }

    /// The name it registers as.
    pub fn full_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.namespace, self.name)
        }
    }

    /// Serve `router` until `shutdown` completes: register, refresh the registration every
    /// interval, and deregister before returning.
    pub async fn serve(
        self,
        registry: SharedRegistry,
        router: axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> micro::Result<()> {
        let listener = tokio::net::TcpListener::bind(&self.address)
            .await
            .map_err(|e| {
                micro::Error::unavailable(
                    "micro.web",
                    format!(
                        "web service {} cannot listen on {}: {e}",
                        self.name, self.address
                    ),
                )
            })?;
        let local = listener
            .local_addr()
            .map_err(|e| micro::Error::internal("micro.web", e.to_string()))?;
        let mut advertised = local;
        if local.ip().is_unspecified() {
            advertised.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let node = Node::new(
            format!(
                "{}-{}",
                self.name,
                crate::guard::random_hex().get(..12).unwrap_or("0")
            ),
            advertised.to_string(),
        )
        .with_metadata("server", "web")
        .with_metadata("protocol", "http");
        let record = Service::new(self.full_name(), self.version.clone()).with_node(node);
        let mut options = RegisterOptions::default();
        options.ttl = Some(self.ttl);
        registry.register(&record, options).await?;
        let refresh = {
            let (registry, record, every) = (registry.clone(), record.clone(), self.interval);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(err) = registry.register(&record, options).await {
                        tracing::warn!(
                            "web service {} could not refresh its registration: {err}",
                            record.name
                        );
                    }
                }
            })
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        refresh.abort();
        let gone = registry.deregister(&record).await;
        served.map_err(|e| micro::Error::internal("micro.web", e.to_string()))?;
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_under_the_namespace() {
        assert_eq!(WebService::new("chat").full_name(), "micro.web.chat");
        assert_eq!(
            WebService::new("chat")
                .namespace("go.micro.web.")
                .full_name(),
            "go.micro.web.chat"
        );
        assert_eq!(WebService::new("chat").namespace("").full_name(), "chat");
    }
}
