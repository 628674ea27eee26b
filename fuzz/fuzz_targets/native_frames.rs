//! A native connection's bytes after the preface, read as a server and a client read them.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    micro_runtime::fuzzing::native_stream(data);
});
