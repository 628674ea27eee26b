//! `interop-client ADDRESS DIRECTION`: runs every case from micro against the server at
//! ADDRESS and prints `RESULT DIRECTION <case> PASS|FAIL <detail>`.

#![allow(clippy::print_stdout)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, direction] = args.as_slice() else {
        println!("usage: interop-client ADDRESS DIRECTION");
        return std::process::ExitCode::from(2);
    };
    let cases = interop::Cases::new(address);
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
