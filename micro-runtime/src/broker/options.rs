//! [`SubscribeOptions`]: queue group, acknowledgement, concurrency, redelivery and dead
//! letters of a subscription.

use std::time::Duration;

use super::{ID, validate_topic};
use crate::error::{Error, Result};

/// How a subscription receives messages.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SubscribeOptions {
    /// The queue group; `None` for a broadcast subscription.
    pub queue: Option<String>,
    /// Settle each message by the handler's result (default true). When false the handler
    /// settles it through the [`Event`](super::Event); a message it leaves unsettled is acknowledged
    /// (on engines whose server redelivers by itself — JetStream, Redis Streams, RabbitMQ — it
    /// is redelivered after the ack wait; MQTT settles it by the handler's result).
    pub auto_ack: bool,
    /// How many messages are handled at once (default 1: in order).
    pub concurrency: usize,
    /// How many times a message is delivered before it is dead-lettered (default 5).
    pub max_deliver: u32,
    /// The first redelivery delay; it doubles with each attempt up to 10 s (default 100 ms).
    pub retry_backoff: Duration,
    /// How long an engine that redelivers by itself (JetStream) waits for an
    /// acknowledgement before it delivers again (default 30 s).
    pub ack_wait: Duration,
    /// How long the handler may take with one message; past it the handler is dropped and
    /// the message counts as failed (redelivered after the backoff, dead-lettered after
    /// `max_deliver`) (default 30 s; never more than 90 % of the ack wait, so an engine
    /// that redelivers by itself does not start a second handler on the message).
    pub handler_timeout: Duration,
    /// Messages waiting for a handler; when full, delivery slows down to the handler's pace
    /// (default 1024).
    pub buffer: usize,
    /// A topic dead letters are published to (with the reason in the `micro-error`
    /// header); when `None` they are logged and counted only.
    pub dead_letter: Option<String>,
    /// The formats the handler decodes (set by typed [`Subscriber`](super::Subscriber)s;
    /// empty: any). Engines that hand messages to subscribers directly (`http`) refuse to
    /// publish a message in a format a subscriber cannot read.
    pub accepts: Vec<crate::codec::Format>,
}

impl Default for SubscribeOptions {
    fn default() -> SubscribeOptions {
        SubscribeOptions {
            queue: None,
            auto_ack: true,
            concurrency: 1,
            max_deliver: 5,
            retry_backoff: Duration::from_millis(100),
            ack_wait: Duration::from_secs(30),
            handler_timeout: Duration::from_secs(30),
            buffer: 1024,
            dead_letter: None,
            accepts: Vec::new(),
        }
    }
}

impl SubscribeOptions {
    /// A subscription in queue group `name`: each message goes to one member of the group.
    pub fn queue(name: impl Into<String>) -> SubscribeOptions {
        SubscribeOptions {
            queue: Some(name.into()),
            ..SubscribeOptions::default()
        }
    }

    /// A broadcast subscription: every message.
    pub fn broadcast() -> SubscribeOptions {
        SubscribeOptions::default()
    }

    /// Handle up to `n` messages at once.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> SubscribeOptions {
        self.concurrency = n.max(1);
        self
    }

    /// Deliver a message at most `n` times.
    #[must_use]
    pub fn max_deliver(mut self, n: u32) -> SubscribeOptions {
        self.max_deliver = n.max(1);
        self
    }

    /// The first redelivery delay.
    #[must_use]
    pub fn retry_backoff(mut self, delay: Duration) -> SubscribeOptions {
        self.retry_backoff = delay;
        self
    }

    /// The acknowledgement wait of engines that redeliver by themselves.
    #[must_use]
    pub fn ack_wait(mut self, wait: Duration) -> SubscribeOptions {
        self.ack_wait = wait;
        self
    }

    /// How long the handler may take with one message before it is dropped and the message
    /// counts as failed.
    #[must_use]
    pub fn handler_timeout(mut self, limit: Duration) -> SubscribeOptions {
        self.handler_timeout = limit;
        self
    }

    /// Let the handler settle messages through the [`Event`](super::Event).
    #[must_use]
    pub fn manual_ack(mut self) -> SubscribeOptions {
        self.auto_ack = false;
        self
    }

    /// Publish dead letters to `topic`.
    #[must_use]
    pub fn dead_letter(mut self, topic: impl Into<String>) -> SubscribeOptions {
        self.dead_letter = Some(topic.into());
        self
    }

    /// How many messages may wait for a handler.
    #[must_use]
    pub fn buffer(mut self, n: usize) -> SubscribeOptions {
        self.buffer = n.max(1);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(queue) = &self.queue {
            let ok = !queue.is_empty()
                && queue.len() <= 200
                && queue
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !ok {
                return Err(Error::bad_request(
                    ID,
                    format!("invalid queue group {queue:?}: use letters, digits, '.', '-' and '_'"),
                ));
            }
        }
        if let Some(topic) = &self.dead_letter {
            validate_topic(topic)?;
        }
        if self.handler_timeout.is_zero() {
            return Err(Error::bad_request(
                ID,
                "handler_timeout is zero: give the handler time to run",
            ));
        }
        Ok(())
    }

    /// The delay before redelivery number `attempt + 1`.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        (self.retry_backoff * factor).min(Duration::from_secs(10))
    }
}
