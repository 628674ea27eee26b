//! The Slack input: events through Socket Mode (a WebSocket the app opens, so no public
//! URL is needed), answers through the Web API's `chat.postMessage`.
//!
//! The bot answers direct messages and messages that mention it (`@micro list services`),
//! in the thread they came in. It needs an app-level token (`xapp-…`, scope
//! `connections:write`) and a bot token (`xoxb-…`, scopes `app_mentions:read`, `im:history`,
//! `chat:write`), with the events `app_mention` and `message.im` subscribed.
//!
//! Written against Slack's documented API (apps.connections.open, auth.test,
//! chat.postMessage, the Socket Mode envelope and acknowledgement); this machine cannot
//! reach Slack, so its tests run against a local server that replays exchanges shaped
//! after the documentation's examples.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::connection::{Failure, reconnecting};
use crate::{Bot, BoxFuture, Input};

/// Slack's Web API.
pub const API: &str = "https://slack.com/api/";
/// How long a connection or a Web API call may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The largest Web API answer read.
const MAX_ANSWER: usize = 1 << 20;
/// Silence on the Socket Mode connection this long gets a ping; as long again, a reconnect.
const IDLE: Duration = Duration::from_secs(120);
/// The longest message text sent (Slack truncates after 40,000 characters).
const MAX_TEXT: usize = 39_000;

/// The tokens the Slack app gave, and where its API is.
#[derive(Clone)]
#[non_exhaustive]
pub struct SlackOptions {
    /// The bot token, `xoxb-…`: answers are posted with it.
    pub bot_token: String,
    /// The app-level token, `xapp-…`: opens the Socket Mode connection.
    pub app_token: String,
    /// The Web API's base URL. Default [`API`]; `http://` only on loopback (for tests).
    pub api: String,
}

impl Default for SlackOptions {
    fn default() -> SlackOptions {
        SlackOptions {
            bot_token: String::new(),
            app_token: String::new(),
            api: API.to_owned(),
        }
    }
}

impl std::fmt::Debug for SlackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackOptions")
            .field("bot_token", &"<redacted>")
            .field("app_token", &"<redacted>")
            .field("api", &self.api)
            .finish()
    }
}

/// The Slack input.
#[derive(Clone)]
pub struct Slack {
    options: SlackOptions,
    api: Endpoint,
    tls: tokio_rustls::TlsConnector,
    /// The latest events handled: Slack delivers again what it thinks was missed.
    seen: Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// How many event ids are remembered to drop redeliveries.
const SEEN: usize = 512;

/// Where the Web API is.
#[derive(Clone, Debug)]
struct Endpoint {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

impl Endpoint {
    fn parse(url: &str) -> micro::Result<Endpoint> {
        let bad = |why: &str| {
            micro::Error::bad_request(crate::ID, format!("Slack API URL {url:?}: {why}"))
        };
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("use https://")),
        };
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !tls && !loopback(&host) {
            return Err(bad(
                "plain http sends the tokens in the clear: use https://",
            ));
        }
        let mut path = uri.path().to_owned();
        if !path.ends_with('/') {
            path.push('/');
        }
        Ok(Endpoint {
            port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            tls,
            host,
            path,
        })
    }
}

/// Whether `host` is this machine (where plain http and ws are allowed, for tests).
fn loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Slack {
    /// A Slack input with `options`: both tokens must be set and of the right kind.
    pub fn new(options: SlackOptions) -> micro::Result<Slack> {
        let bad = |why: String| Err(micro::Error::bad_request(crate::ID, why));
        if !options.bot_token.starts_with("xoxb-") {
            return bad("the Slack bot token must be the app's bot token (xoxb-…)".to_owned());
        }
        if !options.app_token.starts_with("xapp-") {
            return bad(
                "the Slack app token must be an app-level token with connections:write (xapp-…)"
                    .to_owned(),
            );
        }
        let api = Endpoint::parse(&options.api)?;
        Ok(Slack {
            options,
            api,
            tls: crate::tls::connector(None)?,
            seen: Arc::default(),
        })
    }
}

