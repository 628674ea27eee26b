//! The subscriber side shared by every engine: a bounded queue of deliveries, the handler
//! runs (in order, or up to `concurrency` at once), acknowledgement by result, local
//! redelivery with backoff for engines that do not redeliver by themselves, dead letters,
//! counters, and draining on unsubscribe.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::{BoxFuture, Counters, Envelope, Event, HEADER_ERROR, Handler, SubscribeOptions};
use crate::error::{Error, Result};

/// Settlement through the engine, for engines that track deliveries themselves (JetStream).
pub(crate) trait RemoteAck: Send + Sync {
    /// The message was handled.
    fn ack(&self) -> BoxFuture<'_, Result<()>>;
    /// Deliver it again after `delay`.
    fn nack(&self, delay: Duration) -> BoxFuture<'_, Result<()>>;
    /// Never deliver it again.
    fn term(&self) -> BoxFuture<'_, Result<()>>;
    /// Does the engine deliver a message it was never told about again by itself (after
    /// the ack wait)? MQTT does not while the connection lives.
    fn redelivers(&self) -> bool {
        true
    }
}

/// One delivery of a message to this subscription.
pub(crate) struct Delivery {
    pub(crate) message: Envelope,
    /// 1 for the first delivery.
    pub(crate) attempt: u32,
    /// Settles through the engine; `None` for engines that forget a message once handed over.
    pub(crate) remote: Option<Box<dyn RemoteAck>>,
}

impl Delivery {
    /// A first delivery with no engine-side acknowledgement.
    pub(crate) fn local(message: Envelope) -> Delivery {
        Delivery {
            message,
            attempt: 1,
            remote: None,
        }
    }
}

/// Publishes a dead letter: `(topic, message)`.
pub(crate) type DeadLetterFn =
    Arc<dyn Fn(String, Envelope) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// A dead-letter publisher that publishes through `broker`, when the subscription asked for
/// dead letters.
pub(crate) fn dead_letters<B>(broker: &B, options: &super::SubscribeOptions) -> Option<DeadLetterFn>
where
    B: super::Broker + Clone + 'static,
{
    options.dead_letter.as_ref()?;
    let broker = broker.clone();
    Some(Arc::new(move |topic, message| {
        let broker = broker.clone();
        Box::pin(async move { broker.publish(&topic, message).await })
    }))
}

/// Whether settling ended the delivery or left it pending (to be delivered again here).
enum Settled {
    Done,
    Later,
}

pub(crate) enum Verdict {
    Ack,
    Nack(String),
    /// The handler returned an error: a nack that keeps the error's typed reason for the
    /// dead letter.
    Failed(Error),
    Reject(String),
    /// Delivered more than `max_deliver` times: given up without running the handler.
    Exhausted(String),
}

struct Shared {
    topic: Arc<str>,
    handler: Handler,
    options: SubscribeOptions,
    counters: Arc<Counters>,
    tx: mpsc::Sender<Delivery>,
    dead_letter: Option<DeadLetterFn>,
    /// Deliveries queued, being handled, or waiting to be redelivered.
    pending: AtomicUsize,
    /// True while an engine stream feeds the loop directly (see [`Dispatcher::with_source`]).
    source_open: AtomicBool,
    idle: Notify,
}

impl Shared {
    fn done_one(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn source_ended(&self) {
        self.source_open.store(false, Ordering::Release);
        self.idle.notify_waiters();
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.pending.load(Ordering::Acquire) == 0
                && !self.source_open.load(Ordering::Acquire)
            {
                return;
            }
            notified.await;
        }
    }
}

/// Deliveries an engine produces, read by the handler loop itself (no extra task or
/// queue). The stream ends when the engine stopped and gave out what it had buffered.
pub(crate) type Source = futures_util::stream::BoxStream<'static, Delivery>;

/// Hands deliveries to a subscription's dispatcher. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Intake {
    shared: Arc<Shared>,
}

impl Intake {
    /// Queue a delivery, waiting while the queue is full. Gives the delivery back when the
    /// subscription has stopped.
    pub(crate) async fn deliver(&self, delivery: Delivery) -> std::result::Result<(), Delivery> {
        self.shared.pending.fetch_add(1, Ordering::AcqRel);
        match self.shared.tx.send(delivery).await {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendError(d)) => {
                self.shared.done_one();
                Err(d)
            }
        }
    }
}

