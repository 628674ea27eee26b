//! The in-process broker.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use super::dispatch::{Delivery, Dispatcher, Intake, dead_letters};
use super::{BoxFuture, Broker, Envelope, Handler, SubscribeOptions, Subscription, validate_topic};
use crate::error::Result;

/// Messages between the tasks of one process: no network, no serialization beyond what the
/// typed layer does. Queue groups and broadcast subscriptions behave as on every other
/// broker; handler errors are redelivered here with backoff.
///
/// Clones share the topics. [`MemoryBroker::global`] is the one `MICRO_BROKER=memory`
/// selects, shared by every service in the process.
#[derive(Clone, Default)]
pub struct MemoryBroker {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    next_id: AtomicU64,
}

/// A topic's subscriptions, grouped; replaced as a whole when one joins or leaves.
#[derive(Default)]
struct Topic {
    broadcast: Vec<Arc<Member>>,
    groups: Vec<Group>,
}

struct Group {
    name: String,
    members: Vec<Arc<Member>>,
    turn: AtomicUsize,
}

struct Member {
    id: u64,
    intake: Intake,
}

impl fmt::Debug for MemoryBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topics = self.inner.topics.read().map(|t| t.len()).unwrap_or(0);
        f.debug_struct("MemoryBroker")
            .field("topics", &topics)
            .finish()
    }
}

impl MemoryBroker {
    /// A broker of its own.
    pub fn new() -> MemoryBroker {
        MemoryBroker::default()
    }

    /// The process-wide broker.
    pub fn global() -> MemoryBroker {
        static GLOBAL: OnceLock<MemoryBroker> = OnceLock::new();
        GLOBAL.get_or_init(MemoryBroker::new).clone()
    }

    fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.inner
            .topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    fn update(&self, name: &str, change: impl FnOnce(&Topic) -> Topic) {
        let mut topics = self.inner.topics.write().unwrap_or_else(|e| e.into_inner());
        let current = topics.get(name).cloned().unwrap_or_default();
        let next = change(&current);
        if next.broadcast.is_empty() && next.groups.is_empty() {
            topics.remove(name);
        } else {
            topics.insert(name.to_owned(), Arc::new(next));
        }
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        message.stamp(topic);
        let Some(subs) = self.topic(topic) else {
            return Ok(());
        };
        let targets = subs.broadcast.len() + subs.groups.len();
        let mut message = Some(message);
        // Every target but the last gets a copy; the last one gets the message itself.
        let mut take = |i: usize| {
            if i + 1 == targets {
                message.take().unwrap_or_default()
            } else {
                message.clone().unwrap_or_default()
            }
        };
        for (i, member) in subs.broadcast.iter().enumerate() {
            let _ = member.intake.deliver(Delivery::local(take(i))).await;
        }
        for (i, group) in subs.groups.iter().enumerate() {
            let n = group.members.len();
            let start = group.turn.fetch_add(1, Ordering::Relaxed);
            let mut delivery = Delivery::local(take(subs.broadcast.len() + i));
            for i in 0..n {
                match group.members[(start + i) % n]
                    .intake
                    .deliver(delivery)
                    .await
                {
                    Ok(()) => break,
                    Err(back) => delivery = back,
                }
            }
        }
        Ok(())
    }
}

fn without(members: &[Arc<Member>], id: u64) -> Vec<Arc<Member>> {
    members.iter().filter(|m| m.id != id).cloned().collect()
}

impl Broker for MemoryBroker {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn address(&self) -> String {
        "memory".to_owned()
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Nothing to disconnect: subscriptions end when unsubscribed.
    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
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
        Box::pin(async move {
            validate_topic(topic)?;
            options.validate()?;
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let dispatcher = Dispatcher::new(topic, handler, options, dead_letter);
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let member = Arc::new(Member {
                id,
                intake: dispatcher.intake(),
            });
            self.update(topic, |t| {
                let mut next = Topic {
                    broadcast: t.broadcast.clone(),
                    groups: t
                        .groups
                        .iter()
                        .map(|g| Group {
                            name: g.name.clone(),
                            members: g.members.clone(),
                            turn: AtomicUsize::new(g.turn.load(Ordering::Relaxed)),
                        })
                        .collect(),
                };
                match &queue {
                    None => next.broadcast.push(member),
                    Some(name) => match next.groups.iter_mut().find(|g| &g.name == name) {
                        Some(group) => group.members.push(member),
                        None => next.groups.push(Group {
                            name: name.clone(),
                            members: vec![member],
                            turn: AtomicUsize::new(0),
                        }),
                    },
                }
                next
            });
            let counters = dispatcher.counters();
            let broker = self.clone();
            let name = topic.to_owned();
            Ok(Subscription::new(
                topic,
                queue,
                counters,
                Box::new(move |grace: Duration| {
                    Box::pin(async move {
                        broker.update(&name, |t| Topic {
                            broadcast: without(&t.broadcast, id),
                            groups: t
                                .groups
                                .iter()
                                .map(|g| Group {
                                    name: g.name.clone(),
                                    members: without(&g.members, id),
                                    turn: AtomicUsize::new(g.turn.load(Ordering::Relaxed)),
                                })
                                .filter(|g| !g.members.is_empty())
                                .collect(),
                        });
                        dispatcher.drain(grace).await;
                    })
                }),
            ))
        })
    }
}
