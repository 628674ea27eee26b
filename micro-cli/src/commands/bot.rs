//! `micro bot`: the chat bot on the inputs asked for, over the CLI's client (the token of
//! MICRO_AUTH_TOKEN or `micro login` goes with its calls).

use std::collections::BTreeSet;
use std::sync::Arc;

use micro_bot::{Bot, Input, Options};

use crate::cli::{BotArgs, BotInput, Global, Guarded};
use crate::commands::api::stopped;
use crate::commands::{CliError, client};
use crate::output;

pub(crate) async fn exec(global: &Global, args: BotArgs) -> Result<(), CliError> {
    let mut options = Options::default();
    options.namespace = args.namespace.trim_end_matches('.').to_owned();
    if options.namespace.is_empty() {
        return Err(CliError::usage(
            "the bot namespace is empty",
            Some("e.g. --namespace micro.bot".into()),
        ));
    }
    options.enabled = args
        .enable
        .iter()
        .map(|g| match g {
            Guarded::Call => "call",
            Guarded::Register => "register",
            Guarded::Deregister => "deregister",
        })
        .map(str::to_owned)
        .collect();
    options.call_timeout = args.call_timeout;
    for rule in &args.allow {
        let (input, commands) = allow_rule("--allow", rule)?;
        options.allow.entry(input).or_default().extend(commands);
    }
    for rule in &args.allow_senders {
        let (input, senders) = allow_rule("--allow-senders", rule)?;
        options.senders.entry(input).or_default().extend(senders);
    }
    let mut inputs: Vec<Box<dyn Input>> = Vec::new();
    let mut said = Vec::new();
    let mut seen = BTreeSet::new();
    for input in &args.inputs {
        if !seen.insert(*input) {
            continue;
        }
        let (boxed, what) = build(*input, &args)?;
        inputs.push(boxed);
        said.push(what);
    }
    for (flag, input) in options
        .allow
        .keys()
        .map(|i| ("--allow", i))
        .chain(options.senders.keys().map(|i| ("--allow-senders", i)))
    {
        if !inputs.iter().any(|i| i.name() == input) {
            return Err(CliError::usage(
                format!("{flag} names {input}, which is not among the inputs"),
                Some(format!("add it: --inputs {input},...")),
            ));
        }
    }
    let bot = Arc::new(Bot::new(client(global)?, options));
    output::note(&format!(
        "micro bot on {}; commands from services named {}.NAME; Ctrl-C stops it",
        said.join(", "),
        bot.options().namespace
    ));
    // What stops the bot here is a chat server's refusal or a setting only a server could
    // judge: a failure at run time (exit 1), not a usage error.
    micro_bot::serve(bot, inputs, stopped())
        .await
        .map_err(|e| CliError::internal(e.detail()))
}

/// `slack=help,list,health` → (`slack`, {help, list, health}); commands in lower case,
/// senders as given (Slack ids are upper case).
fn allow_rule(flag: &str, rule: &str) -> Result<(String, BTreeSet<String>), CliError> {
    let commands = flag == "--allow";
    let hint = || {
        Some(if commands {
            "e.g. --allow 'slack=help,list,health'".to_owned()
        } else {
            "e.g. --allow-senders 'irc=alice,bob' --allow-senders 'slack=U0123ABCD'".to_owned()
        })
    };
    let Some((input, names)) = rule.split_once('=') else {
        return Err(CliError::usage(
            format!("{flag} {rule:?} names no input: INPUT=NAME,NAME"),
            hint(),
        ));
    };
    let input = input.trim().to_lowercase();
    if !["irc", "xmpp", "slack"].contains(&input.as_str()) {
        return Err(CliError::usage(
            format!("{flag} names the input {input:?}: irc, xmpp or slack"),
            hint(),
        ));
    }
    let names: BTreeSet<String> = names
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            if commands {
                c.to_lowercase()
            } else {
                c.to_owned()
            }
        })
        .collect();
    if names.is_empty() {
        return Err(CliError::usage(
            format!("{flag} {rule:?} names nothing to allow"),
            hint(),
        ));
    }
    Ok((input, names))
}

