//! Generates the inventory code from `proto/inventory.proto` (pure Rust: no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/inventory.proto"], &["proto"])?;
    Ok(())
}
