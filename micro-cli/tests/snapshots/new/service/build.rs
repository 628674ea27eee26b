//! Generates the hello-world code from `proto/hello_world.proto` (pure Rust: no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/hello_world.proto"], &["proto"])?;
    Ok(())
}
