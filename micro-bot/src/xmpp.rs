//! The XMPP input (RFC 6120 and 6121): the bot signs in as a Jabber account, answers direct
//! messages, and in group chats (XEP-0045) answers messages that start with its nick
//! (`micro: health greeter`).
//!
//! STARTTLS is required unless turned off (then the server must allow plain logins), SASL
//! PLAIN inside it, resource binding, XMPP pings (XEP-0199) answered, other requests
//! refused as the RFC asks, and history a room replays on joining ignored.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::xml::{Element, ReadError, XmlReader, escape};
use crate::{Bot, BoxFuture, Failure, Input, Outbox, reconnecting};

/// How long the connection and the login may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A whitespace keepalive this often keeps idle connections (and NATs) open.
const KEEPALIVE: Duration = Duration::from_secs(90);

/// Which account the bot signs in as, and where.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct XmppOptions {
    /// The bot's account, `micro@example.com`.
    pub jid: String,
    /// Its password.
    pub password: String,
    /// The server, `host:port`; default the account's domain, port 5222.
    pub address: Option<String>,
    /// Plain text, no STARTTLS: only for a server on a network you trust.
    pub no_tls: bool,
    /// A CA file (PEM) to trust besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Group chats to join, `ops@conference.example.com`.
    pub rooms: Vec<String>,
    /// The bot's nick in group chats; default the account's local part.
    pub nick: Option<String>,
}

/// The XMPP input.
#[derive(Clone, Debug)]
pub struct Xmpp {
    options: XmppOptions,
    jid: Jid,
}

/// An account's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Jid {
    local: String,
    domain: String,
}

impl Jid {
    fn parse(text: &str) -> Option<Jid> {
        let bare = text.split('/').next()?;
        let (local, domain) = bare.split_once('@')?;
        let ok = |s: &str| !s.is_empty() && !s.contains(['@', '/', ' ', '<', '>', '\'', '"', '&']);
        (ok(local) && ok(domain)).then(|| Jid {
            local: local.to_owned(),
            domain: domain.to_owned(),
        })
    }
}

impl Xmpp {
    /// An XMPP input with `options`; an account that is not `name@domain` is an error.
    pub fn new(options: XmppOptions) -> micro::Result<Xmpp> {
        let jid = Jid::parse(&options.jid).ok_or_else(|| {
            micro::Error::bad_request(
                crate::ID,
                format!(
                    "XMPP account {:?} is not valid: e.g. micro@example.com",
                    options.jid
                ),
            )
        })?;
        if options.password.is_empty() {
            return Err(micro::Error::bad_request(
                crate::ID,
                format!("XMPP account {} has no password", options.jid),
            ));
        }
        for room in &options.rooms {
            if Jid::parse(room).is_none() {
                return Err(micro::Error::bad_request(
                    crate::ID,
                    format!("XMPP room {room:?} is not valid: e.g. ops@conference.example.com"),
                ));
            }
        }
        Ok(Xmpp { options, jid })
    }

    fn nick(&self) -> &str {
        self.options.nick.as_deref().unwrap_or(&self.jid.local)
    }

    fn address(&self) -> String {
        self.options
            .address
            .clone()
            .unwrap_or_else(|| format!("{}:5222", self.jid.domain))
    }
}

impl Input for Xmpp {
    fn name(&self) -> &'static str {
        "xmpp"
    }

    fn run<'a>(
        &'a self,
        bot: Arc<Bot>,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, micro::Result<()>> {
        Box::pin(reconnecting("xmpp", stop, move |stop| {
            self.session(bot.clone(), stop)
        }))
    }
}

fn broken(e: ReadError) -> Failure {
    Failure::retry(false, e)
}

fn refused(what: String) -> Failure {
    Failure::Fatal(micro::Error::unauthorized(crate::ID, what))
}

