//! `calculator-client`: `add A B`, `divide A B` or `sum N...` against the calculator.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use example_calculator::{CalculatorClient, Number, Operands, SERVICE};

fn numbers(args: &[String]) -> Result<Vec<f64>, String> {
    args.iter()
        .map(|a| {
            a.parse::<f64>()
                .map_err(|_| format!("{a:?} is not a number"))
        })
        .collect()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    micro::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: calculator-client add A B | divide A B | sum N...";
    let Some((op, rest)) = args.split_first() else {
        eprintln!("{usage}");
        return std::process::ExitCode::from(2);
    };
    let values = match numbers(rest) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("calculator-client: {e}\n{usage}");
            return std::process::ExitCode::from(2);
        }
    };
    let client = match micro::Client::from_env() {
        Ok(c) => CalculatorClient::new(SERVICE, c),
        Err(e) => {
            eprintln!("calculator-client: {}", e.detail());
            return std::process::ExitCode::from(2);
        }
    };
    let result = match (op.as_str(), values.as_slice()) {
        ("add", [a, b]) => client.add(Operands { a: *a, b: *b }).await,
        ("divide", [a, b]) => client.divide(Operands { a: *a, b: *b }).await,
        ("sum", values) => {
            async {
                let mut call = client.sum().await?;
                for value in values {
                    call.send(&Number { value: *value }).await?;
                }
                call.finish().await
            }
            .await
        }
        _ => {
            eprintln!("{usage}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(answer) => {
            println!("{}", answer.result);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("calculator-client: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