impl Input for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn run<'a>(
        &'a self,
        bot: Arc<Bot>,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, micro::Result<()>> {
        Box::pin(reconnecting("slack", stop, move |stop| {
            self.session(bot.clone(), stop)
        }))
    }
}

/// A byte stream, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Slack {
    async fn connect(&self, tls: bool, host: &str, port: u16) -> Result<Box<dyn Io>, Failure> {
        let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect((host, port)))
            .await
            .map_err(|_| Failure::retry(false, format!("{host}:{port}: no answer")))?
            .map_err(|e| Failure::retry(false, format!("{host}:{port}: {e}")))?;
        if !tls {
            return Ok(Box::new(tcp));
        }
        let stream = tokio::time::timeout(TIMEOUT, crate::tls::handshake(&self.tls, host, tcp))
            .await
            .map_err(|_| Failure::retry(false, format!("{host}:{port}: no TLS handshake")))?
            .map_err(|e| Failure::retry(false, e.detail()))?;
        Ok(Box::new(stream))
    }

    /// Whether event `id` came before (then it is not run again).
    fn seen_before(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.iter().any(|s| s == id) {
            return true;
        }
        if seen.len() == SEEN {
            seen.pop_front();
        }
        seen.push_back(id.to_owned());
        false
    }

    /// Call Web API `method` with `token` and a JSON body; its answer when `ok`.
    async fn call(&self, method: &str, token: &str, body: &Value) -> Result<Value, Failure> {
        let api = &self.api;
        let io = self.connect(api.tls, &api.host, api.port).await?;
        let io = hyper_util::rt::TokioIo::new(io);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| Failure::retry(false, format!("Slack API: {e}")))?;
        let driver = tokio::spawn(connection);
        let request = http::Request::post(format!("{}{method}", api.path))
            .header(http::header::HOST, &api.host)
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| Failure::Fatal(micro::Error::internal(crate::ID, e.to_string())))?;
        let answer = tokio::time::timeout(TIMEOUT, async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, body.to_bytes()))
        })
        .await;
        driver.abort();
        let (status, bytes) = answer
            .map_err(|_| Failure::retry(false, format!("Slack {method}: no answer")))?
            .map_err(|e| Failure::retry(false, format!("Slack {method}: {e}")))?;
        if status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Failure::retry(
                false,
                format!("Slack {method}: HTTP {status}"),
            ));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::retry(
                false,
                format!("Slack {method} answered HTTP {status}, not JSON: {e}"),
            )
        })?;
        if value["ok"] == true {
            return Ok(value);
        }
        let error = value["error"]
            .as_str()
            .unwrap_or("unknown_error")
            .to_owned();
        Err(match error.as_str() {
            "invalid_auth"
            | "not_authed"
            | "account_inactive"
            | "token_revoked"
            | "not_allowed_token_type"
            | "missing_scope" => Failure::Fatal(micro::Error::unauthorized(
                crate::ID,
                format!("Slack {method} refused the token: {error}"),
            )),
            _ => Failure::retry(false, format!("Slack {method}: {error}")),
        })
    }

    async fn session(&self, bot: Arc<Bot>, mut stop: watch::Receiver<bool>) -> Result<(), Failure> {
        let me = self
            .call("auth.test", &self.options.bot_token, &json!({}))
            .await?;
        let own = me["user_id"].as_str().unwrap_or_default().to_owned();
        let open = self
            .call("apps.connections.open", &self.options.app_token, &json!({}))
            .await?;
        let url = open["url"]
            .as_str()
            .ok_or_else(|| Failure::retry(false, "apps.connections.open gave no url"))?;
        let uri: http::Uri = url
            .parse()
            .map_err(|_| Failure::retry(false, format!("Socket Mode URL {url:?} is not a URL")))?;
        let tls = uri.scheme_str() == Some("wss");
        let host = uri.host().unwrap_or_default().to_owned();
        if !tls && !loopback(&host) {
            return Err(Failure::retry(
                false,
                format!("Socket Mode URL {url:?} is not wss://: refused"),
            ));
        }
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let io = self.connect(tls, &host, port).await?;
        let config = WebSocketConfig::default().max_message_size(Some(MAX_ANSWER));
        let (mut socket, _) = tokio::time::timeout(
            TIMEOUT,
            tokio_tungstenite::client_async_with_config(url, io, Some(config)),
        )
        .await
        .map_err(|_| Failure::retry(false, "Socket Mode: no handshake"))?
        .map_err(|e| Failure::retry(false, format!("Socket Mode: {e}")))?;
        tracing::info!(target: "micro::bot", input = "slack", user = own, "connected");
        let this = Arc::new(self.clone());
        // Silence for IDLE gets a ping; silence for IDLE again after it, a reconnect.
        let mut heard = tokio::time::Instant::now();
        let mut pinged = false;
        loop {
            let frame = tokio::select! {
                frame = socket.next() => frame,
                _ = stop.changed() => {
                    let _ = socket.close(None).await;
                    return Ok(());
                }
                () = tokio::time::sleep_until(heard + IDLE) => {
                    if pinged {
                        return Err(Failure::retry(true, "Slack stopped answering"));
                    }
                    let _ = socket.send(Message::Ping(Default::default())).await;
                    pinged = true;
                    heard = tokio::time::Instant::now();
                    continue;
                }
            };
            heard = tokio::time::Instant::now();
            pinged = false;
            // tungstenite answers pings by itself.
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None => {
                    return Err(Failure::retry(true, "Slack closed the connection"));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Failure::retry(true, format!("Socket Mode: {e}"))),
            };
            let Ok(envelope) = serde_json::from_str::<Value>(text.as_str()) else {
                tracing::warn!(target: "micro::bot", input = "slack", "a Socket Mode frame is not JSON");
                continue;
            };
            // Every envelope is acknowledged at once, or Slack sends it again.
            if let Some(id) = envelope["envelope_id"].as_str() {
                let ack = json!({ "envelope_id": id }).to_string();
                socket
                    .send(Message::text(ack))
                    .await
                    .map_err(|e| Failure::retry(true, format!("Socket Mode: {e}")))?;
            }
            match envelope["type"].as_str() {
                Some("disconnect") => {
                    let _ = socket.close(None).await;
                    return Err(Failure::retry(
                        true,
                        format!(
                            "Slack asked to reconnect ({})",
                            envelope["reason"].as_str().unwrap_or("no reason")
                        ),
                    ));
                }
                Some("events_api") => {
                    let payload = &envelope["payload"];
                    if let Some(id) = payload["event_id"].as_str()
                        && self.seen_before(id)
                    {
                        continue;
                    }
                    if let Some(ask) = addressed(&payload["event"], &own) {
                        let this = this.clone();
                        let bot = bot.clone();
                        tokio::spawn(async move { this.reply(&bot, ask).await });
                    }
                }
                _ => {}
            }
        }
    }

    async fn reply(&self, bot: &Bot, ask: Ask) {
        let answer = bot.answer("slack", &ask.user, &ask.text).await;
        let mut text = escape(&answer);
        if answer.contains('\n') {
            text = format!("```{text}```");
        }
        if text.len() > MAX_TEXT {
            let mut end = MAX_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        let mut body = json!({ "channel": ask.channel, "text": text });
        if let Some(thread) = ask.thread {
            body["thread_ts"] = Value::String(thread);
        }
        if let Err(failure) = self
            .call("chat.postMessage", &self.options.bot_token, &body)
            .await
        {
            tracing::warn!(target: "micro::bot", input = "slack", error = ?failure, "answer not posted");
        }
    }
}