impl Xmpp {
    async fn session(&self, bot: Arc<Bot>, stop: watch::Receiver<bool>) -> Result<(), Failure> {
        let address = self.address();
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address))
            .await
            .map_err(|_| Failure::retry(false, format!("{address}: no answer")))?
            .map_err(|e| Failure::retry(false, format!("{address}: {e}")))?;
        if self.options.no_tls {
            return self.converse(tcp, false, bot, stop).await;
        }
        let connector =
            crate::tls::connector(self.options.ca_file.as_deref()).map_err(Failure::Fatal)?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, self.starttls(tcp))
            .await
            .map_err(|_| Failure::retry(false, "STARTTLS took too long"))??;
        let tls = crate::tls::handshake(&connector, &self.jid.domain, tcp)
            .await
            .map_err(|e| Failure::retry(false, e.detail()))?;
        self.converse(tls, true, bot, stop).await
    }

    /// Open the stream in plain text and ask for TLS; the connection, ready for it.
    async fn starttls(&self, tcp: TcpStream) -> Result<TcpStream, Failure> {
        let (read, mut write) = tokio::io::split(tcp);
        let mut reader = XmlReader::new(read);
        let features = self.open(&mut reader, &mut write).await?;
        if features.child("starttls").is_none() {
            return Err(Failure::Fatal(micro::Error::unavailable(
                crate::ID,
                format!(
                    "the XMPP server {} offers no STARTTLS: set its TLS up, or turn TLS off on a network you trust",
                    self.address()
                ),
            )));
        }
        send(
            &mut write,
            "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        )
        .await?;
        let answer = reader.stanza().await.map_err(broken)?;
        if answer.local() != "proceed" {
            return Err(Failure::retry(false, "the server refused STARTTLS"));
        }
        Ok(reader.into_inner().unsplit(write))
    }

    /// Send our stream header, read the server's and its features.
    async fn open<R, W>(&self, reader: &mut XmlReader<R>, write: &mut W) -> Result<Element, Failure>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let header = format!(
            "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xml:lang='en' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            escape(&self.jid.domain)
        );
        send(write, &header).await?;
        reader.header().await.map_err(broken)?;
        let features = reader.stanza().await.map_err(broken)?;
        if features.local() == "error" {
            return Err(Failure::retry(false, stream_error(&features)));
        }
        if features.local() != "features" {
            return Err(Failure::retry(
                false,
                format!(
                    "the server sent <{}> instead of its features",
                    features.name
                ),
            ));
        }
        Ok(features)
    }

    /// Sign in over `io` (TLS already, when `secure`), then answer until stopped.
    async fn converse<IO>(
        &self,
        io: IO,
        secure: bool,
        bot: Arc<Bot>,
        stop: watch::Receiver<bool>,
    ) -> Result<(), Failure>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(io);
        let login = tokio::time::timeout(CONNECT_TIMEOUT, self.login(read, &mut write, secure))
            .await
            .map_err(|_| Failure::retry(false, "the login took too long"))?;
        let (reader, own) = login?;
        tracing::info!(target: "micro::bot", input = "xmpp", jid = own, "connected");
        let outbox = Outbox::spawn(write, false);
        let out = outbox.sender();
        let _ = out.send("<presence/>".to_owned()).await;
        for room in &self.options.rooms {
            let _ = out
                .send(format!(
                    "<presence to='{}/{}'><x xmlns='http://jabber.org/protocol/muc'>\
                     <history maxstanzas='0'/></x></presence>",
                    escape(room),
                    escape(self.nick())
                ))
                .await;
        }
        self.listen(reader, out, outbox, bot, stop).await
    }

    /// SASL PLAIN, stream restart, resource binding: the reader and the bound address.
    async fn login<R>(
        &self,
        read: ReadHalf<R>,
        write: &mut WriteHalf<R>,
        secure: bool,
    ) -> Result<(XmlReader<ReadHalf<R>>, String), Failure>
    where
        R: AsyncRead + AsyncWrite,
    {
        let mut reader = XmlReader::new(read);
        let features = self.open(&mut reader, write).await?;
        if !secure
            && features
                .child("starttls")
                .and_then(|t| t.child("required"))
                .is_some()
        {
            return Err(Failure::Fatal(micro::Error::unavailable(
                crate::ID,
                format!(
                    "the XMPP server {} requires TLS: leave TLS on",
                    self.address()
                ),
            )));
        }
        let mechanisms: Vec<&str> = features
            .child("mechanisms")
            .map(|m| m.children.iter().map(|c| c.text.trim()).collect())
            .unwrap_or_default();
        if !mechanisms.contains(&"PLAIN") {
            return Err(refused(format!(
                "the XMPP server {} offers no PLAIN login{} (it offers: {})",
                self.address(),
                if secure { "" } else { " without TLS" },
                if mechanisms.is_empty() {
                    "none".to_owned()
                } else {
                    mechanisms.join(", ")
                }
            )));
        }
        let credentials = format!("\0{}\0{}", self.jid.local, self.options.password);
        let auth = base64::engine::general_purpose::STANDARD.encode(credentials);
        send(
            write,
            &format!(
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>"
            ),
        )
        .await?;
        let answer = reader.stanza().await.map_err(broken)?;
        match answer.local() {
            "success" => {}
            "failure" => {
                let condition = answer
                    .children
                    .first()
                    .map_or("failure", |c| c.local())
                    .to_owned();
                return Err(refused(format!(
                    "the XMPP server {} refused {}@{}: {condition}",
                    self.address(),
                    self.jid.local,
                    self.jid.domain
                )));
            }
            other => {
                return Err(Failure::retry(
                    false,
                    format!("unexpected <{other}> after login"),
                ));
            }
        }
        let mut reader = reader.restart();
        let features = self.open(&mut reader, write).await?;
        if features.child("bind").is_none() {
            return Err(Failure::retry(
                false,
                "the server offers no resource binding",
            ));
        }
        send(
            write,
            "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <resource>micro-bot</resource></bind></iq>",
        )
        .await?;
        let own = loop {
            let stanza = reader.stanza().await.map_err(broken)?;
            if stanza.local() == "iq" && stanza.attr("id") == Some("bind") {
                if stanza.attr("type") != Some("result") {
                    return Err(Failure::retry(
                        false,
                        "the server refused to bind a resource",
                    ));
                }
                break stanza
                    .child("bind")
                    .and_then(|b| b.child("jid"))
                    .map(|j| j.text.trim().to_owned())
                    .unwrap_or_default();
            }
        };
        // RFC 3921 sessions, for servers that still ask for them.
        if features
            .child("session")
            .is_some_and(|s| s.child("optional").is_none())
        {
            send(
                write,
                "<iq type='set' id='session'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
            )
            .await?;
        }
        Ok((reader, own))
    }

    async fn listen<R>(
        &self,
        mut reader: XmlReader<R>,
        out: mpsc::Sender<String>,
        outbox: Outbox,
        bot: Arc<Bot>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), Failure>
    where
        R: AsyncRead + Unpin,
    {
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        loop {
            let stanza = tokio::select! {
                stanza = reader.stanza() => stanza,
                _ = keepalive.tick() => {
                    let _ = out.send(" ".to_owned()).await;
                    continue;
                }
                _ = stop.changed() => {
                    drop(out);
                    outbox.close("<presence type='unavailable'/></stream:stream>").await;
                    return Ok(());
                }
            };
            let stanza = stanza.map_err(|e| Failure::retry(true, e))?;
            match stanza.local() {
                "message" => {
                    if let Some((to, kind, prefix, text)) = self.addressed(&stanza) {
                        let bot = bot.clone();
                        let out = out.clone();
                        let sender = stanza.attr("from").unwrap_or_default().to_owned();
                        tokio::spawn(async move {
                            let answer = bot.answer("xmpp", &sender, &text).await;
                            let reply = format!(
                                "<message to='{}' type='{kind}'><body>{}</body></message>",
                                escape(&to),
                                escape(&format!("{prefix}{answer}"))
                            );
                            let _ = out.send(reply).await;
                        });
                    }
                }
                "presence" => {
                    if let Some(unlock) = instant_room(&stanza) {
                        let _ = out.send(unlock).await;
                    }
                }
                "iq" => {
                    if let Some(reply) = iq_reply(&stanza) {
                        let _ = out.send(reply).await;
                    }
                }
                "error" => return Err(Failure::retry(true, stream_error(&stanza))),
                _ => {}
            }
        }
    }

    /// For a message to the bot: who gets the answer, the message type, what starts the
    /// answer (`nick: ` in a room) and the command.
    fn addressed(&self, message: &Element) -> Option<(String, &'static str, String, String)> {
        let from = message.attr("from")?;
        let body = message.child("body")?.text.trim();
        if body.is_empty() {
            return None;
        }
        match message.attr("type").unwrap_or("normal") {
            "chat" | "normal" => Some((from.to_owned(), "chat", String::new(), body.to_owned())),
            "groupchat" => {
                // History replayed on joining, and the bot's own messages, are not for it.
                if message.child("delay").is_some() {
                    return None;
                }
                let (room, sender) = from.split_once('/')?;
                let nick = self.nick();
                if sender == nick {
                    return None;
                }
                let rest = body.get(nick.len()..)?;
                if !body.get(..nick.len())?.eq_ignore_ascii_case(nick)
                    || !rest.starts_with([':', ',', ' '])
                {
                    return None;
                }
                let command = rest.trim_start_matches([':', ',']).trim();
                Some((
                    room.to_owned(),
                    "groupchat",
                    format!("{sender}: "),
                    command.to_owned(),
                ))
            }
            _ => None,
        }
    }
}

