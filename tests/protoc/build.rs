//! Plain prost-build messages for the greeter, so the `services_only` output of
//! protoc-gen-micro can be compiled next to another message generator's output.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(["greeter.proto"], ["../../examples/greeter/proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    println!("cargo:rerun-if-changed=../../examples/greeter/proto/greeter.proto");
    Ok(())
}
