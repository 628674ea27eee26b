//! Generates the greeter code from `proto/greeter.proto` with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Pure Rust: no protoc needed.
    micro_gen::compile_protos(&["proto/greeter.proto"], &["proto"])?;
    Ok(())
}
