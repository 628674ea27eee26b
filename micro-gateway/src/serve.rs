//! The listener loop: HTTP/1.1 and HTTP/2 (with upgrades for websockets), optional TLS,
//! limits on the request head and the time to send it, and a graceful stop.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::Gateway;
use crate::handlers::ConnInfo;
use crate::tls::TlsAcceptor;

/// How long a stop waits for requests in flight.
const GRACE: Duration = Duration::from_secs(10);

pub(crate) async fn serve(
    gw: Gateway,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> micro::Result<()> {
    let options = gw.options().clone();
    serve_router(gw.router(), &options, listener, tls, shutdown).await
}

/// Serve `router` on `listener` the way the gateway serves itself: HTTP/1.1 and HTTP/2 with
/// upgrades, optional TLS, the limits of `options` (`read_timeout`, `max_header`), and a
/// graceful stop when `shutdown` completes (requests in flight get 10 s). For routers that
/// mount the gateway beside other routes (the dashboard).
pub async fn serve_router(
    router: axum::Router,
    options: &crate::Options,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> micro::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.read_timeout)
        .max_buf_size(options.max_header.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_header_list_size(u32::try_from(options.max_header).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: wait, then accept again.
                    tracing::warn!("the gateway could not accept a connection: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let info = ConnInfo {
            peer,
            tls: tls.is_some(),
        };
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(info);
                req
            },
        ));
        let builder = builder.clone();
        match &tls {
            None => {
                let watcher = graceful.watcher();
                let first = options.read_timeout;
                tokio::spawn(async move {
                    // A connection that sends nothing is closed after the read timeout
                    // (hyper's own timeout starts with the first byte).
                    let mut byte = [0u8; 1];
                    if !matches!(
                        tokio::time::timeout(first, stream.peek(&mut byte)).await,
                        Ok(Ok(1..))
                    ) {
                        return;
                    }
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                let handshake = options.read_timeout;
                tokio::spawn(async move {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    Ok(())
}
