//! The IRC input (RFC 2812): the bot joins channels and answers messages addressed to it —
//! `micro: list services` in a channel, or anything in a private message.
//!
//! Plain TCP or TLS (the system's roots, or a CA file), a server password when the network
//! asks for one, a nick that steps aside (`micro_`) when taken, `PING` answered, answers
//! paced (two lines a second after a burst of five) so servers' flood guards never cut the
//! bot off, and lines cut to fit IRC's 512 bytes with control characters dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::connection::{Failure, reconnecting};
use crate::outbox::{Outbox, Writing, chat_lines};
use crate::{Bot, BoxFuture, Input};

/// The longest line read from the server (IRCv3 tags included).
const MAX_LINE: u64 = 16 * 1024;
/// Room left for the `:nick!user@host ` the server puts in front of the bot's lines.
const MAX_SOURCE: usize = 100;
/// The most lines of one answer in a channel.
const CHANNEL_LINES: usize = 20;
/// The most lines of one answer in a private message.
const PRIVATE_LINES: usize = 40;
/// Silence from the server this long gets a PING; as long again after it, a reconnect.
const IDLE: Duration = Duration::from_secs(180);
/// How long the connection and the login may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where and as whom the bot joins IRC.
#[derive(Clone)]
#[non_exhaustive]
pub struct IrcOptions {
    /// The server, `host:port`. Default `127.0.0.1:6667`.
    pub address: String,
    /// Speak TLS (usually on port 6697).
    pub tls: bool,
    /// A CA file (PEM) to trust besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The bot's nick. Default `micro`.
    pub nick: String,
    /// The server password (`PASS`), when the network asks for one.
    pub password: Option<String>,
    /// Channels to join (`#ops`).
    pub channels: Vec<String>,
}

impl std::fmt::Debug for IrcOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrcOptions")
            .field("address", &self.address)
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("nick", &self.nick)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("channels", &self.channels)
            .finish()
    }
}

impl Default for IrcOptions {
    fn default() -> IrcOptions {
        IrcOptions {
            address: "127.0.0.1:6667".to_owned(),
            tls: false,
            ca_file: None,
            nick: "micro".to_owned(),
            password: None,
            channels: Vec::new(),
        }
    }
}

/// The IRC input.
#[derive(Clone, Debug)]
pub struct Irc {
    options: IrcOptions,
}

impl Irc {
    /// An IRC input with `options`; a nick, channel or address that can never work is an
    /// error.
    pub fn new(options: IrcOptions) -> micro::Result<Irc> {
        check(&options)?;
        Ok(Irc { options })
    }
}

impl Input for Irc {
    fn name(&self) -> &'static str {
        "irc"
    }

    fn run<'a>(
        &'a self,
        bot: Arc<Bot>,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, micro::Result<()>> {
        Box::pin(reconnecting("irc", stop, move |stop| {
            self.session(bot.clone(), stop)
        }))
    }
}

/// Settings that can never work.
fn check(options: &IrcOptions) -> micro::Result<()> {
    let bad = |what: String| Err(micro::Error::bad_request(crate::ID, what));
    if !valid_nick(&options.nick) {
        return bad(format!(
            "IRC nick {:?} is not valid: a letter first, then letters, digits or -[]\\`^{{}}|_",
            options.nick
        ));
    }
    for channel in &options.channels {
        if !channel.starts_with(['#', '&'])
            || channel.len() < 2
            || channel.contains([' ', ',', '\u{7}'])
            || channel.chars().any(char::is_control)
        {
            return bad(format!("IRC channel {channel:?} is not valid: e.g. #ops"));
        }
    }
    if options
        .password
        .as_deref()
        .is_some_and(|p| p.chars().any(char::is_control))
    {
        return bad("the IRC server password holds a control character".to_owned());
    }
    if options.address.rsplit_once(':').is_none() {
        return bad(format!(
            "IRC server {:?} has no port: e.g. irc.example.com:6697",
            options.address
        ));
    }
    Ok(())
}

fn valid_nick(nick: &str) -> bool {
    let special = |c: char| "-[]\\`^{}|_".contains(c);
    let mut chars = nick.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || special(c) && c != '-')
        && chars.all(|c| c.is_ascii_alphanumeric() || special(c))
        && nick.len() <= 30
}

