//! The same proto for micro (micro-gen) and tonic (tonic-prost-build from a protox-compiled
//! descriptor set: no protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micro_gen::configure()
        .bytes(".bench.Payload.data")
        .compile_protos(&["proto/bench.proto"], &["proto"])?;
    let fds = protox::compile(["proto/bench.proto"], ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("tonic");
    std::fs::create_dir_all(&out)?;
    tonic_prost_build::configure()
        .out_dir(&out)
        .bytes(".bench.Payload.data")
        .compile_fds(fds)?;
    Ok(())
}
