//! A Connect (or plain HTTP) unary request body, decoded as the server decodes it for a
//! generated message (the first byte picks JSON or protobuf), and encoded back.
#![no_main]

use codegen_fixtures::fixtures::kitchen::Everything;
use micro::codec::{Format, Message};
use micro::codegen::Bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let format = if first % 2 == 0 { Format::Json } else { Format::Proto };
    if let Ok(msg) = Everything::decode_as(format, Bytes::copy_from_slice(body)) {
        for out in [Format::Json, Format::Proto] {
            let mut buf = Vec::new();
            let _ = msg.encode_as(out, &mut buf);
        }
    }
});