impl Irc {
    async fn session(&self, bot: Arc<Bot>, stop: watch::Receiver<bool>) -> Result<(), Failure> {
        let address = &self.options.address;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| Failure::retry(false, format!("{address}: no answer")))?
            .map_err(|e| Failure::retry(false, format!("{address}: {e}")))?;
        if !self.options.tls {
            return self.converse(tcp, bot, stop).await;
        }
        let connector =
            crate::tls::connector(self.options.ca_file.as_deref()).map_err(Failure::Fatal)?;
        let host = address
            .rsplit_once(':')
            .map_or(address.as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            crate::tls::handshake(&connector, host, tcp),
        )
        .await
        .map_err(|_| Failure::retry(false, format!("{address}: no TLS handshake")))?
        .map_err(|e| Failure::retry(false, e.detail()))?;
        self.converse(tls, bot, stop).await
    }

    async fn converse<IO>(
        &self,
        io: IO,
        bot: Arc<Bot>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), Failure>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, write) = tokio::io::split(io);
        let mut reader = BufReader::new(read);
        // Answers are paced; protocol replies (PONG, NICK, JOIN, QUIT) never wait behind them.
        let outbox = Outbox::spawn(
            write,
            Writing {
                paced: true,
                keepalive: None,
            },
        );
        let out = outbox.sender();
        let urgent = outbox.urgent();
        let mut nick = self.options.nick.clone();
        if let Some(password) = &self.options.password {
            let _ = urgent.send(format!("PASS :{password}\r\n")).await;
        }
        let _ = urgent
            .send(format!("NICK {nick}\r\nUSER {nick} 0 * :micro bot\r\n"))
            .await;

        let mut welcomed = false;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        // Silence for IDLE gets a PING; silence for IDLE again after it, a reconnect.
        let mut heard = Instant::now();
        let mut pinged = false;
        let mut line = Vec::new();
        loop {
            let read = tokio::select! {
                read = read_line(&mut reader, &mut line) => read,
                _ = stop.changed() => {
                    drop((out, urgent));
                    outbox.close("QUIT :micro bot stopping\r\n").await;
                    return Ok(());
                }
                () = tokio::time::sleep_until(deadline), if !welcomed => {
                    return Err(Failure::retry(false, "the server did not welcome the bot in time"));
                }
                () = tokio::time::sleep_until(heard + IDLE) => {
                    if pinged {
                        return Err(Failure::retry(welcomed, "the server stopped answering"));
                    }
                    let _ = urgent.send(format!("PING :{nick}\r\n")).await;
                    pinged = true;
                    heard = Instant::now();
                    continue;
                }
                () = out.closed() => {
                    return Err(Failure::retry(welcomed, "writing to the server failed"));
                }
            };
            match read {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::retry(welcomed, "the server closed the connection"));
                }
                Err(e) => return Err(Failure::retry(welcomed, e)),
            }
            heard = Instant::now();
            pinged = false;
            let text = String::from_utf8_lossy(&line).into_owned();
            line.clear();
            let Some(message) = Message::parse(text.trim_end_matches(['\r', '\n'])) else {
                continue;
            };
            match message.command {
                "PING" => {
                    let token = message.params.first().copied().unwrap_or_default();
                    let _ = urgent.send(format!("PONG :{token}\r\n")).await;
                }
                "001" => {
                    welcomed = true;
                    if let Some(own) = message.params.first() {
                        nick = (*own).to_owned();
                    }
                    for channel in &self.options.channels {
                        let _ = urgent.send(format!("JOIN {channel}\r\n")).await;
                    }
                    tracing::info!(target: "micro::bot", input = "irc", nick, "connected");
                }
                // The server renamed the bot (or it renamed itself).
                "NICK" => {
                    let from = message.prefix.and_then(|p| p.split('!').next());
                    if let (Some(from), Some(new)) = (from, message.params.first())
                        && from.eq_ignore_ascii_case(&nick)
                    {
                        nick = (*new).to_owned();
                    }
                }
                // Nick in use (or held back): step aside while logging in.
                "433" | "437" if !welcomed => {
                    if nick.len() >= self.options.nick.len() + 3 {
                        return Err(Failure::Fatal(micro::Error::conflict(
                            crate::ID,
                            format!("IRC nick {} and its variants are taken", self.options.nick),
                        )));
                    }
                    nick.push('_');
                    let _ = urgent.send(format!("NICK {nick}\r\n")).await;
                }
                // The server refuses the nick itself (too long, a character it bans).
                "432" if !welcomed => {
                    return Err(Failure::Fatal(micro::Error::bad_request(
                        crate::ID,
                        format!(
                            "the IRC server {} refuses the nick {nick}: {}",
                            self.options.address,
                            message.params.last().copied().unwrap_or_default()
                        ),
                    )));
                }
                "464" | "465" => {
                    return Err(Failure::Fatal(micro::Error::unauthorized(
                        crate::ID,
                        format!(
                            "the IRC server {} refused the bot: {}",
                            self.options.address,
                            message.params.last().copied().unwrap_or_default()
                        ),
                    )));
                }
                "ERROR" => {
                    return Err(Failure::retry(
                        welcomed,
                        format!(
                            "the server ended the session: {}",
                            message.params.last().copied().unwrap_or_default()
                        ),
                    ));
                }
                "PRIVMSG" => {
                    if let Some((reply_to, prefix, text)) = addressed(&message, &nick) {
                        let bot = bot.clone();
                        let out = out.clone();
                        let sender = message.prefix.unwrap_or_default().to_owned();
                        tokio::spawn(async move {
                            let answer = bot.answer("irc", &sender, &text).await;
                            for line in answer_lines(&answer, &reply_to, &prefix) {
                                if out.send(line).await.is_err() {
                                    break;
                                }
                            }
                        });
                    }
                }
                _ => {}
            }
        }
    }
}

