//! `micro health SERVICE`: `grpc.health.v1.Health/Check` on every node, and whether the node
//! is registered (its `micro.registry` readiness: `yes`, `no`, or `-` for servers that do not
//! report it).

use micro::Context;
use micro::client::CallOptions;
use micro::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, REGISTRY, ServingStatus};

use crate::cli::{Global, HealthArgs, Output};
use crate::commands::CliError;
use crate::output;

pub(crate) async fn exec(
    global: &Global,
    client: &micro::Client,
    args: &HealthArgs,
) -> Result<(), CliError> {
    let services = client
        .selector()
        .registry()
        .get_service(&args.service)
        .await
        .map_err(|e| CliError::lookup(&e, &args.service))?;
    let mut rows = Vec::new();
    let mut json = Vec::new();
    let mut unhealthy = 0;
    for svc in &services {
        for node in &svc.nodes {
            let opts = CallOptions::new()
                .address(node.address.clone())
                .package(PACKAGE)
                .timeout(args.timeout);
            let check = |name: &str| {
                let req = HealthCheckRequest {
                    service: name.to_owned(),
                };
                let opts = opts.clone();
                async move {
                    client
                        .call_with::<_, HealthCheckResponse>(
                            &Context::new(),
                            &args.service,
                            "Health.Check",
                            &req,
                            &opts,
                        )
                        .await
                }
            };
            let result = check(&args.service).await;
            let registered = match &result {
                Ok(_) => match check(REGISTRY).await {
                    Ok(rsp) => Some(rsp.status() == ServingStatus::Serving),
                    Err(_) => None,
                },
                Err(_) => None,
            };
            let status = match &result {
                Ok(rsp) => rsp.status().as_str_name().to_owned(),
                Err(e) => format!("ERROR: {}", e.detail()),
            };
            if !matches!(&result, Ok(r) if r.status() == ServingStatus::Serving) {
                unhealthy += 1;
            }
            json.push(serde_json::json!({
                "id": node.id, "address": node.address, "version": svc.version, "status": status,
                "registered": registered,
            }));
            rows.push(vec![
                node.id.clone(),
                node.address.clone(),
                svc.version.clone(),
                status,
                match registered {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                }
                .to_owned(),
            ]);
        }
    }
    match global.output {
        Output::Json => output::print(
            &serde_json::to_string_pretty(&json).map_err(|e| CliError::internal(e.to_string()))?,
        ),
        Output::Text => output::print(&output::table(
            &["NODE", "ADDRESS", "VERSION", "STATUS", "REGISTERED"],
            &rows,
        )),
    }
    if unhealthy > 0 {
        return Err(CliError::internal(format!(
            "{unhealthy} node(s) of {} are not serving",
            args.service
        )));
    }
    Ok(())
}
