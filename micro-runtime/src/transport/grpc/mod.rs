//! gRPC over HTTP/2, the standard wire: any gRPC client can call a micro service and micro
//! clients call any gRPC server. The server side also answers the Connect protocol's unary
//! calls (JSON or protobuf over HTTP/1.1 or HTTP/2, so `curl` works) on the same port.

mod client;
mod connect;
mod server;

use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as _, Frame};

use crate::error::{Error, Failure, Result};
use crate::wire::recv::{FrameSource, Side};

pub(crate) use client::GrpcConnector;
pub(crate) use server::GrpcAcceptor;

/// A received HTTP/2 (or HTTP/1.1) body as frames.
#[derive(Debug)]
pub(crate) struct HttpBody {
    body: hyper::body::Incoming,
    side: Side,
}

impl HttpBody {
    pub(crate) fn new(body: hyper::body::Incoming, side: Side) -> HttpBody {
        HttpBody { body, side }
    }
}

impl FrameSource for HttpBody {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        std::pin::Pin::new(&mut self.body)
            .poll_frame(cx)
            .map(|frame| frame.map(|r| r.map_err(|e| body_error(self.side, &e))))
    }
}

/// The HTTP/2 reason a connection or stream failed with, if that is what failed.
pub(crate) fn reason_of(e: &hyper::Error) -> Option<h2::Reason> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            return h2.reason();
        }
        source = s.source();
    }
    None
}

fn body_error(side: Side, e: &hyper::Error) -> Error {
    match side {
        Side::Server => Error::cancelled(
            "micro.server",
            format!("the caller cancelled the call: {e}"),
        ),
        Side::Client => {
            if reason_of(e) == Some(h2::Reason::CANCEL) {
                Error::cancelled("micro.client", "the server cancelled the call")
            } else {
                Error::unavailable(
                    "micro.client",
                    format!("connection lost while reading the response: {e}"),
                )
                .with_failure(Failure::AfterSend)
            }
        }
    }
}