/// An answer as PRIVMSG lines to `target`, each starting with `prefix`: cut to fit IRC's
/// 512 bytes once the server puts the bot's `nick!user@host` in front, at most
/// [`CHANNEL_LINES`] in a channel (the rest: ask in private), [`PRIVATE_LINES`] in private.
fn answer_lines(answer: &str, target: &str, prefix: &str) -> Vec<String> {
    let head = format!("PRIVMSG {target} :{prefix}");
    let room = 510usize.saturating_sub(head.len() + MAX_SOURCE).max(64);
    let mut lines = chat_lines(answer, room);
    let channel = target.starts_with(['#', '&']);
    let most = if channel {
        CHANNEL_LINES
    } else {
        PRIVATE_LINES
    };
    if lines.len() > most {
        let more = lines.len() - (most - 1);
        lines.truncate(most - 1);
        lines.push(if channel {
            format!("… {more} more lines: ask me in a private message")
        } else {
            format!("… {more} more lines")
        });
    }
    lines
        .into_iter()
        .map(|line| format!("{head}{line}\r\n"))
        .collect()
}

/// For a message addressed to the bot: where the answer goes, what starts each line of it
/// (`nick: ` in a channel) and the command text.
fn addressed(message: &Message<'_>, nick: &str) -> Option<(String, String, String)> {
    let sender = message.prefix?.split('!').next()?;
    let [target, text] = message.params[..] else {
        return None;
    };
    // CTCP (ACTION, VERSION ...) is not for the bot.
    if text.starts_with('\u{1}') || sender.is_empty() {
        return None;
    }
    if target.eq_ignore_ascii_case(nick) {
        return Some((sender.to_owned(), String::new(), text.to_owned()));
    }
    if !target.starts_with(['#', '&']) {
        return None;
    }
    let rest = text.get(nick.len()..)?;
    if !text.get(..nick.len())?.eq_ignore_ascii_case(nick) || !rest.starts_with([':', ',', ' ']) {
        return None;
    }
    let command = rest.trim_start_matches([':', ',']).trim();
    Some((target.to_owned(), format!("{sender}: "), command.to_owned()))
}

/// One line from the server: its prefix, command and parameters (tags skipped).
#[derive(Debug, PartialEq, Eq)]
struct Message<'a> {
    prefix: Option<&'a str>,
    command: &'a str,
    params: Vec<&'a str>,
}

impl<'a> Message<'a> {
    fn parse(mut line: &'a str) -> Option<Message<'a>> {
        if line.starts_with('@') {
            line = line.split_once(' ')?.1.trim_start();
        }
        let mut prefix = None;
        if let Some(rest) = line.strip_prefix(':') {
            let (p, rest) = rest.split_once(' ')?;
            prefix = Some(p);
            line = rest.trim_start();
        }
        let (command, mut rest) = match line.split_once(' ') {
            Some((command, rest)) => (command, rest),
            None => (line, ""),
        };
        if command.is_empty() {
            return None;
        }
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start_matches(' ');
            if rest.is_empty() {
                break;
            }
            if let Some(trailing) = rest.strip_prefix(':') {
                params.push(trailing);
                break;
            }
            match rest.split_once(' ') {
                Some((param, more)) => {
                    params.push(param);
                    rest = more;
                }
                None => {
                    params.push(rest);
                    break;
                }
            }
        }
        Some(Message {
            prefix,
            command,
            params,
        })
    }
}

