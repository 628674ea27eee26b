//! `micro services` (and `micro list services`).

use crate::cli::{Global, Output};
use crate::commands::CliError;
use crate::output;

pub(crate) async fn exec(global: &Global, client: &micro::Client) -> Result<(), CliError> {
    let services = client
        .selector()
        .registry()
        .list_services()
        .await
        .map_err(|e| CliError::registry(&e))?;
    // The http broker's subscription records are plumbing: `micro describe
    // micro.http.broker` shows them.
    let mut names: Vec<String> = services
        .into_iter()
        .map(|s| s.name)
        .filter(|n| n != micro::broker::HTTP_BROKER_SERVICE)
        .collect();
    names.sort();
    names.dedup();
    match global.output {
        Output::Json => output::print(
            &serde_json::to_string_pretty(&names).map_err(|e| CliError::internal(e.to_string()))?,
        ),
        Output::Text if names.is_empty() => output::note("no services registered"),
        Output::Text => output::print(&names.join("\n")),
    }
    Ok(())
}
