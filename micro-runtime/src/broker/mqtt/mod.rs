//! The MQTT broker (`MICRO_BROKER=mqtt`, `MICRO_BROKER_ADDRESS=mqtt://user:pass@host:1883`),
//! MQTT 5 as Mosquitto 2 speaks it.
//!
//! - **Topics**: micro's dots are MQTT's slashes: `orders.created` is published on
//!   `orders/created`, and a message arriving on `orders/created` is given to handlers as
//!   `orders.created`. A micro topic holding `/` is refused (it would be the same MQTT topic
//!   as its dotted twin), and so are MQTT's wildcards `+` and `#`: a publish names one topic.
//! - **Publish** at QoS 1: it returns once the server acknowledged the message (`PUBACK`),
//!   or fails within the broker's timeout; a refusal maps to 403 (not authorized), 400
//!   (invalid topic or payload) or 429 (quota). Headers travel as MQTT 5 user properties, the
//!   content type as its content type; a header with a control character is refused (400).
//!   While the server is unreachable a publish fails with an error naming the address; the
//!   next one connects again.
//! - **Queue groups** are shared subscriptions (`$share/<group>/<topic>`): the server hands
//!   each message to one member. Each member has a persistent session (QoS 1, acknowledged
//!   after the handler, `MICRO_HOME` decides its name: see below); a failed message is
//!   handled again in the member after micro's backoff (MQTT has no negative
//!   acknowledgement) and acknowledged once it succeeded or was dead-lettered.
//! - **Member sessions**: a member's client id is `micro-<group>-<topic hash>-<home id>-<slot>`.
//!   The home id is made once per `MICRO_HOME`; the slot is the lowest one no live process of
//!   that home holds (a lock file each). So a process that crashed is replaced by the next
//!   one of its service started on that host, which takes its slot, resumes its session and
//!   gets what the dead one held: at least once. The weaker part, said plainly: Mosquitto
//!   keeps giving an offline member its share of new messages until its session expires (an
//!   hour by default, [`MqttBroker::with_session_expiry`]), so a member whose host never
//!   comes back delays its share until then and loses it then; and it drops what it queues
//!   for a member, away or only slow, past `max_queued_messages` (1000 by default: set it to
//!   0 for at least once). After a Mosquitto restart (2.0.11), a restored session stopped
//!   receiving after a few dozen messages in our tests: restart the members too. A member
//!   that unsubscribes leaves the group first, handles what
//!   the server had already sent it, and leaves what it could not finish within the grace
//!   period in its session, for the next process that takes its slot.
//! - **Broadcast** subscriptions have a clean session of their own: at most once across
//!   crashes, handler errors retried in the subscriber.

mod publish;
mod subscribe;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5::PublishProperties;
use tokio::sync::Mutex as AsyncMutex;

use super::{
    BoxFuture, Broker, Envelope, HEADER_CONTENT_TYPE, Handler, ID, SubscribeOptions, Subscription,
    validate_topic,
};
use crate::context::Metadata;
use crate::error::{Error, Result};

/// The largest message (body and headers) sent or accepted by default: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// How long a crashed member's session waits for its replacement by default: an hour.
pub const DEFAULT_SESSION_EXPIRY: Duration = Duration::from_secs(3600);

/// MQTT's limit on one string (a header name or value), in bytes.
const MAX_STRING: usize = 65_535;

/// Messages through an MQTT 5 server. Clones share the publishing connection.
#[derive(Clone, Debug)]
pub struct MqttBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    address: Address,
    timeout: Duration,
    home: PathBuf,
    max_message: usize,
    session_expiry: Duration,
    publisher: AsyncMutex<Option<publish::Publisher>>,
}

/// Where the server is, as `mqtt://[user[:password]@]host[:port]` (`tcp://` and a bare
/// `host:port` work too).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Address {
    /// The address as given, for messages (its password masked).
    shown: String,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Address {
    fn parse(address: &str) -> Result<Address> {
        let shown = crate::net::redact(address);
        let bad = |why: &str| {
            Error::bad_request(
                ID,
                format!(
                    "mqtt address {shown:?} {why} (expected mqtt://[user:password@]host[:port])"
                ),
            )
        };
        let rest = match address.split_once("://") {
            Some(("mqtt" | "tcp", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "has the scheme {scheme:?}; this build speaks plain mqtt:// (tcp)"
                )));
            }
            None => address,
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .map(|s| s.into_owned())
                        .map_err(|_| bad("has credentials that are not UTF-8"))
                };
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (Some((decode(user)?, decode(password)?)), hostport)
            }
            None => (None, rest),
        };
        let bad_port = |port: &str| bad(&format!("has the port {port:?}, not a number"));
        // rumqttc joins host and port as `host:port`: an IPv6 host keeps its brackets.
        let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| bad("has an unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse::<u16>().map_err(|_| bad_port(port))?,
                None if after.is_empty() => 1883,
                None => return Err(bad("has text after the ]")),
            };
            (format!("[{inside}]"), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (
                    host.to_owned(),
                    port.parse::<u16>().map_err(|_| bad_port(port))?,
                ),
                None => (hostport.to_owned(), 1883),
            }
        };
        if host.is_empty() || host == "[]" || host.contains('/') {
            return Err(bad("has no host"));
        }
        Ok(Address {
            shown,
            host,
            port,
            credentials,
        })
    }
}