/// A message for the bot: where to answer and the command.
#[derive(Debug, PartialEq, Eq)]
struct Ask {
    user: String,
    channel: String,
    thread: Option<String>,
    text: String,
}

/// A direct message or a mention of the bot (`own`), not one of its own messages, not an
/// edit or another bot's post.
fn addressed(event: &Value, own: &str) -> Option<Ask> {
    let kind = event["type"].as_str()?;
    if event.get("bot_id").is_some_and(|b| !b.is_null()) || event.get("subtype").is_some() {
        return None;
    }
    let user = event["user"].as_str()?;
    if user == own {
        return None;
    }
    let direct = kind == "message" && event["channel_type"] == "im";
    if kind != "app_mention" && !direct {
        return None;
    }
    let mut text = unescape(event["text"].as_str()?);
    let mention = format!("<@{own}>");
    if let Some(rest) = text.trim_start().strip_prefix(&mention) {
        text = rest.to_owned();
    }
    Some(Ask {
        user: user.to_owned(),
        channel: event["channel"].as_str()?.to_owned(),
        thread: event["thread_ts"]
            .as_str()
            .or(if direct { None } else { event["ts"].as_str() })
            .map(str::to_owned),
        text: text.trim().to_owned(),
    })
}

/// Slack's text as typed: `&lt;`, `&gt;`, `&amp;` back to characters, links to their
/// address, and typographic quotes (macOS) back to plain ones so JSON arguments parse.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &rest[open + 1..open + close];
        // <https://x|label> → https://x; <@U123> stays (a mention).
        if inner.starts_with("http") || inner.starts_with("mailto:") {
            out.push_str(inner.split('|').next().unwrap_or(inner));
        } else {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace(['\u{201C}', '\u{201D}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'")
}

/// Text escaped the way Slack's message formatting asks.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("```", "'''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_direct_messages_are_for_the_bot() {
        let mention = json!({
            "type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.2",
            "text": "<@UBOT> call greeter Greeter.Hello {\u{201C}name\u{201D}: \u{201C}John &amp; Al\u{201D}}"
        });
        assert_eq!(
            addressed(&mention, "UBOT"),
            Some(Ask {
                user: "U1".into(),
                channel: "C1".into(),
                thread: Some("1.2".into()),
                text: r#"call greeter Greeter.Hello {"name": "John & Al"}"#.into()
            })
        );
        let direct = json!({"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "text": "ping", "ts": "3.4"});
        assert_eq!(
            addressed(&direct, "UBOT"),
            Some(Ask {
                user: "U1".into(),
                channel: "D1".into(),
                thread: None,
                text: "ping".into()
            })
        );
        for ignored in [
            json!({"type": "message", "channel_type": "im", "user": "UBOT", "channel": "D1", "text": "pong"}),
            json!({"type": "message", "channel_type": "im", "bot_id": "B2", "user": "U2", "channel": "D1", "text": "x"}),
            json!({"type": "message", "channel_type": "im", "subtype": "message_changed", "channel": "D1"}),
            json!({"type": "message", "channel_type": "channel", "user": "U1", "channel": "C1", "text": "ping"}),
        ] {
            assert_eq!(addressed(&ignored, "UBOT"), None, "{ignored}");
        }
    }

    #[test]
    fn links_unwrap_and_answers_escape() {
        assert_eq!(
            unescape("get <https://a.b/c|a.b/c> &lt;x&gt;"),
            "get https://a.b/c <x>"
        );
        assert_eq!(escape("a<b>&```"), "a&lt;b&gt;&amp;'''");
    }

    #[test]
    fn tokens_and_api_urls_are_checked() {
        let options = |bot: &str, app: &str, api: &str| SlackOptions {
            bot_token: bot.into(),
            app_token: app.into(),
            api: api.into(),
        };
        assert!(Slack::new(options("xoxb-1", "xapp-1", API)).is_ok());
        assert!(Slack::new(options("xoxb-1", "xapp-1", "http://127.0.0.1:9/api")).is_ok());
        assert!(
            Slack::new(options("xoxp-1", "xapp-1", API))
                .is_err_and(|e| e.detail().contains("xoxb"))
        );
        assert!(
            Slack::new(options("xoxb-1", "xoxb-1", API))
                .is_err_and(|e| e.detail().contains("xapp"))
        );
        assert!(
            Slack::new(options("xoxb-1", "xapp-1", "http://slack.example.com/api"))
                .is_err_and(|e| e.detail().contains("in the clear"))
        );
    }
}
