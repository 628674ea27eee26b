//! Publishing: one connection per broker, QoS 1, each publish answered by its `PUBACK`.
//!
//! rumqttc hands a publish to its event loop and forgets it; the acknowledgement shows up
//! later as an event with the packet id the loop chose. The loop takes requests in the order
//! they were sent and numbers them in that order, so a publish queues its waiter and its
//! request under one lock, without awaiting in between (a publish dropped half way cannot
//! shift the pairing), and the loop pairs waiters with packet ids as it sends them. A
//! semaphore keeps the request channel from ever being full, so handing over never waits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use rumqttc::v5::{AsyncClient, Event, EventLoop};
use tokio::sync::{Semaphore, oneshot};

use super::{MqttBroker, mqtt_topic, properties};
use crate::broker::Envelope;
use crate::error::{Error, Result};

type Waiter = oneshot::Sender<Result<()>>;

#[derive(Default)]
struct Waiters {
    /// Publishes handed to the loop, not sent yet, in order.
    queued: VecDeque<Waiter>,
    /// Publishes sent, by packet id.
    sent: HashMap<u16, Waiter>,
    /// Set when the connection ended: nobody will answer any more.
    closed: Option<String>,
}

impl Waiters {
    fn close(&mut self, why: String) {
        for waiter in self
            .queued
            .drain(..)
            .chain(self.sent.drain().map(|(_, w)| w))
        {
            let _ = waiter.send(Err(Error::unavailable(crate::broker::ID, why.clone())));
        }
        self.closed = Some(why);
    }
}

/// Requests the event loop's channel holds; publishes beyond wait for room.
const CHANNEL: usize = 1024;

/// The publishing connection.
#[derive(Debug)]
pub(super) struct Publisher {
    client: AsyncClient,
    waiters: Arc<Mutex<Waiters>>,
    /// Room in the request channel: a permit per request not yet taken by the loop.
    room: Arc<Semaphore>,
    /// The server's limit on a packet, from its `CONNACK`.
    server_max: Option<u32>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Waiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiters")
            .field("queued", &self.queued.len())
            .field("sent", &self.sent.len())
            .field("closed", &self.closed)
            .finish()
    }
}

impl Publisher {
    fn is_open(&self) -> bool {
        !self.task.is_finished()
            && self
                .waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .closed
                .is_none()
    }

    pub(super) async fn close(self) {
        let _ = self.client.try_disconnect();
        let task = self.task;
        let abort = task.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(2), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// The error for a `PUBACK` that refused the message, by its reason.
fn refusal(shown: &str, reason: PubAckReason) -> Option<Error> {
    let id = crate::broker::ID;
    let detail = format!("mqtt broker at {shown}: the server refused the message: {reason:?}");
    Some(match reason {
        PubAckReason::Success | PubAckReason::NoMatchingSubscribers => return None,
        PubAckReason::NotAuthorized => Error::forbidden(id, detail),
        PubAckReason::TopicNameInvalid | PubAckReason::PayloadFormatInvalid => {
            Error::bad_request(id, detail)
        }
        PubAckReason::QuotaExceeded => {
            Error::from_code(id, crate::error::Code::ResourceExhausted, detail)
        }
        _ => Error::unavailable(id, detail),
    })
}

/// Drives the publishing connection: pairs packet ids with waiters and answers them.
async fn drive(
    mut eventloop: EventLoop,
    waiters: Arc<Mutex<Waiters>>,
    room: Arc<Semaphore>,
    shown: String,
) {
    loop {
        let event = eventloop.poll().await;
        let mut held = waiters.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                if let Some(waiter) = held.queued.pop_front() {
                    held.sent.insert(pkid, waiter);
                    room.add_permits(1);
                }
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                if let Some(waiter) = held.sent.remove(&ack.pkid) {
                    let _ = waiter.send(refusal(&shown, ack.reason).map_or(Ok(()), Err));
                }
            }
            Ok(Event::Incoming(Packet::Disconnect(d))) => {
                room.close();
                held.close(format!(
                    "mqtt broker at {shown}: the server disconnected: {:?}",
                    d.reason_code
                ));
                return;
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                room.close();
                held.close(format!("mqtt broker at {shown}: disconnected"));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                // Whether the server got the messages in flight is unknown: say so, and let
                // the next publish connect again (a fresh session, so nothing is sent twice
                // behind the caller's back).
                room.close();
                held.close(format!(
                    "mqtt broker at {shown}: the connection broke ({e}); the message may or may not have been delivered"
                ));
                return;
            }
        }
    }
}

