//! `calculator-server`: the calculator service on micro's embedded defaults.

use example_calculator::{CalculatorHandler, CalculatorServer, SERVICE};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    let result = async {
        micro::Service::builder(SERVICE)
            .version("1.0.0")
            .handler(CalculatorServer::new(CalculatorHandler))
            .flags(std::env::args().skip(1))
            .build()?
            .run()
            .await
    }
    .await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("calculator-server: {}", e.detail());
            }
            std::process::ExitCode::from(2)
        }
    }
}
