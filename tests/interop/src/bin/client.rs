//! `interop-client ADDRESS DIRECTION`: runs every case from micro against the server at
//! ADDRESS and prints `RESULT DIRECTION <case> PASS|FAIL <detail>`. TLS comes from
//! `MICRO_TLS_*`.

#![allow(clippy::print_stdout)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, direction] = args.as_slice() else {
        println!("usage: interop-client ADDRESS DIRECTION");
        return std::process::ExitCode::from(2);
    };
    // TLS (and any other client setting) from MICRO_TLS_* and the rest of MICRO_*.
    let options = match micro::options::Settings::from_env().and_then(|s| s.client_options()) {
        Ok(options) => options,
        Err(e) => {
            println!("RESULT {direction} settings FAIL {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let registry = std::sync::Arc::new(micro::registry::MemoryRegistry::new());
    let cases =
        interop::Cases::with_client(address, micro::Client::with_options(registry, options));
    let mut failed = 0;
    for name in interop::Cases::NAMES {
        match cases.run(name).await {
            Ok(()) => println!("RESULT {direction} {name} PASS"),
            Err(detail) => {
                failed += 1;
                println!("RESULT {direction} {name} FAIL {detail}");
            }
        }
    }
    if failed > 0 {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