/// A subscription's handler loop. Dropping it stops the loop at once.
pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    driver: tokio::task::JoinHandle<()>,
}

impl Dispatcher {
    pub(crate) fn new(
        topic: &str,
        handler: Handler,
        options: SubscribeOptions,
        dead_letter: Option<DeadLetterFn>,
    ) -> Dispatcher {
        Dispatcher::with_source(topic, handler, options, dead_letter, None)
    }

    /// A dispatcher that also reads deliveries from `source`; draining waits for it to end.
    pub(crate) fn with_source(
        topic: &str,
        handler: Handler,
        options: SubscribeOptions,
        dead_letter: Option<DeadLetterFn>,
        source: Option<Source>,
    ) -> Dispatcher {
        let (tx, rx) = mpsc::channel(options.buffer.max(1));
        let shared = Arc::new(Shared {
            topic: topic.into(),
            handler,
            options,
            counters: Arc::default(),
            tx,
            dead_letter,
            pending: AtomicUsize::new(0),
            source_open: AtomicBool::new(source.is_some()),
            idle: Notify::new(),
        });
        let driver = tokio::spawn(drive(shared.clone(), rx, source));
        Dispatcher { shared, driver }
    }

    pub(crate) fn intake(&self) -> Intake {
        Intake {
            shared: self.shared.clone(),
        }
    }

    pub(crate) fn counters(&self) -> Arc<Counters> {
        self.shared.counters.clone()
    }