fn build(input: BotInput, args: &BotArgs) -> Result<(Box<dyn Input>, String), CliError> {
    let bad = |e: micro::Error, hint: &str| CliError::usage(e.detail(), Some(hint.to_owned()));
    match input {
        BotInput::Irc => {
            let irc = &args.irc;
            let mut options = micro_bot::irc::IrcOptions::default();
            options.address = irc.irc_address.clone();
            options.tls = irc.irc_tls;
            options.ca_file = args.ca_file.clone();
            options.nick = irc.irc_nick.clone();
            options.password = irc.irc_password.clone();
            options.channels = irc.irc_channels.clone();
            let what = format!(
                "irc ({} as {}{})",
                options.address,
                options.nick,
                if options.channels.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", options.channels.join(" "))
                }
            );
            let irc = micro_bot::irc::Irc::new(options)
                .map_err(|e| bad(e, "see micro bot --help, IRC"))?;
            Ok((Box::new(irc), what))
        }
        BotInput::Xmpp => {
            let xmpp = &args.xmpp;
            let Some(jid) = &xmpp.xmpp_jid else {
                return Err(CliError::usage(
                    "the xmpp input needs the bot's account",
                    Some("--xmpp-jid micro@example.com (or MICRO_BOT_XMPP_JID)".into()),
                ));
            };
            let Some(password) = &xmpp.xmpp_password else {
                return Err(CliError::usage(
                    format!("the xmpp input needs the password of {jid}"),
                    Some("set MICRO_BOT_XMPP_PASSWORD".into()),
                ));
            };
            let mut options = micro_bot::xmpp::XmppOptions::default();
            options.jid = jid.clone();
            options.password = password.clone();
            options.address = xmpp.xmpp_address.clone();
            options.no_tls = xmpp.xmpp_no_tls;
            options.ca_file = args.ca_file.clone();
            options.rooms = xmpp.xmpp_rooms.clone();
            options.nick = xmpp.xmpp_nick.clone();
            if options.no_tls {
                output::note(
                    "xmpp without TLS: the password and every message cross the network in plain text",
                );
            }
            let what = format!("xmpp (as {jid})");
            let xmpp = micro_bot::xmpp::Xmpp::new(options)
                .map_err(|e| bad(e, "see micro bot --help, XMPP"))?;
            Ok((Box::new(xmpp), what))
        }
        BotInput::Slack => {
            let slack = &args.slack;
            let (Some(bot_token), Some(app_token)) =
                (&slack.slack_bot_token, &slack.slack_app_token)
            else {
                return Err(CliError::usage(
                    "the slack input needs the app's bot token and its app-level token",
                    Some("set MICRO_BOT_SLACK_BOT_TOKEN (xoxb-…) and MICRO_BOT_SLACK_APP_TOKEN (xapp-…)".into()),
                ));
            };
            let mut options = micro_bot::slack::SlackOptions::default();
            options.bot_token = bot_token.clone();
            options.app_token = app_token.clone();
            options.api = slack.slack_api.clone();
            let slack = micro_bot::slack::Slack::new(options)
                .map_err(|e| bad(e, "see micro bot --help, Slack"))?;
            Ok((Box::new(slack), "slack (Socket Mode)".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_rules_name_an_input_and_commands() {
        let (input, commands) =
            allow_rule("--allow", "Slack= help, list ,health").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(input, "slack");
        assert_eq!(
            commands.into_iter().collect::<Vec<_>>(),
            ["health", "help", "list"]
        );
        for bad in ["slack", "matrix=help", "irc= , "] {
            assert!(allow_rule("--allow", bad).is_err(), "{bad}");
        }
        let (_, senders) =
            allow_rule("--allow-senders", "slack=U0ABC").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(senders.contains("U0ABC"), "sender ids keep their case");
    }
}