/// The answer to a request: a pong for XEP-0199 pings, `service-unavailable` for other
/// gets and sets (RFC 6120 §8.2.3 wants every one answered), nothing for results.
fn iq_reply(iq: &Element) -> Option<String> {
    let kind = iq.attr("type")?;
    if kind != "get" && kind != "set" {
        return None;
    }
    let id = escape(iq.attr("id").unwrap_or_default());
    let to = iq
        .attr("from")
        .map(|from| format!(" to='{}'", escape(from)))
        .unwrap_or_default();
    if kind == "get" && iq.child("ping").is_some() {
        return Some(format!("<iq type='result' id='{id}'{to}/>"));
    }
    Some(format!(
        "<iq type='error' id='{id}'{to}><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ))
}

/// A room the bot's join just created is locked until configured (XEP-0045 §10.1.2): the
/// request that takes the default configuration, so others can join.
fn instant_room(presence: &Element) -> Option<String> {
    let created = presence
        .children
        .iter()
        .filter(|c| c.local() == "x")
        .flat_map(|x| &x.children)
        .any(|status| status.local() == "status" && status.attr("code") == Some("201"));
    if !created {
        return None;
    }
    let room = presence.attr("from")?.split('/').next()?;
    Some(format!(
        "<iq type='set' id='unlock' to='{}'><query xmlns='http://jabber.org/protocol/muc#owner'>\
         <x xmlns='jabber:x:data' type='submit'/></query></iq>",
        escape(room)
    ))
}

/// A stream error's condition and text.
fn stream_error(error: &Element) -> String {
    let condition = error
        .children
        .iter()
        .find(|c| c.local() != "text")
        .map_or("unknown", |c| c.local());
    match error.child("text") {
        Some(text) => format!("stream error {condition}: {}", text.text.trim()),
        None => format!("stream error {condition}"),
    }
}

async fn send<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> Result<(), Failure> {
    write
        .write_all(text.as_bytes())
        .await
        .map_err(|e| Failure::retry(false, e))?;
    write.flush().await.map_err(|e| Failure::retry(false, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xmpp() -> Xmpp {
        let options = XmppOptions {
            jid: "micro@example.com".into(),
            password: "secret".into(),
            ..XmppOptions::default()
        };
        Xmpp::new(options).unwrap_or_else(|e| panic!("{e}"))
    }

    fn message(from: &str, kind: &str, body: &str) -> Element {
        Element {
            name: "message".into(),
            attrs: vec![("from".into(), from.into()), ("type".into(), kind.into())],
            children: vec![Element {
                name: "body".into(),
                text: body.into(),
                ..Element::default()
            }],
            text: String::new(),
        }
    }

    #[test]
    fn accounts_and_rooms_are_checked() {
        assert_eq!(xmpp().address(), "example.com:5222");
        let bad = XmppOptions {
            jid: "nobody".into(),
            password: "x".into(),
            ..XmppOptions::default()
        };
        assert!(Xmpp::new(bad).is_err_and(|e| e.detail().contains("not valid")));
        let bad = XmppOptions {
            jid: "a@b".into(),
            ..XmppOptions::default()
        };
        assert!(Xmpp::new(bad).is_err_and(|e| e.detail().contains("no password")));
    }

    #[test]
    fn direct_messages_and_mentions_in_rooms_are_for_the_bot() {
        let x = xmpp();
        assert_eq!(
            x.addressed(&message("alice@example.com/phone", "chat", " ping ")),
            Some((
                "alice@example.com/phone".into(),
                "chat",
                String::new(),
                "ping".into()
            ))
        );
        assert_eq!(
            x.addressed(&message(
                "ops@conference.example.com/alice",
                "groupchat",
                "micro: list services"
            )),
            Some((
                "ops@conference.example.com".into(),
                "groupchat",
                "alice: ".into(),
                "list services".into()
            ))
        );
        for (from, kind, body) in [
            ("ops@conference.example.com/alice", "groupchat", "hello all"),
            (
                "ops@conference.example.com/micro",
                "groupchat",
                "micro: ping",
            ),
            ("alice@example.com", "headline", "ping"),
            ("alice@example.com", "chat", "  "),
        ] {
            assert_eq!(x.addressed(&message(from, kind, body)), None, "{body}");
        }
    }

    #[test]
    fn a_room_the_bot_created_is_opened() {
        let status = |code: &str| Element {
            name: "status".into(),
            attrs: vec![("code".into(), code.into())],
            ..Element::default()
        };
        let mut presence = Element {
            name: "presence".into(),
            attrs: vec![("from".into(), "ops@conference.example.com/micro".into())],
            children: vec![Element {
                name: "x".into(),
                children: vec![status("110"), status("201")],
                ..Element::default()
            }],
            text: String::new(),
        };
        let unlock = instant_room(&presence).unwrap_or_default();
        assert!(
            unlock.contains("to='ops@conference.example.com'") && unlock.contains("muc#owner"),
            "{unlock}"
        );
        presence.children[0].children.pop();
        assert_eq!(instant_room(&presence), None);
    }

    #[test]
    fn pings_are_answered_and_other_requests_refused() {
        let ping = Element {
            name: "iq".into(),
            attrs: vec![
                ("type".into(), "get".into()),
                ("id".into(), "p1".into()),
                ("from".into(), "example.com".into()),
            ],
            children: vec![Element {
                name: "ping".into(),
                ..Element::default()
            }],
            text: String::new(),
        };
        assert_eq!(
            iq_reply(&ping).as_deref(),
            Some("<iq type='result' id='p1' to='example.com'/>")
        );
        let mut version = ping.clone();
        version.children[0].name = "query".into();
        assert!(iq_reply(&version).is_some_and(|r| r.contains("service-unavailable")));
        let mut result = ping;
        result.attrs[0].1 = "result".into();
        assert_eq!(iq_reply(&result), None);
    }
}
