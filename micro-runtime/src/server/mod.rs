//! The server side: endpoints ([`Route`], [`Router`]) and the server that serves them on a
//! transport.
//!
//! Handlers are plain async closures over typed messages; generated code (from `.proto`
//! files or `#[micro::service]` traits) builds these same routes.
//!
//! ```
//! use micro::server::{Route, Router};
//! use micro::stream::StreamSender;
//!
//! #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! struct Count { #[prost(uint32, tag = "1")] #[serde(default)] n: u32 }
//! impl micro::codec::ProstSerde for Count {}
//!
//! let router = Router::new()
//!     .route(Route::unary("Counter.Double", |_ctx, c: Count| async move {
//!         Ok(Count { n: c.n * 2 })
//!     }))
//!     .route(Route::server_stream("Counter.Upto", |_ctx, c: Count, tx: StreamSender<Count>| async move {
//!         for n in 0..c.n {
//!             tx.send(&Count { n }).await?;
//!         }
//!         Ok(())
//!     }));
//! ```

//!
//! Handler wrappers ([`HandlerWrapper`], or any `tower::Layer`) run around endpoints: per
//! route with [`Route::wrap`] and [`Route::layer`], for every endpoint of a service with
//! `ServiceBuilder::wrap` and `ServiceBuilder::layer` (see [`crate::middleware`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::endpoint::Dispatch;
use crate::transport::{Acceptor, Listener};

pub use crate::endpoint::{
    HandlerNext, HandlerRequest, HandlerResponse, HandlerWrapper, IntoRouter, Route, Router,
    StreamKind,
};

/// A server accepting connections in the background.
#[derive(Debug)]
pub(crate) struct ServerHandle {
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// Stop accepting, let open calls finish within the grace period, then close everything.
    pub(crate) async fn stop(self) {
        self.shutdown.send_replace(true);
        let _ = self.task.await;
    }
}

/// Serve `dispatch` on the connections of `listener`, each handed to `acceptor`. On stop,
/// open calls get `grace` to finish.
pub(crate) fn start(
    listener: Listener,
    acceptor: Arc<dyn Acceptor>,
    dispatch: Arc<Dispatch>,
    grace: Duration,
) -> ServerHandle {
    let (shutdown, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, acceptor, dispatch, rx, grace));
    ServerHandle { shutdown, task }
}

async fn accept_loop(
    mut listener: Listener,
    acceptor: Arc<dyn Acceptor>,
    dispatch: Arc<Dispatch>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut conns = JoinSet::new();
    let max = dispatch.limits.max_connections;
    let mut refused_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((io, peer)) if conns.len() >= max => {
                    // Over the cap: close at once (the caller sees a reset and tries
                    // another node) rather than take on more than the server can hold.
                    drop(io);
                    let now = tokio::time::Instant::now();
                    if refused_at.is_none_or(|at| now - at >= Duration::from_secs(10)) {
                        refused_at = Some(now);
                        tracing::warn!(?peer, max, "connection limit reached; closing new connections");
                    }
                }
                Ok((io, peer)) => {
                    conns.spawn(acceptor.serve(io, peer, dispatch.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Never stop accepting because one accept failed (too many open files,
                    // a connection reset before accept ...): wait a little and go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            remaining = conns.len(),
            grace = ?grace,
            "calls still running after the grace period; closing their connections"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}
