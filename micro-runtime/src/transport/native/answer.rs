//! Writing a call's answer on a native connection: response metadata, the message or the
//! stream of messages within the stream's credit, and the trailers.

use bytes::Bytes;
use tokio::sync::mpsc;

use super::{Credit, Writer, kind};
use crate::context::SharedResponse;
use crate::wire::body::{AbortOnDrop, coalesce};
use crate::wire::status;

/// Response metadata, when the handler set any.
pub(super) fn head_frame(f: &mut super::Frames<'_>, id: u32, response: &SharedResponse) {
    let r = response.lock().unwrap_or_else(|e| e.into_inner());
    if !r.headers.is_empty() {
        f.build(kind::HEADERS, 0, id, |b| super::put_metadata(b, &r.headers));
    }
}

/// Trailers of a successful unary call: empty when the handler set none.
pub(super) fn ok_trailers(f: &mut super::Frames<'_>, id: u32, response: &SharedResponse) {
    let r = response.lock().unwrap_or_else(|e| e.into_inner());
    if r.trailers.is_empty() {
        f.empty(kind::TRAILERS, 0, id);
    } else {
        f.build(kind::TRAILERS, 0, id, |b| {
            super::put_pair(b, b"grpc-status", b"0");
            super::put_metadata(b, &r.trailers);
        });
    }
}

/// Send a streaming handler's frames as they come, within the stream's credit.
pub(super) async fn pump(
    writer: &Writer,
    id: u32,
    mut rx: mpsc::Receiver<http_body::Frame<Bytes>>,
    task: AbortOnDrop,
    response: &SharedResponse,
    credit: &Credit,
) {
    let mut first = true;
    let mut next: Option<http_body::Frame<Bytes>> = None;
    loop {
        let frame = match next.take() {
            Some(frame) => frame,
            None => match rx.recv().await {
                Some(frame) => frame,
                None => break,
            },
        };
        match frame.into_data() {
            Ok(data) => {
                let data = coalesce(data, &mut rx, &mut next);
                if !credit.take(data.len()).await {
                    break;
                }
                let head = std::mem::take(&mut first);
                writer.with(|f| {
                    if head {
                        head_frame(f, id, response);
                    }
                    f.frame(kind::DATA, 0, id, data);
                });
            }
            Err(frame) => {
                let trailers = frame.into_trailers().unwrap_or_default();
                let ok_only = trailers.len() == 1
                    && trailers
                        .get(status::GRPC_STATUS)
                        .is_some_and(|v| v.as_bytes() == b"0");
                let head = first;
                writer.with(|f| {
                    if head {
                        head_frame(f, id, response);
                    }
                    if ok_only {
                        f.empty(kind::TRAILERS, 0, id);
                    } else {
                        f.build(kind::TRAILERS, 0, id, |b| super::put_headers(b, &trailers));
                    }
                });
                break;
            }
        }
    }
    drop(task);
}
