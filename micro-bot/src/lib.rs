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
#[cfg(feature = "irc")]
pub mod irc;
mod services;
#[cfg(feature = "slack")]
pub mod slack;
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

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

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
            call_timeout: Duration::from_secs(10),
            max_answer: 4096,
        }
    }
}

/// The bot: answers one message at a time, for any input.
#[derive(Clone, Debug)]
pub struct Bot {
    client: micro::Client,
    options: Options,
}

impl Bot {
    /// A bot that reaches services with `client` (its registry answers `list services`).
    pub fn new(client: micro::Client, options: Options) -> Bot {
        Bot { client, options }
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
        let refusal = words.as_ref().and_then(|w| self.refusal(input, w));
        let answer = match (&words, &refusal) {
            (None, _) => "say `help` to see what I can do".to_owned(),
            (Some(_), Some(refusal)) => refusal.clone(),
            (Some(words), None) => self.run(words).await,
        };
        tracing::info!(
            target: "micro::bot",
            input,
            sender,
            command = words.as_ref().map(Words::verb).unwrap_or_default(),
            refused = refusal.is_some(),
            "answered"
        );
        clip(answer.trim_end(), self.options.max_answer)
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

/// `text` as lines for a line-based chat (IRC): control characters dropped (a service's
/// answer cannot smuggle a protocol command in), empty lines skipped, long lines cut into
/// pieces of at most `max` bytes on character boundaries.
pub(crate) fn chat_lines(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let clean: String = line
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        let mut rest = clean.trim_end();
        while !rest.is_empty() {
            let mut end = rest.len().min(max);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            if end == 0 {
                end = rest.chars().next().map_or(rest.len(), char::len_utf8);
            }
            lines.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    lines
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
    let (stop, stopped) = watch::channel(false);
    let mut running = futures_util::future::select_all(
        inputs
            .iter()
            .map(|input| input.run(bot.clone(), stopped.clone())),
    );
    if inputs.is_empty() {
        return Err(micro::Error::bad_request(ID, "no input to listen on"));
    }
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

/// Why a connection to a chat network ended.
#[derive(Debug)]
pub(crate) enum Failure {
    /// It dropped or could not be made: try again after a pause. `connected` says whether
    /// it had been up (the pauses start again from one second).
    Retry { connected: bool, why: String },
    /// What trying again cannot mend: a refused login, a bad setting.
    Fatal(micro::Error),
}

impl Failure {
    pub(crate) fn retry(connected: bool, why: impl std::fmt::Display) -> Failure {
        Failure::Retry {
            connected,
            why: why.to_string(),
        }
    }
}

/// Run `session` again and again (pausing longer each time it fails before connecting)
/// until `stop` turns true or it fails for good.
pub(crate) async fn reconnecting<F, Fut>(
    input: &'static str,
    mut stop: watch::Receiver<bool>,
    mut session: F,
) -> micro::Result<()>
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let mut attempt = 0;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        match session(stop.clone()).await {
            Ok(()) => return Ok(()),
            Err(Failure::Fatal(e)) => {
                tracing::error!(target: "micro::bot", input, error = %e.detail(), "giving up");
                return Err(e);
            }
            Err(Failure::Retry { connected, why }) => {
                if connected {
                    attempt = 0;
                }
                let delay = backoff(attempt);
                attempt += 1;
                tracing::warn!(target: "micro::bot", input, error = %why, retry_in = ?delay, "connection lost");
                if pause(&mut stop, delay).await {
                    return Ok(());
                }
            }
        }
    }
}

/// The writing side of a chat connection: lines (or stanzas) queued by any task, written in
/// order by one task, optionally paced for servers with flood guards.
pub(crate) struct Outbox {
    tx: mpsc::Sender<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Outbox {
    pub(crate) fn spawn<W>(mut write: W, paced: bool) -> Outbox
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, mut queue) = mpsc::channel::<String>(256);
        let task = tokio::spawn(async move {
            let mut pace = Pace::new();
            while let Some(text) = queue.recv().await {
                if paced {
                    pace.wait().await;
                }
                if write.write_all(text.as_bytes()).await.is_err() || write.flush().await.is_err() {
                    break;
                }
            }
            let _ = write.shutdown().await;
        });
        Outbox { tx, task }
    }

    /// A handle to queue text with.
    pub(crate) fn sender(&self) -> mpsc::Sender<String> {
        self.tx.clone()
    }

    /// Queue `last` (a goodbye), then give what is queued up to two seconds to go out.
    pub(crate) async fn close(mut self, last: &str) {
        let _ = self.tx.send(last.to_owned()).await;
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.task).await;
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Two lines a second after a burst of five: under common IRC servers' flood guards.
struct Pace {
    tokens: f64,
    last: tokio::time::Instant,
}

impl Pace {
    const BURST: f64 = 5.0;
    const RATE: f64 = 2.0;

    fn new() -> Pace {
        Pace {
            tokens: Pace::BURST,
            last: tokio::time::Instant::now(),
        }
    }

    async fn wait(&mut self) {
        let now = tokio::time::Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * Pace::RATE)
            .min(Pace::BURST);
        self.last = now;
        if self.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / Pace::RATE);
            tokio::time::sleep(wait).await;
            self.tokens = 1.0;
            self.last = tokio::time::Instant::now();
        }
        self.tokens -= 1.0;
    }
}

/// Wait `delay` or until `stop` turns true; true if stopped.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, delay: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

/// The delay before reconnect attempt `attempt` (1 s doubling to 30 s).
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30))
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

    #[test]
    fn chat_lines_carry_no_control_characters() {
        assert_eq!(
            chat_lines("one\r\nQUIT :x\r\n\n\u{1}two\tthree\0", 100),
            ["one", "QUIT :x", "two three"]
        );
        assert_eq!(chat_lines("aéb", 2), ["a", "é", "b"]);
    }

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(9), Duration::from_secs(30));
    }
}
