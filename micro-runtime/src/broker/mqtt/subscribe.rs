//! Subscribing: one connection per subscription. A queue-group member holds a slot (a lock
//! file under `MICRO_HOME`) that names its persistent session; a broadcast subscriber has a
//! clean session of its own.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    DisconnectReasonCode, Filter, Packet, Publish, SubscribeReasonCode,
};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, StateError};
use tokio::sync::{mpsc, oneshot, watch};

use super::{MqttBroker, micro_topic, mqtt_topic, to_envelope};
use crate::broker::dispatch::{Delivery, Dispatcher, RemoteAck, Source, dead_letters};
use crate::broker::{BoxFuture, Handler, ID, SubscribeOptions, Subscription};
use crate::error::{Error, Result};

/// Slots tried per group and topic before giving up.
const MAX_SLOTS: usize = 1024;

/// How long a leaving member waits for messages the server had already given it.
const QUIET: Duration = Duration::from_millis(300);

/// What a subscription's acknowledgements share with its connection.
struct Link {
    client: AsyncClient,
    /// Even while connected, odd while not; bumped when the connection breaks and on every
    /// `CONNACK`. An acknowledgement is sent only for a message of the connection that is up
    /// (under this lock, so none slips into the next one): the server sends the others again.
    generation: Mutex<u64>,
    /// Messages handed to the subscription and not acknowledged yet.
    outstanding: AtomicUsize,
    /// When the last acknowledgement was made (leaving waits a quiet period after it).
    last_ack: Mutex<tokio::time::Instant>,
}

impl Link {
    fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step to the next generation of the given parity (even: up, odd: down).
    fn step(generation: &mut u64, up: bool) {
        if generation.is_multiple_of(2) != up {
            *generation += 1;
        }
    }
}

/// Acknowledges one message (`PUBACK`), once micro is done with it; a failed one is handed
/// to the subscription again after the backoff, without the server.
#[derive(Clone)]
struct MqttAck {
    link: Arc<Link>,
    generation: u64,
    publish: Publish,
    message: crate::broker::Envelope,
    attempt: u32,
    again: mpsc::UnboundedSender<Delivery>,
}

impl MqttAck {
    fn puback(&self) -> Result<()> {
        self.link.outstanding.fetch_sub(1, Ordering::AcqRel);
        *self.link.last_ack.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
        let generation = self
            .link
            .generation
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *generation != self.generation {
            tracing::debug!(
                "mqtt: not acknowledging a message of an earlier connection; the server sends it again"
            );
            return Ok(());
        }
        // Never waits: an acknowledgement that finds the client's queue full is dropped, and
        // the server sends the message again.
        if let Err(e) = self.link.client.try_ack(&self.publish) {
            tracing::debug!(error = %e, "mqtt: an acknowledgement was not sent; the server sends the message again");
        }
        Ok(())
    }
}

impl RemoteAck for MqttAck {
    fn ack(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.puback() })
    }

    fn nack(&self, delay: Duration) -> BoxFuture<'_, Result<()>> {
        // MQTT cannot give a message back: hold it (unacknowledged, so a crash meanwhile
        // leaves it in the session) and hand it over again after the backoff.
        let mut next = self.clone();
        Box::pin(async move {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                next.attempt += 1;
                let again = next.again.clone();
                let delivery = Delivery {
                    message: next.message.clone(),
                    attempt: next.attempt,
                    remote: Some(Box::new(next)),
                };
                // A subscription that stopped meanwhile leaves it to the session.
                let _ = again.send(delivery);
            });
            Ok(())
        })
    }

    fn term(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.puback() })
    }

    fn redelivers(&self) -> bool {
        false
    }
}

