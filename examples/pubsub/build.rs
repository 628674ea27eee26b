//! Generates the event types from `proto/orders.proto` with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/orders.proto"], &["proto"])?;
    Ok(())
}