    /// The subscription of an engine that feeds this dispatcher. Unsubscribing tells the
    /// engine to stop (`stop`), drains what was received within the grace period, then runs
    /// `after`, the engine's own clean-up.
    pub(crate) fn into_subscription(
        self,
        topic: &str,
        queue: Option<String>,
        stop: tokio::sync::watch::Sender<bool>,
        after: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> super::Subscription {
        let counters = self.counters();
        super::Subscription::new(
            topic,
            queue,
            counters,
            Box::new(move |grace| {
                Box::pin(async move {
                    stop.send_replace(true);
                    self.drain(grace).await;
                    after.await;
                })
            }),
        )
    }

    /// Wait (at most `grace`) until every delivery received so far is settled, then stop.
    pub(crate) async fn drain(self, grace: Duration) {
        let pending = self.shared.pending.load(Ordering::Acquire);
        if tokio::time::timeout(grace, self.shared.wait_idle())
            .await
            .is_err()
        {
            tracing::warn!(
                topic = %self.shared.topic,
                pending,
                "unsubscribing: messages still being handled after the grace period were abandoned"
            );
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The next delivery: a queued one (redeliveries, pushed deliveries) first, else one from
/// the engine's stream.
async fn next(
    shared: &Shared,
    rx: &mut mpsc::Receiver<Delivery>,
    source: &mut Option<Source>,
) -> Option<Delivery> {
    loop {
        let Some(stream) = source.as_mut() else {
            return rx.recv().await;
        };
        let from_source = tokio::select! {
            biased;
            queued = rx.recv() => return queued,
            pulled = stream.next() => pulled,
        };
        match from_source {
            Some(delivery) => {
                shared.pending.fetch_add(1, Ordering::AcqRel);
                return Some(delivery);
            }
            None => {
                *source = None;
                shared.source_ended();
            }
        }
    }
}

async fn drive(shared: Arc<Shared>, mut rx: mpsc::Receiver<Delivery>, mut source: Option<Source>) {
    let concurrency = shared.options.concurrency.max(1);
    if concurrency == 1 {
        while let Some(delivery) = next(&shared, &mut rx, &mut source).await {
            handle(&shared, delivery).await;
        }
        return;
    }
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(delivery) = next(&shared, &mut rx, &mut source).await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let shared = shared.clone();
        tasks.spawn(async move {
            handle(&shared, delivery).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
}

async fn handle(shared: &Arc<Shared>, delivery: Delivery) {
    shared.counters.delivered.fetch_add(1, Ordering::Relaxed);
    let settle = Settle(Arc::new(SettleInner {
        shared: shared.clone(),
        done: AtomicBool::new(false),
        message: delivery.message,
        attempt: delivery.attempt,
        remote: delivery.remote,
    }));
    let max = shared.options.max_deliver;
    if settle.0.attempt > max {
        // Back after its last attempt: its dead letter failed, or a process died while
        // handling it. The handler does not run again (a message that crashes its handler
        // cannot crash it forever); the dead letter is tried again.
        let reason = format!(
            "delivered {} times without being settled (max_deliver {max})",
            settle.0.attempt
        );
        if let Err(e) = settle.settle(Verdict::Exhausted(reason)).await {
            tracing::warn!(topic = %shared.topic, error = %e, "settling a message failed");
        }
        return;
    }
    let event = Event {
        settle: settle.clone(),
    };
    // Below the ack wait, so an engine that redelivers by itself does not hand the message
    // to another handler while this one still runs.
    let limit = shared
        .options
        .handler_timeout
        .min(shared.options.ack_wait.mul_f64(0.9));
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| (shared.handler)(event))) {
        // A handler stuck past its limit is dropped and the message handled as failed, so
        // one stuck message cannot stall the subscription.
        Ok(fut) => tokio::time::timeout(limit, AssertUnwindSafe(fut).catch_unwind())
            .await
            .unwrap_or_else(|_| {
                Ok(Err(Error::timeout(
                    super::ID,
                    format!("the subscriber did not finish within {limit:?}"),
                )))
            }),
        Err(panic) => Err(panic),
    };
    crate::metrics::delivered(
        &shared.topic,
        shared.options.queue.as_deref(),
        settle.0.attempt,
        matches!(outcome, Ok(Ok(()))),
    );
    let verdict = match outcome {
        Ok(Ok(())) => Verdict::Ack,
        Ok(Err(e)) => {
            tracing::warn!(topic = %shared.topic, attempt = settle.0.attempt, error = %e, "subscriber failed");
            Verdict::Failed(e)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            tracing::error!(topic = %shared.topic, attempt = settle.0.attempt, panic = %what, "subscriber panicked");
            Verdict::Nack(format!("the subscriber panicked: {what}"))
        }
    };
    if !shared.options.auto_ack && settle.0.remote.as_ref().is_some_and(|r| r.redelivers()) {
        // Manual acknowledgement on an engine that redelivers by itself: what the handler
        // left unsettled comes back after the ack wait.
        if !settle.0.done.load(Ordering::Acquire) {
            settle.0.done.store(true, Ordering::Release);
            shared.done_one();
        }
        return;
    }
    if let Err(e) = settle.settle(verdict).await {
        tracing::warn!(topic = %shared.topic, error = %e, "settling a message failed");
    }
}

/// Settles one delivery, once.
#[derive(Clone)]
pub(crate) struct Settle(Arc<SettleInner>);

struct SettleInner {
    shared: Arc<Shared>,
    done: AtomicBool,
    message: Envelope,
    attempt: u32,
    remote: Option<Box<dyn RemoteAck>>,
}

impl Settle {
    pub(crate) fn topic(&self) -> &str {
        &self.0.shared.topic
    }

    pub(crate) fn message(&self) -> &Envelope {
        &self.0.message
    }

    pub(crate) fn attempt(&self) -> u32 {
        self.0.attempt
    }

    pub(crate) async fn settle(&self, verdict: Verdict) -> Result<()> {
        let inner = &self.0;
        if inner.done.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let shared = &inner.shared;
        let counters = &shared.counters;
        let result = match &verdict {
            Verdict::Ack => {
                counters.acked.fetch_add(1, Ordering::Relaxed);
                match &inner.remote {
                    Some(remote) => remote.ack().await.map(|()| Settled::Done),
                    None => Ok(Settled::Done),
                }
            }
            Verdict::Nack(_) | Verdict::Failed(_) => {
                counters.nacked.fetch_add(1, Ordering::Relaxed);
                if inner.attempt >= shared.options.max_deliver {
                    let (text, typed) = match &verdict {
                        Verdict::Failed(e) => (e.to_string(), e.reason()),
                        Verdict::Nack(text) => (text.clone(), None),
                        _ => (String::new(), None),
                    };
                    let reason = format!(
                        "the subscriber failed {} times; last error: {text}",
                        inner.attempt
                    );
                    self.give_up(&reason, typed).await
                } else {
                    self.again().await
                }
            }
            Verdict::Reject(reason) => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                self.give_up(reason, None).await
            }
            Verdict::Exhausted(reason) => self.give_up(reason, None).await,
        };
        match result {
            Ok(Settled::Done) => {
                shared.done_one();
                Ok(())
            }
            Ok(Settled::Later) => Ok(()),
            Err(e) => {
                shared.done_one();
                Err(e)
            }
        }
    }

    /// Deliver the message again after the backoff (the engine does it where it redelivers
    /// by itself; here otherwise, the delivery staying pending).
    async fn again(&self) -> Result<Settled> {
        let inner = &self.0;
        let shared = &inner.shared;
        let delay = shared.options.backoff(inner.attempt);
        if let Some(remote) = &inner.remote {
            return remote.nack(delay).await.map(|()| Settled::Done);
        }
        let retry = Delivery {
            message: inner.message.clone(),
            attempt: inner.attempt + 1,
            remote: None,
        };
        let tx = shared.tx.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if tx.send(retry).await.is_err() {
                shared.done_one();
            }
        });
        Ok(Settled::Later)
    }

    /// The message will not be handled: dead-letter it, then drop it from the engine. When
    /// the dead letter cannot be published it is not dropped: it comes back after the
    /// backoff and the dead letter is tried again, so it is never lost.
    async fn give_up(&self, reason: &str, typed: Option<&str>) -> Result<Settled> {
        if !self.dead_letter(reason, typed).await {
            return self.again().await;
        }
        let shared = &self.0.shared;
        crate::metrics::dead_lettered(&shared.topic, shared.options.queue.as_deref());
        match &self.0.remote {
            Some(remote) => remote.term().await.map(|()| Settled::Done),
            None => Ok(Settled::Done),
        }
    }

    /// Publish the dead letter (or log it when no topic is set). False when the publish
    /// failed.
    async fn dead_letter(&self, reason: &str, typed: Option<&str>) -> bool {
        let shared = &self.0.shared;
        let message = &self.0.message;
        tracing::warn!(
            topic = %shared.topic,
            id = message.id().unwrap_or(""),
            reason,
            "message dead-lettered"
        );
        if let (Some(publish), Some(topic)) = (&shared.dead_letter, &shared.options.dead_letter) {
            let mut message = Envelope::clone(message);
            // One line of printable text: a multi-line error (a panic's message, a
            // backtrace) is a header every engine can carry.
            let reason = header_text(reason);
            message.headers.insert(HEADER_ERROR, reason);
            // A typed error's reason, on its own, for consumers of the dead letters to
            // branch on (`USER_NOT_FOUND`).
            match typed {
                Some(typed) => {
                    message
                        .headers
                        .insert(super::HEADER_ERROR_REASON, header_text(typed));
                }
                // A replayed dead letter keeps no reason of an earlier failure.
                None => {
                    message.headers.remove(super::HEADER_ERROR_REASON);
                }
            }
            message
                .headers
                .insert("micro-original-topic", shared.topic.to_string());
            // A dead letter is a new message on its own topic: a fresh id, topic, timestamp.
            message.headers.remove(super::HEADER_ID);
            message.headers.remove(super::HEADER_TIMESTAMP);
            if let Err(e) = publish(topic.clone(), message).await {
                tracing::error!(topic = %topic, error = %e, "publishing a dead letter failed; the message will come back");
                return false;
            }
        }
        shared
            .counters
            .dead_lettered
            .fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// One line of printable text of at most 4 KiB: a reason every engine can carry in a header
/// (MQTT refuses control characters and non-characters in its strings).
fn header_text(reason: &str) -> String {
    let mut text = String::with_capacity(reason.len().min(4096));
    for c in reason.chars() {
        if text.len() + c.len_utf8() > 4096 {
            break;
        }
        let printable = !c.is_control() && !('\u{fdd0}'..='\u{fdef}').contains(&c);
        text.push(if printable { c } else { ' ' });
    }
    text
}

/// The error a closed subscription answers with.
pub(crate) fn gone(topic: &str) -> Error {
    Error::not_found(
        super::ID,
        format!("no subscription on {topic} here any more"),
    )
}

#[cfg(test)]
mod tests {
    use super::header_text;

    #[test]
    fn dead_letter_reasons_become_one_printable_line_of_at_most_4_kib() {
        assert_eq!(header_text("boom\nat line 3\tx"), "boom at line 3 x");
        assert_eq!(header_text("ü\u{fdd0}ok"), "ü ok");
        let long = "é".repeat(5000);
        let text = header_text(&long);
        assert!(text.len() <= 4096 && text.len() >= 4094, "{}", text.len());
        assert!(text.chars().all(|c| c == 'é'));
    }
}