impl MqttBroker {
    /// A broker on the MQTT server at `address` (`mqtt://user:pass@host:1883`); each
    /// connection attempt may take `timeout`; member sessions are named from `home`
    /// (`MICRO_HOME`).
    pub fn new(address: &str, timeout: Duration, home: &Path) -> Result<MqttBroker> {
        Ok(MqttBroker {
            inner: Arc::new(Inner {
                address: Address::parse(address)?,
                timeout,
                home: home.to_owned(),
                max_message: DEFAULT_MAX_MESSAGE,
                session_expiry: DEFAULT_SESSION_EXPIRY,
                publisher: AsyncMutex::new(None),
            }),
        })
    }

    fn rebuilt(&self, change: impl FnOnce(&mut Inner)) -> MqttBroker {
        let mut inner = Inner {
            address: self.inner.address.clone(),
            timeout: self.inner.timeout,
            home: self.inner.home.clone(),
            max_message: self.inner.max_message,
            session_expiry: self.inner.session_expiry,
            publisher: AsyncMutex::new(None),
        };
        change(&mut inner);
        MqttBroker {
            inner: Arc::new(inner),
        }
    }

    /// Refuse (and never accept) messages larger than `bytes`, body and headers together
    /// (16 MiB by default; the server's own limit, when lower, applies too).
    #[must_use]
    pub fn with_max_message_size(self, bytes: usize) -> MqttBroker {
        self.rebuilt(|inner| inner.max_message = bytes.max(1024))
    }

    /// How long the server keeps a crashed member's session (and the messages it is given)
    /// for the process that replaces it (an hour by default; whole seconds).
    #[must_use]
    pub fn with_session_expiry(self, expiry: Duration) -> MqttBroker {
        self.rebuilt(|inner| inner.session_expiry = expiry)
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::unavailable(
            ID,
            format!("mqtt broker at {}: {what}: {e}", self.inner.address.shown),
        )
    }

