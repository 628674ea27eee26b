//! Registry records from the network and the disk: go-micro JSON, etcd watch lines, NATS KV
//! entries, local registry files, mDNS packets.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    micro_runtime::fuzzing::registry_record(data);
});
