//! Generates every fixture package with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::configure()
        .include_file("fixtures.rs")
        .compile_protos(
            &[
                "proto/fixtures/kitchen.proto",
                "proto/fixtures/pantry.proto",
                "proto/nopackage.proto",
                "proto/keywords/keywords.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
