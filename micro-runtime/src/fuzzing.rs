//! Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`). Each takes
//! arbitrary bytes through a path that reads what a peer sends, exactly as the runtime reads
//! it; the fuzzer looks for panics, hangs and runaway allocation. Not a stable API.

use bytes::Bytes;

use crate::context::Metadata;
use crate::transport::native::{self, FrameHeader, Read, Reader};
use crate::wire::frame::Decoder;

/// The largest message the targets accept, as a server's default.
const MAX: usize = crate::wire::DEFAULT_MAX_MESSAGE_SIZE;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("a runtime for the fuzz target: {e}"))
    })
}

/// A native connection's byte stream, after the preface: split into frames (over-limit
/// frames skipped), each frame parsed as the server and the client parse it.
pub fn native_stream(data: &[u8]) {
    runtime().block_on(async {
        let mut reader = Reader::new(data, MAX + 64 * 1024).heads_up_to(11 + 65_535 + 16_384);
        let mut messages = Decoder::new(MAX, "fuzz", "message");
        loop {
            match reader.next().await {
                Read::Frame(head, payload) => frame(head, payload, &mut messages),
                Read::TooLarge(_) => {}
                Read::Closed => break,
            }
        }
        let _ = messages.finish();
    });
}

fn frame(head: FrameHeader, payload: Bytes, messages: &mut Decoder) {
    match head.kind {
        native::kind::HEADERS => {
            // As a server reads a request head, and as a client reads response metadata.
            if let Ok(parsed) = native::Head::parse(payload.clone()) {
                let mut md = Metadata::new();
                let _ = native::read_metadata(&parsed.pairs, &mut md);
                let _ = parsed.path();
            }
            let _ = native::read_headers(&payload);
        }
        native::kind::DATA => {
            messages.push(payload);
            while let Ok(Some(_)) = messages.next() {}
        }
        native::kind::TRAILERS => {
            if let Ok(map) = native::read_headers(&payload) {
                let _ = crate::wire::status::status_from_headers(&map);
            }
        }
        native::kind::CREDIT => {
            let _ = native::credit_of(&payload);
        }
        _ => {}
    }
}

/// A gRPC request body: length-prefixed messages arriving in chunks whose sizes the first
/// bytes choose.
pub fn grpc_messages(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut decoder = Decoder::new(MAX, "fuzz", "message");
    for part in rest.chunks(chunk) {
        decoder.push(Bytes::copy_from_slice(part));
        loop {
            match decoder.next() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = decoder.finish();
}

/// Registry records as the registries read them off the network or the disk: a service
/// record in go-micro's JSON (etcd values, NATS KV values, the local registry's entries), an
/// etcd watch line, and an mDNS packet.
pub fn registry_record(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::registry::Service>(data);
    crate::registry::fuzz_decoders(data);
}

/// JSON into one of the messages `descriptors` describe (the `pick`-th), through the
/// descriptors as generated code decodes it, and back to JSON when it decoded.
pub fn json_through(descriptors: &crate::codec::reflect::Descriptors, pick: u8, data: &[u8]) {
    let Ok(pool) = descriptors.pool() else {
        return;
    };
    let all: Vec<_> = pool.all_messages().collect();
    if all.is_empty() {
        return;
    }
    let desc = all[usize::from(pick) % all.len()].clone();
    if let Ok(msg) = crate::codec::reflect::read_json(desc, data) {
        let mut out = Vec::new();
        let _ = crate::codec::reflect::write_json(&msg, &mut out);
    }
}
