//! Commands served by services: `NAMESPACE.NAME` serving `Command.Help` and `Command.Exec`
//! is the command `NAME`, looked up in the registry each time it is asked for.

use std::time::Duration;

use micro::Context;
use micro::client::CallOptions;

use crate::Bot;
use crate::command::Words;
use crate::proto::{ExecRequest, ExecResponse, HelpRequest, HelpResponse};

/// How long `help` waits for each command service's own help.
const HELP_TIMEOUT: Duration = Duration::from_secs(3);

/// The service that serves command `name`.
fn service(bot: &Bot, name: &str) -> String {
    format!("{}.{name}", bot.options.namespace)
}

/// Run `words` as the command service of its verb, or say there is no such command.
pub(crate) async fn run(bot: &Bot, words: &Words) -> String {
    let verb = words.verb();
    // A command name is one plain registry segment: `micro.bot.a.b` is not the command `a`.
    if !command_name(&verb) {
        return unknown(&verb);
    }
    let service = service(bot, &verb);
    let opts = CallOptions::new().timeout(bot.options.call_timeout);
    let request = ExecRequest {
        args: words.all().to_vec(),
    };
    match bot
        .client
        .call_with::<_, ExecResponse>(&Context::new(), &service, "Command.Exec", &request, &opts)
        .await
    {
        Ok(rsp) if !rsp.error.is_empty() => format!("{verb}: {}", rsp.error),
        Ok(rsp) => String::from_utf8_lossy(&rsp.result).into_owned(),
        // Not registered: not a command (a registered service that is down says so).
        // The client found no such service (a command service's own 404 is its answer).
        Err(e) if e.code() == 404 && e.dependency() == Some(service.as_str()) => unknown(&verb),
        Err(e) => format!("{verb} failed: {} ({})", e.detail(), e.status()),
    }
}

/// Whether `name` can be a command: letters, digits, `-` and `_`, at most 64 of them.
pub(crate) fn command_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn unknown(verb: &str) -> String {
    format!("I don't know `{verb}`: say `help` to see what I can do")
}

/// Usage and description of every command service in the namespace, by name.
pub(crate) async fn help(bot: &Bot) -> Vec<(String, String)> {
    let Ok(services) = bot.client.selector().registry().list_services().await else {
        return Vec::new();
    };
    let prefix = format!("{}.", bot.options.namespace);
    let mut names: Vec<String> = services
        .into_iter()
        .filter_map(|s| s.name.strip_prefix(&prefix).map(str::to_owned))
        .filter(|name| command_name(name))
        .collect();
    names.sort();
    names.dedup();
    let asks = names.iter().map(|name| async move {
        let opts = CallOptions::new().timeout(HELP_TIMEOUT);
        let rsp = bot
            .client
            .call_with::<_, HelpResponse>(
                &Context::new(),
                &service(bot, name),
                "Command.Help",
                &HelpRequest {},
                &opts,
            )
            .await;
        match rsp {
            Ok(rsp) => (
                if rsp.usage.is_empty() {
                    name.clone()
                } else {
                    rsp.usage
                },
                rsp.description,
            ),
            Err(e) => (name.clone(), format!("(no help: {})", e.detail())),
        }
    });
    futures_util::future::join_all(asks).await
}

#[cfg(test)]
mod tests {
    use super::command_name;

    #[test]
    fn command_names_are_plain_words() {
        for good in ["greet", "deploy-status", "db_2"] {
            assert!(command_name(good), "{good}");
        }
        for bad in ["", "a.b", "a/b", "naïve", "x y", &"x".repeat(65)] {
            assert!(!command_name(bad), "{bad}");
        }
    }
}
