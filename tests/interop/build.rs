//! Generates the interop service with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/grpc/testing/test.proto"], &["proto"])?;
    Ok(())
}