    /// Connection options every client of this broker starts from.
    fn options(&self, client_id: &str) -> rumqttc::v5::MqttOptions {
        let address = &self.inner.address;
        let mut options =
            rumqttc::v5::MqttOptions::new(client_id, address.host.clone(), address.port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_connection_timeout(self.inner.timeout.as_secs().max(1))
            .set_max_packet_size(u32::try_from(self.packet_limit()).ok());
        if let Some((user, password)) = &address.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        options
    }

    /// The largest packet: a message plus room for its topic and properties.
    fn packet_limit(&self) -> usize {
        self.inner.max_message.saturating_add(64 << 10)
    }
}

/// The MQTT topic of a micro topic: dots become slashes. Wildcards and slashes are refused.
pub(crate) fn mqtt_topic(topic: &str) -> Result<String> {
    if topic.contains(['+', '#']) {
        return Err(Error::bad_request(
            ID,
            format!(
                "topic {topic:?} holds an MQTT wildcard (+ or #): a message goes to one topic, and micro topics never carry wildcards"
            ),
        ));
    }
    if topic.contains('/') {
        return Err(Error::bad_request(
            ID,
            format!(
                "topic {topic:?} holds '/': MQTT carries micro's dots as slashes, so {topic:?} and {:?} would be one topic; use dots",
                topic.replace('/', ".")
            ),
        ));
    }
    validate_topic(topic)?;
    Ok(topic.replace('.', "/"))
}

/// Characters an MQTT 5 string may not hold (control characters and non-characters; see
/// the MQTT 5 specification, 1.5.4).
fn forbidden_in_mqtt(c: char) -> bool {
    c.is_control() || ('\u{fdd0}'..='\u{fdef}').contains(&c)
}

/// The micro topic of an MQTT topic: slashes become dots.
pub(crate) fn micro_topic(mqtt: &str) -> String {
    mqtt.replace('/', ".")
}

/// A message's MQTT 5 properties: its headers as user properties, its content type.
fn properties(message: &Envelope) -> Result<PublishProperties> {
    let mut properties = PublishProperties::default();
    for (k, v) in message.headers.iter() {
        if k.len() > MAX_STRING || v.len() > MAX_STRING {
            return Err(Error::too_large(
                ID,
                format!(
                    "header {:?} is {} bytes; MQTT strings stop at {MAX_STRING}",
                    k.chars().take(40).collect::<String>(),
                    k.len().max(v.len())
                ),
            ));
        }
        // MQTT strings are UTF-8 without control characters (Mosquitto drops a client that
        // sends one): refuse them here, naming the header, instead of losing the connection.
        if let Some(bad) = k.chars().chain(v.chars()).find(|c| forbidden_in_mqtt(*c)) {
            return Err(Error::bad_request(
                ID,
                format!(
                    "header {:?} holds the control character {:?}, which MQTT strings cannot carry",
                    k.chars().take(40).collect::<String>(),
                    bad
                ),
            ));
        }
        if k == HEADER_CONTENT_TYPE {
            properties.content_type = Some(v.to_owned());
        } else {
            properties
                .user_properties
                .push((k.to_owned(), v.to_owned()));
        }
    }
    Ok(properties)
}

/// A received message: its properties back into headers.
fn to_envelope(topic: &str, payload: Bytes, properties: Option<&PublishProperties>) -> Envelope {
    let mut headers = Metadata::new();
    if let Some(properties) = properties {
        for (k, v) in &properties.user_properties {
            headers.insert(k.as_str(), v.as_str());
        }
        if let Some(content_type) = &properties.content_type {
            headers.insert(HEADER_CONTENT_TYPE, content_type.as_str());
        }
    }
    if headers.get(super::HEADER_ID).is_none() {
        headers.insert(super::HEADER_ID, super::new_id());
    }
    if headers.get(super::HEADER_TOPIC).is_none() {
        headers.insert(super::HEADER_TOPIC, topic);
    }
    Envelope {
        headers,
        body: payload,
    }
}

impl Broker for MqttBroker {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn address(&self) -> String {
        self.inner.address.shown.clone()
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.publisher().await.map(drop) })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if let Some(publisher) = self.inner.publisher.lock().await.take() {
                publisher.close().await;
            }
            Ok(())
        })
    }

    fn publish<'a>(&'a self, topic: &'a str, message: Envelope) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.publish_message(topic, message))
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        handler: Handler,
        options: SubscribeOptions,
    ) -> BoxFuture<'a, Result<Subscription>> {
        Box::pin(self.subscribe_to(topic, handler, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_and_slashes_map_both_ways() {
        assert_eq!(mqtt_topic("orders.created").unwrap(), "orders/created");
        assert_eq!(micro_topic("orders/created"), "orders.created");
        assert_eq!(mqtt_topic("a-b_c:d").unwrap(), "a-b_c:d");
    }

    #[test]
    fn wildcards_and_slashes_are_refused_with_the_reason() {
        for topic in ["orders.+", "orders.#", "#"] {
            let e = mqtt_topic(topic).unwrap_err();
            assert!(e.detail().contains("wildcard"), "{topic}: {e}");
        }
        let e = mqtt_topic("orders/created").unwrap_err();
        assert!(e.detail().contains("\"orders.created\""), "{e}");
        assert!(mqtt_topic("orders..created").is_err());
    }

    #[test]
    fn addresses_parse_with_and_without_scheme_and_credentials() {
        let a = Address::parse("mqtt://user:p%40ss@broker.example:8883").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("broker.example", 8883));
        assert_eq!(a.credentials, Some(("user".into(), "p@ss".into())));
        assert!(
            !a.shown.contains("p%40ss") && !a.shown.contains("p@ss"),
            "{}",
            a.shown
        );
        let a = Address::parse("127.0.0.1").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.credentials),
            ("127.0.0.1", 1883, None)
        );
        let a = Address::parse("tcp://[::1]:1884").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("[::1]", 1884));
        let a = Address::parse("mqtt://[::1]").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("[::1]", 1883));
        let e = Address::parse("mqtts://h:8883").unwrap_err();
        assert!(e.detail().contains("mqtts"), "{e}");
        let e = Address::parse("mqtt://h:port").unwrap_err();
        assert!(e.detail().contains("\"port\""), "{e}");
        assert!(Address::parse("mqtt://").is_err());
    }

    #[test]
    fn headers_become_user_properties_and_come_back() {
        let message = Envelope::new("x")
            .with_header(HEADER_CONTENT_TYPE, "application/json")
            .with_header("x-trace", "t1")
            .with_header(super::super::HEADER_ID, "m1");
        let properties = properties(&message).unwrap();
        assert_eq!(properties.content_type.as_deref(), Some("application/json"));
        let back = to_envelope("t", Bytes::from_static(b"x"), Some(&properties));
        assert_eq!(back.headers.get("x-trace"), Some("t1"));
        assert_eq!(back.id(), Some("m1"));
        assert_eq!(back.content_type(), Some("application/json"));
        assert_eq!(back.topic(), Some("t"));
    }

    #[test]
    fn control_characters_in_headers_are_refused_naming_the_header() {
        for value in ["line one\nline two", "tab\there", "nul\0"] {
            let message = Envelope::new("x").with_header("micro-error", value);
            let e = properties(&message).unwrap_err();
            assert_eq!(e.code(), 400, "{e}");
            assert!(e.detail().contains("micro-error"), "{e}");
        }
        assert!(properties(&Envelope::new("x").with_header("k", "ü ok")).is_ok());
    }

    #[test]
    fn a_header_mqtt_cannot_carry_is_an_error_not_a_panic() {
        let message = Envelope::new("x").with_header("k", "v".repeat(70_000));
        let e = properties(&message).unwrap_err();
        assert_eq!(e.code(), 413, "{e}");
        assert!(e.detail().contains("65535"), "{e}");
    }
}
