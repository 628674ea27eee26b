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

mod stanza;

use crate::connection::{Failure, reconnecting};
use crate::outbox::{Outbox, Writing};
use crate::{Bot, BoxFuture, Input};
use stanza::{addressed, instant_room, iq_reply, stream_error};

/// How long the connection and the login may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// After this long without writing, the bot pings the server (XEP-0199).
const KEEPALIVE: Duration = Duration::from_secs(90);
/// Nothing read for this long (pings included) means the connection is dead.
const IDLE: Duration = Duration::from_secs(300);

/// Which account the bot signs in as, and where.
#[derive(Clone, Default)]
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

impl std::fmt::Debug for XmppOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmppOptions")
            .field("jid", &self.jid)
            .field("password", &"<redacted>")
            .field("address", &self.address)
            .field("no_tls", &self.no_tls)
            .field("ca_file", &self.ca_file)
            .field("rooms", &self.rooms)
            .field("nick", &self.nick)
            .finish()
    }
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
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            crate::tls::handshake(&connector, &self.jid.domain, tcp),
        )
        .await
        .map_err(|_| Failure::retry(false, format!("{address}: no TLS handshake")))?
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
        // An XMPP ping to the server when the bot has said nothing for a while: the answer
        // shows the connection is alive (and keeps NATs open).
        let ping = format!(
            "<iq type='get' id='keepalive' to='{}'><ping xmlns='urn:xmpp:ping'/></iq>",
            escape(&self.jid.domain)
        );
        let outbox = Outbox::spawn(
            write,
            Writing {
                paced: false,
                keepalive: Some((KEEPALIVE, ping)),
            },
        );
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
        let urgent = outbox.urgent();
        loop {
            // Each branch but the first ends the session, so a stanza is never cut short.
            let stanza = tokio::select! {
                stanza = reader.stanza() => stanza,
                _ = stop.changed() => {
                    drop((out, urgent));
                    outbox.close("<presence type='unavailable'/></stream:stream>").await;
                    return Ok(());
                }
                () = tokio::time::sleep(IDLE) => {
                    return Err(Failure::retry(true, "the server stopped answering"));
                }
                () = out.closed() => {
                    return Err(Failure::retry(true, "writing to the server failed"));
                }
            };
            let stanza = stanza.map_err(|e| Failure::retry(true, e))?;
            match stanza.local() {
                "message" => {
                    if let Some((to, kind, prefix, text)) = addressed(&stanza, self.nick()) {
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
                        let _ = urgent.send(unlock).await;
                    }
                }
                "iq" => {
                    if let Some(reply) = iq_reply(&stanza) {
                        let _ = urgent.send(reply).await;
                    }
                }
                "error" => return Err(Failure::retry(true, stream_error(&stanza))),
                _ => {}
            }
        }
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
}
