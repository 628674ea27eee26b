//! The micro chat bot: a team's services, queried and operated from chat.
//!
//! A [`Bot`] answers chat messages with the CLI's verbs and with commands that services
//! serve; [`Input`]s carry the messages to and from a chat network: [`irc`], [`xmpp`] and
//! [`slack`] (each behind the cargo feature of its name).
//!
//! - **Built-in commands** (go-micro's bot): `help`, `echo TEXT`, `time`, `hello`, `ping`,
//!   `list services`, `get service NAME`, `health SERVICE`, `call SERVICE ENDPOINT JSON`,
//!   `register service JSON`, `deregister service JSON`, `the three laws`.
//! - **Commands served by services**: a service named `NAMESPACE.NAME` (`micro.bot.NAME` by
//!   default) that serves `Command.Help` and `Command.Exec` ([`proto`], the messages of
//!   `proto/micro/bot/bot.proto`, go-micro's shape) is the command `NAME`, found in the
//!   registry when a message asks for it, so a command service that starts or stops is
//!   seen at once.
//! - **What may run where**: `call`, `register` and `deregister` change or reach into
//!   services, so they answer only when [`Options::enabled`] names them; an input may be
//!   held to a list of commands ([`Options::allow`]). A refused command is answered with
//!   why, never run.
//!
//! ```no_run
//! # async fn run() -> micro::Result<()> {
//! let settings = micro::Settings::from_env()?;
//! let client = micro::Client::from_settings(&settings)?;
//! let bot = std::sync::Arc::new(micro_bot::Bot::new(client, micro_bot::Options::default()));
//! let mut irc = micro_bot::irc::IrcOptions::default();
//! irc.address = "irc.example.com:6697".into();
//! irc.tls = true;
//! irc.channels = vec!["#ops".into()];
//! let irc = micro_bot::irc::Irc::new(irc)?;
//! // Until Ctrl-C.
//! let stop = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! micro_bot::serve(bot, vec![Box::new(irc)], stop).await
//! # }
//! ```

mod builtin;
mod command;
#[cfg(any(feature = "irc", feature = "xmpp", feature = "slack"))]
mod connection;
#[cfg(feature = "irc")]
pub mod irc;
#[cfg(any(feature = "irc", feature = "xmpp"))]
mod outbox;
mod services;
#[cfg(feature = "slack")]
pub mod slack;
#[cfg(any(feature = "irc", feature = "xmpp", feature = "slack"))]
mod tls;
#[cfg(feature = "xmpp")]
mod xml;
#[cfg(feature = "xmpp")]
pub mod xmpp;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use command::{BUILTIN, GUARDED, Words};

/// The `Command` service's messages and its generated client and server
/// (`proto/micro/bot/bot.proto`, package `micro.bot`): what a command service implements.
pub mod proto {
    #![allow(missing_docs)]
    micro::include_proto!("micro.bot");
}

/// The error id of the bot's own errors.
pub const ID: &str = "micro.bot";

/// The namespace command services live in unless told otherwise.
pub const NAMESPACE: &str = "micro.bot";

/// A boxed future, for the [`Input`] trait's object safety.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the bot does beyond the defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Command services are `NAMESPACE.NAME`. Default [`NAMESPACE`].
    pub namespace: String,
    /// Of the guarded commands ([`GUARDED`]: `call`, `register`, `deregister`), those that
    /// answer. Default none.
    pub enabled: BTreeSet<String>,
    /// Per input (`irc`, `xmpp`, `slack`): the only commands it may run (built-in verbs such
    /// as `list` or `health`, or a command service's name). An input not named here may run
    /// every command.
    pub allow: BTreeMap<String, BTreeSet<String>>,
    /// Per input: the only senders it takes commands from. IRC: a nick or a full
    /// `nick!user@host`; XMPP: a bare address (`alice@example.com`), or a group chat's address
    /// for everyone in it; Slack: a user id (`U0123ABCD`). An input not named here takes
    /// commands from anyone who can message the bot.
    pub senders: BTreeMap<String, BTreeSet<String>>,
    /// How long a call to a service (a command, `call`, `health`) may take. Default 10 s.
    pub call_timeout: Duration,
    /// The longest answer in bytes; longer ones are cut and say so. Default 4 KiB.
    pub max_answer: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            namespace: NAMESPACE.to_owned(),
            enabled: BTreeSet::new(),
            allow: BTreeMap::new(),
            senders: BTreeMap::new(),
            call_timeout: Duration::from_secs(10),
            max_answer: 4096,
        }
    }
}

/// The most messages answered at once; more get "busy" at once rather than queueing.
pub const MAX_ANSWERING: usize = 16;

/// The bot: answers messages for any input, at most [`MAX_ANSWERING`] at a time.
#[derive(Clone, Debug)]
pub struct Bot {
    client: micro::Client,
    options: Options,
    answering: Arc<tokio::sync::Semaphore>,
}

