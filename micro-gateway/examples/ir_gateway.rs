//! A gateway call loop for counting instructions per call (the CI regression gate in
//! `scripts/ir.sh` runs it under `valgrind --tool=callgrind`).
//!
//! One process, one current-thread runtime: an `echo` service on 127.0.0.1:0 (a raw
//! `Echo.Say` that answers the JSON it gets) and the gateway's router in front of it, called
//! `N` times with `POST /echo/say` and a small JSON body. The HTTP/1.1 connection of a real
//! client is left out (the router is called directly), so the count is the gateway's own
//! work: routing, resolving the endpoint, the native call to the service and the answer.
//!
//! ```text
//! cargo run --release -p micro-gateway --example ir_gateway -- 2000
//! ```

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use micro::registry::MemoryRegistry;
use micro::server::{Route, Router};
use tower::ServiceExt;

const BODY: &str = r#"{"text":"hello gateway"}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: u32 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1000".into())
        .parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let registry = MemoryRegistry::new();
        let running = micro::Service::builder("echo")
            .ignore_env()
            .registry(Arc::new(registry.clone()))
            .address("127.0.0.1:0")
            .shutdown_delay(Duration::ZERO)
            .handler(
                Router::new().route(Route::raw("Echo.Say", |_ctx, _format, body| async move {
                    Ok(body)
                })),
            )
            .build()?
            .start()
            .await?;
        let client = micro::Client::new(Arc::new(registry));
        let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
        gateway.refresh().await?;
        let app = gateway.router();
        let call = || {
            let app = app.clone();
            async move {
                let request = http::Request::post("/echo/say")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(BODY))?;
                let response = app.oneshot(request).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                if status != http::StatusCode::OK || body != BODY.as_bytes() {
                    return Err(format!(
                        "POST /echo/say answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    )
                    .into());
                }
                Ok::<_, Box<dyn std::error::Error>>(())
            }
        };
        // Connections, caches and buffers settle before the counted calls.
        for _ in 0..100 {
            call().await?;
        }
        for _ in 0..calls {
            call().await?;
        }
        running.stop().await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
