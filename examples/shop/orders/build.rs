//! Generates the orders code from `proto/orders.proto` (pure Rust: no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/orders.proto"], &["proto"])?;
    Ok(())
}
