//! A gRPC body's length-prefixed messages, arriving in chunks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    micro_runtime::fuzzing::grpc_messages(data);
});