/// A slot of this home for `group` on `topic`: its lock (held while the subscription lives)
/// and the client id it names.
fn take_slot(home: &Path, group: &str, topic: &str) -> Result<(File, String)> {
    let dir = home.join("broker").join("mqtt");
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::internal(
            ID,
            format!("mqtt: {what} {}: {e} (set MICRO_HOME)", dir.display()),
        )
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail("cannot create", &e))?;
    let home_id = home_id(&dir).map_err(|e| fail("cannot keep the home id in", &e))?;
    let topic_hash = fnv1a(topic.as_bytes()) as u32;
    for slot in 0..MAX_SLOTS {
        // Queue names are letters, digits, `.`, `-` and `_` (checked before): safe in a file name.
        let name = format!("{group}-{topic_hash:08x}-{slot}.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(&name))
            .map_err(|e| fail("cannot open a lock in", &e))?;
        match file.try_lock() {
            Ok(()) => {
                let id = format!("micro-{group}-{topic_hash:08x}-{home_id}-{slot}");
                return Ok((file, id));
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(fail("cannot lock a slot in", &e)),
        }
    }
    Err(Error::unavailable(
        ID,
        format!(
            "mqtt: all {MAX_SLOTS} member slots of group {group} on {topic} are taken in this MICRO_HOME"
        ),
    ))
}

/// This home's id: random, made once.
fn home_id(dir: &Path) -> std::io::Result<String> {
    let path = dir.join("home-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if id.trim().len() == 12 => return Ok(id.trim().to_owned()),
        Ok(_) | Err(_) => {}
    }
    let id = format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff);
    let temp = dir.join(format!("home-id.{}", std::process::id()));
    std::fs::write(&temp, &id)?;
    // Two processes starting at once: the first rename wins, both read the winner.
    if std::fs::hard_link(&temp, &path).is_err() {
        let _ = std::fs::remove_file(&temp);
        return std::fs::read_to_string(&path).map(|s| s.trim().to_owned());
    }
    let _ = std::fs::remove_file(&temp);
    Ok(id)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What the polling task reports.
type Polled = std::result::Result<Event, String>;

/// Polls the connection and nothing else (rumqttc's `poll` must not be cancelled half way),
/// reconnecting with backoff; reports every event.
async fn poll(
    mut eventloop: EventLoop,
    link: Arc<Link>,
    events: mpsc::UnboundedSender<Polled>,
    id: String,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match eventloop.poll().await {
            Ok(event) => {
                if matches!(event, Event::Incoming(Packet::ConnAck(_))) {
                    backoff = Duration::from_millis(100);
                    let mut generation = link.generation.lock().unwrap_or_else(|e| e.into_inner());
                    Link::step(&mut generation, true);
                }
                if events.send(Ok(event)).is_err() {
                    return;
                }
            }
            Err(e) => {
                {
                    // Down: no acknowledgement of this connection's messages goes out any
                    // more, and those already queued are dropped (sent on the next
                    // connection they would acknowledge other messages).
                    let mut generation = link.generation.lock().unwrap_or_else(|e| e.into_inner());
                    Link::step(&mut generation, false);
                    eventloop.clean();
                }
                let taken_over = matches!(
                    &e,
                    ConnectionError::MqttState(StateError::ServerDisconnect {
                        reason_code: DisconnectReasonCode::SessionTakenOver,
                        ..
                    })
                );
                if events.send(Err(e.to_string())).is_err() {
                    return;
                }
                let wait = if taken_over {
                    // Another client connected with this member's id: two processes share
                    // one MICRO_HOME id. Do not fight over the session.
                    tracing::error!(client_id = %id, "mqtt: another client took over this member's session (two processes with one MICRO_HOME home id?); retrying in 30 s");
                    Duration::from_secs(30)
                } else {
                    backoff
                };
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One subscription's connection: a task that polls it, and this one, which hands messages
/// over, subscribes on every `CONNACK`, and leaves.
struct Member {
    link: Arc<Link>,
    filter: String,
    topic: String,
    deliveries: Option<mpsc::UnboundedSender<Delivery>>,
    subscribed: Option<oneshot::Sender<Result<()>>>,
    shown: String,
}

impl Member {
    fn delivery(&self, publish: Publish, again: &mpsc::UnboundedSender<Delivery>) -> Delivery {
        let topic = match std::str::from_utf8(&publish.topic) {
            Ok(t) if !t.is_empty() => micro_topic(t),
            _ => self.topic.clone(),
        };
        let message = to_envelope(&topic, publish.payload.clone(), publish.properties.as_ref());
        let attempt = if publish.dup { 2 } else { 1 };
        self.link.outstanding.fetch_add(1, Ordering::AcqRel);
        Delivery {
            message: message.clone(),
            attempt,
            remote: Some(Box::new(MqttAck {
                link: self.link.clone(),
                generation: self.link.generation(),
                publish,
                message,
                attempt,
                again: again.clone(),
            })),
        }
    }

    fn answer(&mut self, result: Result<()>) {
        if let Some(tx) = self.subscribed.take() {
            let _ = tx.send(result);
        }
    }

    fn on_suback(&mut self, codes: &[SubscribeReasonCode]) {
        let refused = codes
            .iter()
            .find(|code| !matches!(code, SubscribeReasonCode::Success(_)));
        let result = match refused {
            None => Ok(()),
            Some(code) => Err(Error::unavailable(
                ID,
                format!(
                    "mqtt broker at {}: the server refused the subscription {}: {code:?}",
                    self.shown, self.filter
                ),
            )),
        };
        match (self.subscribed.is_some(), result) {
            (true, result) => self.answer(result),
            (false, Err(e)) => {
                tracing::warn!(topic = %self.topic, error = %e, "mqtt: subscribing again after a reconnect failed");
            }
            (false, Ok(())) => {}
        }
    }

    /// Runs the subscription: on `stop` it leaves the group and hands over what the server
    /// had already sent it, until nothing is outstanding and nothing came for a while; on
    /// `done` (drained) it disconnects.
    async fn run(
        mut self,
        eventloop: EventLoop,
        client_id: String,
        mut stop: watch::Receiver<bool>,
        mut done: watch::Receiver<bool>,
    ) {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let _poller = AbortOnDrop(tokio::spawn(poll(
            eventloop,
            self.link.clone(),
            events_tx,
            client_id,
        )));
        let mut leaving = false;
        let mut unsubscribed = false;
        let mut quiet_until: Option<tokio::time::Instant> = None;
        loop {
            let quiet = async {
                match quiet_until {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let polled = tokio::select! {
                polled = events.recv() => polled,
                _ = stop.changed(), if !leaving => {
                    leaving = true;
                    if self.link.client.try_unsubscribe(self.filter.clone()).is_err() {
                        self.deliveries = None;
                    }
                    // In case the UNSUBACK never comes.
                    quiet_until = Some(tokio::time::Instant::now() + QUIET * 10);
                    continue;
                }
                () = quiet => {
                    let since_ack = self
                        .link
                        .last_ack
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .elapsed();
                    if self.link.outstanding.load(Ordering::Acquire) == 0 && since_ack >= QUIET {
                        // Nothing more on its way and nothing held: the source may end.
                        self.deliveries = None;
                        quiet_until = None;
                    } else {
                        // An acknowledgement frees the server's window: more may come.
                        quiet_until = Some(tokio::time::Instant::now() + QUIET);
                    }
                    continue;
                }
                _ = done.changed() => {
                    // What is left unacknowledged stays in the session, for the member that
                    // takes this slot next.
                    let _ = self.link.client.try_disconnect();
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(event)) = events.recv().await {
                            if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                                break;
                            }
                        }
                    })
                    .await;
                    return;
                }
            };
            let event = match polled {
                None => return,
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    if self.subscribed.is_some() {
                        self.answer(Err(Error::unavailable(
                            ID,
                            format!("mqtt broker at {}: cannot connect: {e}", self.shown),
                        )));
                        return;
                    }
                    tracing::warn!(topic = %self.topic, error = %e, "mqtt: the connection broke; reconnecting");
                    continue;
                }
            };
            match event {
                Event::Incoming(Packet::ConnAck(_)) => {
                    if leaving {
                        // An UNSUBSCRIBE the broken connection never answered is lost with
                        // it: send it again.
                        if !unsubscribed {
                            let _ = self.link.client.try_unsubscribe(self.filter.clone());
                        }
                    } else {
                        // Subscribe on every connection: a clean session lost the
                        // subscription, and on a resumed one subscribing again replaces it.
                        let filter = Filter::new(self.filter.clone(), QoS::AtLeastOnce);
                        if let Err(e) = self.link.client.try_subscribe_many([filter]) {
                            let e = Error::unavailable(
                                ID,
                                format!(
                                    "mqtt broker at {}: subscribing to {}: {e}",
                                    self.shown, self.filter
                                ),
                            );
                            if self.subscribed.is_some() {
                                self.answer(Err(e));
                            } else {
                                tracing::warn!(topic = %self.topic, error = %e, "mqtt: subscribing again after a reconnect failed");
                            }
                        }
                    }
                }
                Event::Incoming(Packet::SubAck(ack)) => self.on_suback(&ack.return_codes),
                Event::Incoming(Packet::UnsubAck(_)) if leaving => {
                    unsubscribed = true;
                    quiet_until = Some(tokio::time::Instant::now() + QUIET);
                }
                Event::Incoming(Packet::Publish(publish)) => {
                    if leaving && quiet_until.is_some() {
                        quiet_until = Some(tokio::time::Instant::now() + QUIET);
                    }
                    // Once it left the group and is done handing over, a message is left
                    // unacknowledged: the session keeps it for the member that takes this
                    // slot next.
                    if let Some(tx) = self.deliveries.clone() {
                        let delivery = self.delivery(publish, &tx);
                        let _ = tx.send(delivery);
                    }
                }
                _ => {}
            }
        }
    }
}

impl MqttBroker {
    pub(super) async fn subscribe_to(
        &self,
        topic: &str,
        handler: Handler,
        options: SubscribeOptions,
    ) -> Result<Subscription> {
        let mqtt = mqtt_topic(topic)?;
        options.validate()?;
        // The server's window of unacknowledged messages to this member (MQTT 5 receive
        // maximum): what the handlers and their queue hold, so acknowledgements after the
        // handler never starve the pipe. What is in it when a member crashes stays in its
        // session.
        let prefetch = u16::try_from(options.concurrency.max(1) + options.buffer.min(1024))
            .unwrap_or(u16::MAX);
        let (slot, client_id, filter) = match &options.queue {
            Some(group) => {
                let (lock, id) = take_slot(&self.inner.home, group, topic)?;
                (Some(lock), id, format!("$share/{group}/{mqtt}"))
            }
            None => (None, format!("micro-sub-{:016x}", fastrand::u64(..)), mqtt),
        };
        let mut mqtt_options = self.options(&client_id);
        mqtt_options
            .set_manual_acks(true)
            .set_receive_maximum(Some(prefetch));
        if slot.is_some() {
            let expiry = u32::try_from(self.inner.session_expiry.as_secs()).unwrap_or(u32::MAX);
            mqtt_options
                .set_clean_start(false)
                .set_session_expiry_interval(Some(expiry));
        } else {
            mqtt_options.set_clean_start(true);
        }
        let (client, eventloop) = AsyncClient::new(mqtt_options, 1024);
        let link = Arc::new(Link {
            client,
            generation: Mutex::new(1),
            outstanding: AtomicUsize::new(0),
            last_ack: Mutex::new(tokio::time::Instant::now()),
        });
        let (deliveries, rx) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed) = oneshot::channel();
        let (stop_tx, stop) = watch::channel(false);
        let (done_tx, done) = watch::channel(false);
        let member = Member {
            link,
            filter,
            topic: topic.to_owned(),
            deliveries: Some(deliveries),
            subscribed: Some(subscribed_tx),
            shown: self.inner.address.shown.clone(),
        };
        let task = tokio::spawn(member.run(eventloop, client_id, stop, done));
        // Subscribed (the server answered) before saying so.
        let answer = tokio::time::timeout(self.inner.timeout, subscribed).await;
        let failure = match answer {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(e))) => Some(e),
            Ok(Err(_)) => Some(self.error("subscribing", "the connection ended")),
            Err(_) => Some(self.error(
                "cannot connect",
                format!("no answer within {:?}", self.inner.timeout),
            )),
        };
        if let Some(e) = failure {
            task.abort();
            return Err(e);
        }
        let dead_letter = dead_letters(self, &options);
        let queue = options.queue.clone();
        let dispatcher =
            Dispatcher::with_source(topic, handler, options, dead_letter, Some(source(rx)));
        Ok(
            dispatcher.into_subscription(topic, queue, stop_tx, async move {
                done_tx.send_replace(true);
                let abort = task.abort_handle();
                if tokio::time::timeout(Duration::from_secs(3), task)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
                // The slot is free for the next member once the session is let go.
                drop(slot);
            }),
        )
    }
}

