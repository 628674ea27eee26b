//! `micro register service JSON` and `micro deregister service JSON`.

use std::io::{IsTerminal, Read};

use micro::registry::{RegisterOptions, Service};

use crate::cli::{Global, Output};
use crate::commands::{CliError, options};
use crate::output;

const EXAMPLE: &str = r#"micro register service '{"name":"legacy","version":"1.0.0","nodes":[{"id":"legacy-1","address":"10.0.0.7:8080"}]}'"#;

/// One record or a list of them (as `micro describe -o json` prints).
fn parse(text: &str) -> Result<Vec<Service>, CliError> {
    Service::parse_records(text)
        .map_err(|e| CliError::usage(e.detail(), Some(format!("e.g. {EXAMPLE}"))))
}

pub(crate) async fn exec(
    global: &Global,
    json: Option<String>,
    register: bool,
) -> Result<(), CliError> {
    let text = match json {
        Some(text) => text,
        None if std::io::stdin().is_terminal() => {
            return Err(CliError::usage(
                "no service given",
                Some(format!("e.g. {EXAMPLE}")),
            ));
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}"), None))?;
            text
        }
    };
    let services = parse(&text)?;
    let registry = options(global)?
        .registry()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    for svc in services {
        let result = if register {
            // No TTL: the entry stays until `micro deregister`.
            registry.register(&svc, RegisterOptions::default()).await
        } else {
            registry.deregister(&svc).await
        };
        result.map_err(|e| CliError::registry(&e))?;
        let nodes: Vec<&str> = svc.nodes.iter().map(|n| n.id.as_str()).collect();
        match global.output {
            Output::Json => output::print(
                &serde_json::json!({
                    "action": if register { "registered" } else { "deregistered" },
                    "service": svc.name,
                    "nodes": nodes,
                })
                .to_string(),
            ),
            Output::Text => output::print(&format!(
                "{} {} {} ({})",
                if register {
                    "registered"
                } else {
                    "deregistered"
                },
                svc.name,
                svc.version,
                nodes.join(", ")
            )),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_checked() {
        assert!(parse(r#"{"name":"a","nodes":[{"id":"a-1","address":"h:1"}]}"#).is_ok());
        assert!(parse(r#"[{"name":"a","nodes":[{"id":"a-1","address":"h:1"}]}]"#).is_ok());
        for (bad, why) in [
            ("{", "not valid JSON"),
            ("[]", "no service"),
            (r#"{"name":"a"}"#, "has no nodes"),
            (
                r#"{"name":"","nodes":[{"id":"x","address":"h:1"}]}"#,
                "has no name",
            ),
            (
                r#"{"name":"a","nodes":[{"id":"","address":"h:1"}]}"#,
                "needs an id",
            ),
            (r#"{"name":7}"#, "not a service record"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.message.contains(why), "{bad}: {}", err.message);
            assert_eq!(err.exit_code, 2);
        }
    }
}
