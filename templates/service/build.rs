//! Generates the {{ name }} code from `proto/{{ snake }}.proto` (pure Rust: no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/{{ snake }}.proto"], &["proto"])?;
    Ok(())
}
