//! The shop service and a gateway in one process, for schemathesis and benchmarks:
//! `gateway-demo [ADDR]` (default 127.0.0.1:0) prints the gateway's address, then serves until
//! interrupted or killed.

use gateway_tests::{registry, serve, start_shop};
use micro_gateway::{Gateway, Options};

#[tokio::main]
async fn main() {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    // A short deadline: Shop.Nap sleeps as long as it is asked to.
    let mut options = Options::default();
    options.call_timeout = std::time::Duration::from_secs(1);
    let gateway = Gateway::new(micro::Client::new(registry.clone()), options);
    gateway.refresh().await.expect("load the routes");
    let running = if address == "127.0.0.1:0" {
        serve(gateway).await
    } else {
        gateway_tests::serve_on(gateway, &address).await
    };
    #[allow(clippy::print_stdout)]
    {
        println!("{}", running.addr);
    }
    let _ = tokio::signal::ctrl_c().await;
}
