//! Generates the test service with micro-gen.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::compile_protos(
        &[
            "proto/shop.proto",
            "proto/users/v1/users.proto",
            "proto/conformance/v1/cases.proto",
            "proto/conformance/v1/legacy.proto",
        ],
        &["proto"],
    )?;
    Ok(())
}
