//! Publishing: one connection per broker, QoS 1, each publish answered by its `PUBACK`.
//!
//! rumqttc hands a publish to its event loop and forgets it; the acknowledgement shows up
//! later as an event with the packet id the loop chose. The loop takes requests in the order
//! they were sent and numbers them in that order, so a publish queues its waiter and its
//! request under one lock, and the loop pairs waiters with packet ids as it sends them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use rumqttc::v5::{AsyncClient, Event, EventLoop};
use tokio::sync::oneshot;

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

/// The publishing connection.
#[derive(Debug)]
pub(super) struct Publisher {
    client: AsyncClient,
    waiters: Arc<Mutex<Waiters>>,
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
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.task).await;
    }
}

/// Drives the publishing connection: pairs packet ids with waiters and answers them.
async fn drive(mut eventloop: EventLoop, waiters: Arc<Mutex<Waiters>>, shown: String) {
    loop {
        let event = eventloop.poll().await;
        let mut held = waiters.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                if let Some(waiter) = held.queued.pop_front() {
                    held.sent.insert(pkid, waiter);
                }
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                if let Some(waiter) = held.sent.remove(&ack.pkid) {
                    let answer = match ack.reason {
                        PubAckReason::Success | PubAckReason::NoMatchingSubscribers => Ok(()),
                        reason => Err(Error::unavailable(
                            crate::broker::ID,
                            format!(
                                "mqtt broker at {shown}: the server refused the message: {reason:?}"
                            ),
                        )),
                    };
                    let _ = waiter.send(answer);
                }
            }
            Ok(Event::Incoming(Packet::Disconnect(d))) => {
                held.close(format!(
                    "mqtt broker at {shown}: the server disconnected: {:?}",
                    d.reason_code
                ));
                return;
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                held.close(format!("mqtt broker at {shown}: disconnected"));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                // Whether the server got the messages in flight is unknown: say so, and let
                // the next publish connect again (a fresh session, so nothing is sent twice
                // behind the caller's back).
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
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
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
        let task = tokio::spawn(drive(
            eventloop,
            waiters.clone(),
            self.inner.address.shown.clone(),
        ));
        Ok(Publisher {
            client,
            waiters,
            server_max,
            task,
        })
    }

    pub(super) async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        let mqtt = mqtt_topic(topic)?;
        message.stamp(topic);
        let shown = &self.inner.address.shown;
        crate::broker::check_size("mqtt", shown, topic, &message, self.inner.max_message)?;
        let properties = properties(&message)?;
        let answer = {
            let publisher = self.publisher().await?;
            if let Some(server_max) = publisher.server_max {
                // The server's own limit counts the whole packet: leave room for the topic
                // and the rest of it.
                let limit = (server_max as usize).saturating_sub(mqtt.len() + 1024);
                crate::broker::check_size("mqtt", shown, topic, &message, limit)?;
            }
            // The broker's lock on the publisher, held while the waiter is queued and its
            // request handed over, keeps both in one order.
            let (tx, rx) = oneshot::channel();
            {
                let mut waiters = publisher.waiters.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(why) = &waiters.closed {
                    return Err(Error::unavailable(crate::broker::ID, why.clone()));
                }
                waiters.queued.push_back(tx);
            }
            let sent = publisher
                .client
                .publish_with_properties(mqtt, QoS::AtLeastOnce, false, message.body, properties)
                .await;
            if let Err(e) = sent {
                // Not handed over: take its waiter back (it is the last one queued).
                publisher
                    .waiters
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .queued
                    .pop_back();
                return Err(self.error(&format!("publishing to {topic}"), e));
            }
            rx
        };
        match tokio::time::timeout(self.inner.timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => {
                Err(self.error(&format!("publishing to {topic}"), "the connection ended"))
            }
            Err(_) => Err(self.error(
                &format!("publishing to {topic}"),
                format!("no acknowledgement within {:?}", self.inner.timeout),
            )),
        }
    }
}