impl Bot {
    /// A bot that reaches services with `client` (its registry answers `list services`).
    pub fn new(client: micro::Client, options: Options) -> Bot {
        Bot {
            client,
            options,
            answering: Arc::new(tokio::sync::Semaphore::new(MAX_ANSWERING)),
        }
    }

    /// Its options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The client it calls services with.
    pub fn client(&self) -> &micro::Client {
        &self.client
    }

    /// The answer to `text`, a message addressed to the bot on `input` by `sender`: the
    /// command's result, or a sentence saying why there is none (unknown, refused, failed).
    /// Each answer is logged (target `micro::bot`: input, sender, command, refused).
    pub async fn answer(&self, input: &str, sender: &str, text: &str) -> String {
        let words = Words::parse(text);
        let (answer, refused) = if !self.sender_allowed(input, sender) {
            (format!("I take no commands from you on {input}"), true)
        } else if let Some(words) = &words {
            match self.refusal(input, words) {
                Some(refusal) => (refusal, true),
                None => match self.answering.clone().try_acquire_owned() {
                    Ok(_permit) => (self.run(words).await, false),
                    Err(_) => (
                        "I am answering too many messages: ask again in a moment".to_owned(),
                        true,
                    ),
                },
            }
        } else {
            ("say `help` to see what I can do".to_owned(), false)
        };
        tracing::info!(
            target: "micro::bot",
            input,
            sender,
            command = words.as_ref().map(Words::verb).unwrap_or_default(),
            refused,
            "answered"
        );
        clip(answer.trim_end(), self.options.max_answer)
    }

    /// Whether `sender` may give commands on `input` ([`Options::senders`]).
    fn sender_allowed(&self, input: &str, sender: &str) -> bool {
        let Some(allowed) = self.options.senders.get(input) else {
            return true;
        };
        // IRC's nick!user@host → nick; XMPP's address/resource → address.
        let short = sender.split(['!', '/']).next().unwrap_or(sender);
        allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(sender) || a.eq_ignore_ascii_case(short))
    }

    /// Why `words` may not run on `input`, if so.
    fn refusal(&self, input: &str, words: &Words) -> Option<String> {
        let verb = words.verb();
        if let Some(allowed) = self.options.allow.get(input)
            && !allowed.contains(&verb)
        {
            return Some(format!("`{verb}` is not allowed on {input}"));
        }
        if GUARDED.contains(&verb.as_str()) && !self.options.enabled.contains(&verb) {
            return Some(format!(
                "`{verb}` is off: the bot's operator can turn it on with --enable {verb}"
            ));
        }
        None
    }

    async fn run(&self, words: &Words) -> String {
        match builtin::run(self, words).await {
            Some(answer) => answer,
            None => services::run(self, words).await,
        }
    }
}

/// Cut `text` to at most `max` bytes (on a character boundary), saying it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} more bytes)", &text[..end], text.len() - end)
}

/// A chat network the bot listens on and answers in.
pub trait Input: Send + Sync {
    /// Its name for allow-lists and logs: `irc`, `xmpp`, `slack`.
    fn name(&self) -> &'static str;

    /// Connect, answer messages addressed to the bot with [`Bot::answer`] and reconnect
    /// when the connection drops, until `stop` turns true. Returns an error only for what
    /// reconnecting cannot mend (a refused login, a bad setting).
    fn run<'a>(
        &'a self,
        bot: Arc<Bot>,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, micro::Result<()>>;
}

/// Run `inputs` until `shutdown` completes, or until one fails for good (its error).
pub async fn serve(
    bot: Arc<Bot>,
    inputs: Vec<Box<dyn Input>>,
    shutdown: impl Future<Output = ()>,
) -> micro::Result<()> {
    if inputs.is_empty() {
        return Err(micro::Error::bad_request(ID, "no input to listen on"));
    }
    let (stop, stopped) = watch::channel(false);
    let mut running = futures_util::future::select_all(
        inputs
            .iter()
            .map(|input| input.run(bot.clone(), stopped.clone())),
    );
    tokio::pin!(shutdown);
    tokio::select! {
        () = &mut shutdown => {
            let _ = stop.send(true);
            // Each input says goodbye (QUIT, </stream:stream>) and returns.
            let rest = running.into_inner();
            let _ = tokio::time::timeout(Duration::from_secs(5), futures_util::future::join_all(rest)).await;
            Ok(())
        }
        (result, _, rest) = &mut running => {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), futures_util::future::join_all(rest)).await;
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_characters_whole_and_says_so() {
        assert_eq!(clip("short", 10), "short");
        let cut = clip("ééééé", 3);
        assert_eq!(cut, "é\n… (8 more bytes)");
    }
}