impl MqttBroker {
    /// The publishing connection, connected again when it broke.
    pub(super) async fn publisher(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Publisher>> {
        let mut held = self.inner.publisher.lock().await;
        if !held.as_ref().is_some_and(Publisher::is_open) {
            if let Some(old) = held.take() {
                old.task.abort();
            }
            *held = Some(self.connect_publisher().await?);
        }
        tokio::sync::MutexGuard::try_map(held, Option::as_mut)
            .map_err(|_| self.error("publishing", "no connection"))
    }

    async fn connect_publisher(&self) -> Result<Publisher> {
        let id = format!("micro-pub-{:016x}", fastrand::u64(..));
        let mut options = self.options(&id);
        options.set_clean_start(true);
        let (client, mut eventloop) = AsyncClient::new(options, CHANNEL);
        // Connect here, so an unreachable server is an error now and not a stuck publish.
        let connack = tokio::time::timeout(self.inner.timeout, async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => return Ok(ack),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        })
        .await
        .map_err(|_| {
            self.error(
                "cannot connect",
                format!("no answer within {:?}", self.inner.timeout),
            )
        })?
        .map_err(|e| self.error("cannot connect", e))?;
        let server_max = connack.properties.as_ref().and_then(|p| p.max_packet_size);
        let waiters = Arc::new(Mutex::new(Waiters::default()));
        let room = Arc::new(Semaphore::new(CHANNEL - 16));
        let task = tokio::spawn(drive(
            eventloop,
            waiters.clone(),
            room.clone(),
            self.inner.address.shown.clone(),
        ));
        Ok(Publisher {
            client,
            waiters,
            room,
            server_max,
            task,
        })
    }

    /// Publish and wait for the server's `PUBACK`, all within the broker's timeout.
    pub(super) async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        let mqtt = mqtt_topic(topic)?;
        message.stamp(topic);
        let shown = &self.inner.address.shown;
        crate::broker::check_size("mqtt", shown, topic, &message, self.inner.max_message)?;
        let properties = properties(&message)?;
        let deadline = Instant::now() + self.inner.timeout;
        let timed_out = || {
            self.error(
                &format!("publishing to {topic}"),
                format!("no acknowledgement within {:?}", self.inner.timeout),
            )
        };
        let (client, waiters, room, server_max) = {
            let publisher = tokio::time::timeout_at(deadline.into(), self.publisher())
                .await
                .map_err(|_| timed_out())??;
            (
                publisher.client.clone(),
                publisher.waiters.clone(),
                publisher.room.clone(),
                publisher.server_max,
            )
        };
        if let Some(server_max) = server_max {
            // The server's own limit counts the whole packet: the topic, each property's
            // framing, the fixed header and the packet id besides body and headers.
            let framing = mqtt.len() + 64 + 2 * message.headers.iter().count();
            let limit = (server_max as usize).saturating_sub(framing);
            crate::broker::check_size("mqtt", shown, topic, &message, limit)?;
        }
        let permit = tokio::time::timeout_at(deadline.into(), room.acquire())
            .await
            .map_err(|_| timed_out())?
            .map_err(|_| self.error(&format!("publishing to {topic}"), "the connection ended"))?;
        let (tx, rx) = oneshot::channel();
        {
            // The waiter and its request go in together, with no await between them.
            let mut held = waiters.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(why) = &held.closed {
                return Err(Error::unavailable(crate::broker::ID, why.clone()));
            }
            client
                .try_publish_with_properties(
                    mqtt,
                    QoS::AtLeastOnce,
                    false,
                    message.body,
                    properties,
                )
                .map_err(|e| self.error(&format!("publishing to {topic}"), e))?;
            held.queued.push_back(tx);
            // Given back by the loop when it takes the request.
            permit.forget();
        }
        match tokio::time::timeout_at(deadline.into(), rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => {
                Err(self.error(&format!("publishing to {topic}"), "the connection ended"))
            }
            Err(_) => Err(timed_out()),
        }
    }
}
