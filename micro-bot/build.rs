//! Generates the `Command` service (`proto/micro/bot/bot.proto`) with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(&["proto/micro/bot/bot.proto"], &["proto"])?;
    Ok(())
}
