//! Proto3 JSON into any message of the fixture protos, through the descriptors (the first
//! byte picks the message), and back.
#![no_main]

use codegen_fixtures::fixtures::kitchen::Everything;
use micro::codec::Message;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    if let Some((descriptors, _)) = <Everything as Message>::descriptor() {
        micro_runtime::fuzzing::json_through(descriptors, pick, body);
    }
});
