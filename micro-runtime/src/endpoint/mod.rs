//! Endpoints: [`Route`]s (a name, a typed handler, what the registry says about it), the
//! [`Router`] that collects them, and the compiled route table every transport serves.
//!
//! Handlers are plain async closures over typed messages; generated code (from `.proto`
//! files or `#[micro::service]` traits) builds these same routes. The public names live in
//! [`crate::server`].

mod handler;
mod route;
mod router;
mod shed;
mod table;

pub use handler::{HandlerRequest, HandlerResponse};
pub use route::{Route, describe, describe_with};
pub use router::{IntoRouter, Router};

pub(crate) use handler::{Input, Output, leaving, with_deadline};
pub(crate) use shed::Pass;
pub(crate) use table::{Dispatch, Limits, RouteTable};

const ID: &str = "micro.server";

/// A wrapper around endpoint handlers (go-micro's `HandlerWrapper`): see [`crate::middleware`].
///
/// ```
/// use micro::server::HandlerWrapper;
///
/// // Log every call with its endpoint, outcome and time taken.
/// let logging = HandlerWrapper::new(|req, next| async move {
///     let endpoint = req.endpoint().to_owned();
///     let started = std::time::Instant::now();
///     let rsp = next.call(req).await;
///     tracing::info!(%endpoint, ok = rsp.is_ok(), elapsed = ?started.elapsed(), "handled");
///     rsp
/// });
/// ```
pub type HandlerWrapper = crate::middleware::Wrapper<HandlerRequest, HandlerResponse>;

/// The rest of a handler chain, as a [`HandlerWrapper`] gets it.
pub type HandlerNext = crate::middleware::Next<HandlerRequest, HandlerResponse>;

/// The shape of an endpoint: how many messages go each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// One request, one response.
    Unary,
    /// A stream of requests, one response.
    ClientStream,
    /// One request, a stream of responses.
    ServerStream,
    /// Streams both ways.
    BidiStream,
}

impl StreamKind {
    /// The kind from which sides stream.
    pub const fn new(client_streams: bool, server_streams: bool) -> StreamKind {
        match (client_streams, server_streams) {
            (false, false) => StreamKind::Unary,
            (true, false) => StreamKind::ClientStream,
            (false, true) => StreamKind::ServerStream,
            (true, true) => StreamKind::BidiStream,
        }
    }

    /// The value of the `stream` endpoint metadata: `client`, `server`, `bidirectional`, or
    /// `None` for unary.
    pub const fn metadata_value(self) -> Option<&'static str> {
        match self {
            StreamKind::Unary => None,
            StreamKind::ClientStream => Some("client"),
            StreamKind::ServerStream => Some("server"),
            StreamKind::BidiStream => Some("bidirectional"),
        }
    }

    /// True when the request side is a stream.
    pub const fn client_streams(self) -> bool {
        matches!(self, StreamKind::ClientStream | StreamKind::BidiStream)
    }

    /// True when the response side is a stream.
    pub const fn server_streams(self) -> bool {
        matches!(self, StreamKind::ServerStream | StreamKind::BidiStream)
    }
}
