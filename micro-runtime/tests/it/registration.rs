//! A running service whose registry fails: health's `micro.registry` turns `NOT_SERVING`
//! while registering fails and `SERVING` again once it succeeds; calls go on throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use micro_runtime::Context;
use micro_runtime::client::CallOptions;
use micro_runtime::error::{Error, Result};
use micro_runtime::health::{
    HealthCheckRequest, HealthCheckResponse, PACKAGE, REGISTRY, ServingStatus,
};
use micro_runtime::registry::{
    BoxFuture, MemoryRegistry, RegisterOptions, Registry, Service, WatchOptions, Watcher,
};

use crate::support::{self, Counter};

/// A memory registry whose `register` fails while `down` is set (an etcd that went away).
#[derive(Debug, Clone)]
struct Flaky {
    inner: MemoryRegistry,
    down: Arc<AtomicBool>,
}

impl Registry for Flaky {
    fn register<'a>(&'a self, s: &'a Service, o: RegisterOptions) -> BoxFuture<'a, Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(Error::unavailable("micro.registry", "registry down")) });
        }
        self.inner.register(s, o)
    }
    fn deregister<'a>(&'a self, s: &'a Service) -> BoxFuture<'a, Result<()>> {
        self.inner.deregister(s)
    }
    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        self.inner.get_service(name)
    }
    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        self.inner.list_services()
    }
    fn watch(&self, o: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        self.inner.watch(o)
    }
    fn name(&self) -> &'static str {
        "flaky"
    }
}

#[tokio::test]
async fn registry_readiness_follows_registration() {
    let memory = MemoryRegistry::new();
    let flaky = Flaky {
        inner: memory.clone(),
        down: Arc::new(AtomicBool::new(false)),
    };
    let node = support::builder(&memory, "echo")
        .registry(Arc::new(flaky.clone()))
        .register_ttl(Duration::from_secs(2))
        .register_interval(Duration::from_millis(100))
        .handler(support::echo_router("a", Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&memory);
    let opts = CallOptions::new()
        .address(node.node().address.clone())
        .package(PACKAGE);
    let status = |service: &'static str| {
        let client = client.clone();
        let opts = opts.clone();
        async move {
            let request = HealthCheckRequest {
                service: service.to_owned(),
            };
            client
                .call_with::<_, HealthCheckResponse>(
                    &Context::new(),
                    "echo",
                    "Health.Check",
                    &request,
                    &opts,
                )
                .await
                .unwrap()
                .status()
        }
    };
    let wait_for = |want: ServingStatus| async move {
        for _ in 0..200 {
            if status(REGISTRY).await == want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    };
    assert_eq!(status(REGISTRY).await, ServingStatus::Serving);
    flaky.down.store(true, Ordering::SeqCst);
    assert!(
        wait_for(ServingStatus::NotServing).await,
        "micro.registry stayed SERVING"
    );
    // The server itself still serves: liveness is unaffected.
    assert_eq!(status("").await, ServingStatus::Serving);
    flaky.down.store(false, Ordering::SeqCst);
    assert!(
        wait_for(ServingStatus::Serving).await,
        "micro.registry did not recover"
    );
    node.stop().await.unwrap();
}