/// Read one line (its `\n` included) into `line`, after what an interrupted call left
/// there; false at the end of the stream. A line longer than [`MAX_LINE`] is an error.
/// Cancel-safe: bytes read stay in `line` for the next call.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        let room = MAX_LINE.saturating_sub(line.len() as u64);
        if room == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line from the server is longer than {MAX_LINE} bytes"),
            ));
        }
        let n = reader.take(room).read_until(b'\n', line).await?;
        if n == 0 {
            return Ok(false);
        }
        if line.last() == Some(&b'\n') {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_tags_prefix_and_trailing() {
        let m = Message::parse("@time=x :alice!a@h PRIVMSG #ops :micro: list services")
            .unwrap_or_else(|| panic!("parses"));
        assert_eq!(m.prefix, Some("alice!a@h"));
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(m.params, ["#ops", "micro: list services"]);
        let ping = Message::parse("PING :irc.example").unwrap_or_else(|| panic!("parses"));
        assert_eq!(ping.params, ["irc.example"]);
        assert_eq!(Message::parse(":only-prefix"), None);
    }

    #[test]
    fn only_messages_for_the_bot_are_taken() {
        let parse = |line| Message::parse(line).unwrap_or_else(|| panic!("parses"));
        let m = parse(":alice!a@h PRIVMSG #ops :Micro, health greeter");
        assert_eq!(
            addressed(&m, "micro"),
            Some(("#ops".into(), "alice: ".into(), "health greeter".into()))
        );
        let m = parse(":alice!a@h PRIVMSG micro :ping");
        assert_eq!(
            addressed(&m, "micro"),
            Some(("alice".into(), String::new(), "ping".into()))
        );
        for other in [
            ":alice!a@h PRIVMSG #ops :hello everyone",
            ":alice!a@h PRIVMSG #ops :microscope: ping",
            ":alice!a@h PRIVMSG micro :\u{1}VERSION\u{1}",
            ":alice!a@h PRIVMSG bob :ping",
        ] {
            assert_eq!(addressed(&parse(other), "micro"), None, "{other}");
        }
    }

    #[test]
    fn answers_fit_irc_lines_and_long_ones_are_cut() {
        let long = "x".repeat(1000);
        let lines = answer_lines(&long, "#ops", "alice: ");
        assert!(
            lines.iter().all(|l| l.len() + MAX_SOURCE <= 512),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("PRIVMSG #ops :alice: ") && l.ends_with("\r\n"))
        );
        let many = vec!["line"; 38].join("\n");
        let lines = answer_lines(&many, "#ops", "alice: ");
        assert_eq!(lines.len(), CHANNEL_LINES);
        assert!(lines[CHANNEL_LINES - 1].contains("19 more lines: ask me in a private message"));
        assert_eq!(answer_lines(&many, "alice", "").len(), 38);
    }

    #[tokio::test]
    async fn a_line_read_in_pieces_is_whole() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut reader = BufReader::new(server);
        let mut line = Vec::new();
        tokio::io::AsyncWriteExt::write_all(&mut client, b"PING :a")
            .await
            .unwrap_or_default();
        // Interrupted before the line ends: what came stays.
        let cut =
            tokio::time::timeout(Duration::from_millis(50), read_line(&mut reader, &mut line))
                .await;
        assert!(cut.is_err());
        tokio::io::AsyncWriteExt::write_all(&mut client, b"bc\r\n")
            .await
            .unwrap_or_default();
        assert!(read_line(&mut reader, &mut line).await.unwrap_or(false));
        assert_eq!(line, b"PING :abc\r\n");
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let mut options = IrcOptions::default();
        assert!(check(&options).is_ok());
        options.nick = "9lives".into();
        assert!(check(&options).is_err_and(|e| e.detail().contains("nick")));
        options.nick = "micro".into();
        options.channels = vec!["ops".into()];
        assert!(check(&options).is_err_and(|e| e.detail().contains("#ops")));
        options.channels = vec!["#ops\r\nQUIT".into()];
        assert!(check(&options).is_err());
        options.channels.clear();
        options.password = Some("pass\r\nQUIT".into());
        assert!(check(&options).is_err_and(|e| e.detail().contains("control")));
        options.password = None;
        options.address = "irc.example.com".into();
        assert!(check(&options).is_err_and(|e| e.detail().contains("no port")));
    }
}
