//! The arguments of `micro bot`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// `micro bot`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  micro bot --inputs irc --irc-address irc.example.com:6697 --irc-tls --irc-channels '#ops'\n  MICRO_BOT_XMPP_PASSWORD=... micro bot --inputs xmpp --xmpp-jid micro@example.com --enable call\n  micro bot --inputs irc,slack --allow 'slack=help,list,health'\n\nSecrets (passwords, tokens) are best passed in the environment: MICRO_BOT_IRC_PASSWORD,\nMICRO_BOT_XMPP_PASSWORD, MICRO_BOT_SLACK_BOT_TOKEN, MICRO_BOT_SLACK_APP_TOKEN."
)]
pub(crate) struct BotArgs {
    /// The chat networks to answer in (comma-separated).
    #[arg(long, env = "MICRO_BOT_INPUTS", value_delimiter = ',', required = true)]
    pub(crate) inputs: Vec<BotInput>,
    /// Commands served by services are NAMESPACE.NAME (Command.Help, Command.Exec).
    #[arg(long, env = "MICRO_BOT_NAMESPACE", default_value = micro_bot::NAMESPACE)]
    pub(crate) namespace: String,
    /// Turn on commands that reach into services (comma-separated): call, register,
    /// deregister. Off by default: once on, anyone who can message the bot may run them
    /// (hold them with --allow-senders).
    #[arg(
        long,
        env = "MICRO_BOT_ENABLE",
        value_delimiter = ',',
        value_name = "COMMANDS"
    )]
    pub(crate) enable: Vec<Guarded>,
    /// Hold an input to some commands: INPUT=COMMAND,COMMAND (repeatable, or `;` between
    /// inputs in MICRO_BOT_ALLOW), e.g. slack=help,list,health.
    #[arg(
        long,
        env = "MICRO_BOT_ALLOW",
        value_delimiter = ';',
        value_name = "INPUT=COMMANDS"
    )]
    pub(crate) allow: Vec<String>,
    /// Take commands on an input only from these senders: INPUT=SENDER,SENDER (repeatable,
    /// or `;` between inputs in MICRO_BOT_ALLOW_SENDERS). IRC: nick or nick!user@host;
    /// XMPP: name@domain (or a room's address); Slack: a user id.
    #[arg(
        long = "allow-senders",
        env = "MICRO_BOT_ALLOW_SENDERS",
        value_delimiter = ';',
        value_name = "INPUT=SENDERS"
    )]
    pub(crate) allow_senders: Vec<String>,
    /// How long a call to a service may take.
    #[arg(long, default_value = "10s", value_parser = super::parse_duration)]
    pub(crate) call_timeout: Duration,
    /// A CA file (PEM) to trust for IRC and XMPP TLS besides the system's roots.
    #[arg(long, env = "MICRO_BOT_CA_FILE", value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) irc: IrcArgs,
    #[command(flatten)]
    pub(crate) xmpp: XmppArgs,
    #[command(flatten)]
    pub(crate) slack: SlackArgs,
}

/// A chat network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum BotInput {
    /// IRC (--irc-*).
    Irc,
    /// XMPP / Jabber (--xmpp-*).
    Xmpp,
    /// Slack, through Socket Mode (--slack-*).
    Slack,
}

/// A command that is off unless turned on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Guarded {
    /// call SERVICE ENDPOINT JSON.
    Call,
    /// register service JSON.
    Register,
    /// deregister service JSON.
    Deregister,
}

/// IRC.
#[derive(Debug, Args)]
#[command(next_help_heading = "IRC")]
pub(crate) struct IrcArgs {
    /// The IRC server.
    #[arg(
        long,
        env = "MICRO_BOT_IRC_ADDRESS",
        default_value = "127.0.0.1:6667",
        value_name = "HOST:PORT"
    )]
    pub(crate) irc_address: String,
    /// Speak TLS to the IRC server.
    #[arg(long)]
    pub(crate) irc_tls: bool,
    /// The bot's nick.
    #[arg(long, env = "MICRO_BOT_IRC_NICK", default_value = "micro")]
    pub(crate) irc_nick: String,
    /// Channels to join (comma-separated; quote the #).
    #[arg(
        long,
        env = "MICRO_BOT_IRC_CHANNELS",
        value_delimiter = ',',
        value_name = "CHANNELS"
    )]
    pub(crate) irc_channels: Vec<String>,
    /// The IRC server's password, if it asks for one.
    #[arg(long, env = "MICRO_BOT_IRC_PASSWORD", hide_env_values = true)]
    pub(crate) irc_password: Option<String>,
}

/// XMPP.
#[derive(Debug, Args)]
#[command(next_help_heading = "XMPP")]
pub(crate) struct XmppArgs {
    /// The bot's account.
    #[arg(long, env = "MICRO_BOT_XMPP_JID", value_name = "NAME@DOMAIN")]
    pub(crate) xmpp_jid: Option<String>,
    /// The account's password.
    #[arg(long, env = "MICRO_BOT_XMPP_PASSWORD", hide_env_values = true)]
    pub(crate) xmpp_password: Option<String>,
    /// The XMPP server, when not the account's domain on port 5222.
    #[arg(long, env = "MICRO_BOT_XMPP_ADDRESS", value_name = "HOST:PORT")]
    pub(crate) xmpp_address: Option<String>,
    /// Group chats to join (comma-separated).
    #[arg(
        long,
        env = "MICRO_BOT_XMPP_ROOMS",
        value_delimiter = ',',
        value_name = "ROOMS"
    )]
    pub(crate) xmpp_rooms: Vec<String>,
    /// The bot's nick in group chats (default: the account's name).
    #[arg(long, env = "MICRO_BOT_XMPP_NICK")]
    pub(crate) xmpp_nick: Option<String>,
    /// No STARTTLS: password and messages in plain text, for a server on a network you
    /// trust.
    #[arg(long)]
    pub(crate) xmpp_no_tls: bool,
}

/// Slack.
#[derive(Debug, Args)]
#[command(next_help_heading = "Slack")]
pub(crate) struct SlackArgs {
    /// The app's bot token (xoxb-…).
    #[arg(long, env = "MICRO_BOT_SLACK_BOT_TOKEN", hide_env_values = true)]
    pub(crate) slack_bot_token: Option<String>,
    /// The app-level token with connections:write, for Socket Mode (xapp-…).
    #[arg(long, env = "MICRO_BOT_SLACK_APP_TOKEN", hide_env_values = true)]
    pub(crate) slack_app_token: Option<String>,
    /// Slack's Web API.
    #[arg(
        long,
        env = "MICRO_BOT_SLACK_API",
        default_value = "https://slack.com/api/",
        value_name = "URL",
        hide = true
    )]
    pub(crate) slack_api: String,
}