fn source(rx: mpsc::UnboundedReceiver<Delivery>) -> Source {
    futures_util::stream::unfold(rx, |mut rx| async move {
        let delivery = rx.recv().await?;
        Some((delivery, rx))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_lowest_first_and_freed_with_their_lock() {
        let home = tempfile::tempdir().unwrap();
        let (a, id_a) = take_slot(home.path(), "billing", "orders.created").unwrap();
        let (b, id_b) = take_slot(home.path(), "billing", "orders.created").unwrap();
        assert!(
            id_a.ends_with("-0") && id_b.ends_with("-1"),
            "{id_a} {id_b}"
        );
        assert_eq!(id_a.trim_end_matches("-0"), id_b.trim_end_matches("-1"));
        drop(a);
        let (_c, id_c) = take_slot(home.path(), "billing", "orders.created").unwrap();
        assert_eq!(id_c, id_a, "a freed slot is taken again, with its session");
        let (_d, id_d) = take_slot(home.path(), "shipping", "orders.created").unwrap();
        assert!(id_d.ends_with("-0"), "{id_d}");
        drop(b);
        let other = tempfile::tempdir().unwrap();
        let (_e, id_e) = take_slot(other.path(), "billing", "orders.created").unwrap();
        assert_ne!(id_e, id_a, "another home is another member");
    }
}
