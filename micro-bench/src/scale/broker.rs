//! Broker fan-out to 1, 10 and 100 subscribing services, on the http broker (no broker
//! server: the publisher hands each message to one member of every group) and on NATS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use micro::broker::{
    Envelope, HttpBroker, HttpBrokerOptions, NatsBroker, NatsMode, SharedBroker, SubscribeOptions,
    Subscription, handler,
};
use micro::registry::{MemoryRegistry, SharedRegistry};

use super::{Settings, Table, human, median};

/// One broker per service, as each service process has its own.
fn broker(kind: &str, registry: &SharedRegistry, nats: &str) -> SharedBroker {
    match kind {
        "http" => {
            let mut options = HttpBrokerOptions::default();
            options.address = "127.0.0.1:0".to_owned();
            Arc::new(HttpBroker::with_options(registry.clone(), options))
        }
        _ => Arc::new(NatsBroker::new(nats, NatsMode::Core)),
    }
}

/// Wait until `count` reaches `want`; false after `limit`.
async fn reach(count: &AtomicUsize, want: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while count.load(Ordering::Relaxed) < want {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

/// One point: `services` groups on one topic, `messages` published one after another.
/// Median publish time, deliveries a second.
async fn point(
    kind: &str,
    nats: &str,
    services: usize,
    messages: usize,
) -> Result<(Duration, f64), String> {
    let registry: SharedRegistry = Arc::new(MemoryRegistry::new());
    let topic = format!("scale.{kind}.{services}.{}", std::process::id());
    let delivered = Arc::new(AtomicUsize::new(0));
    // Which groups got a message yet: the warm-up waits for every one.
    let seen: Arc<Vec<AtomicBool>> =
        Arc::new((0..services).map(|_| AtomicBool::new(false)).collect());
    let mut subscribers: Vec<(SharedBroker, Subscription)> = Vec::with_capacity(services);
    for s in 0..services {
        let b = broker(kind, &registry, nats);
        b.connect().await.map_err(|e| format!("{kind}: {e}"))?;
        let count = delivered.clone();
        let seen_by = seen.clone();
        let sub = b
            .subscribe(
                &topic,
                handler(move |_event| {
                    let count = count.clone();
                    let seen_by = seen_by.clone();
                    async move {
                        seen_by[s].store(true, Ordering::Relaxed);
                        count.fetch_add(1, Ordering::Relaxed);
                        Ok(())
                    }
                }),
                SubscribeOptions::queue(format!("svc{s}")),
            )
            .await
            .map_err(|e| format!("{kind} subscribe: {e}"))?;
        subscribers.push((b, sub));
    }
    let publisher = broker(kind, &registry, nats);
    publisher.connect().await.map_err(|e| e.to_string())?;
    // Warm up until every group gets messages (NATS interest propagates asynchronously).
    let mut sent = 0;
    loop {
        publisher
            .publish(&topic, Envelope::new(&b"warm"[..]))
            .await
            .map_err(|e| format!("{kind} publish: {e}"))?;
        sent += 1;
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline && !seen.iter().all(|g| g.load(Ordering::Relaxed)) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if seen.iter().all(|g| g.load(Ordering::Relaxed)) {
            break;
        }
        if sent > 50 {
            return Err(format!("{kind}: {services} groups never all received"));
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = delivered.load(Ordering::Relaxed);
    let body = bytes::Bytes::from(vec![b'x'; 64]);
    let mut publish = Vec::with_capacity(messages);
    let start = Instant::now();
    for _ in 0..messages {
        let t = Instant::now();
        publisher
            .publish(&topic, Envelope::new(body.clone()))
            .await
            .map_err(|e| format!("{kind} publish: {e}"))?;
        publish.push(t.elapsed().as_secs_f64());
    }
    let want = before + services * messages;
    if !reach(&delivered, want, Duration::from_secs(60)).await {
        return Err(format!(
            "{kind}: {} of {} deliveries arrived",
            delivered.load(Ordering::Relaxed) - before,
            services * messages
        ));
    }
    let rate = (services * messages) as f64 / start.elapsed().as_secs_f64();
    for (b, sub) in subscribers {
        sub.unsubscribe_within(Duration::from_secs(1)).await;
        let _ = b.disconnect().await;
    }
    let _ = publisher.disconnect().await;
    Ok((Duration::from_secs_f64(median(&mut publish)), rate))
}

/// The fan-out table.
pub async fn run(settings: &Settings) -> Result<Table, String> {
    let mut table = Table::new(
        "Broker fan-out by subscribing services",
        "One topic; each subscribing service is its own broker instance with its own queue \
         group (so every service gets every message); one publisher sends 64 B messages one \
         after another. Publish: median time of one `publish`. Deliveries: handler calls \
         per second, from the first publish to the last delivery.",
        &[
            "services",
            "http publish",
            "http deliveries/s",
            "NATS publish",
            "NATS deliveries/s",
        ],
    );
    let sizes: &[usize] = if settings.quick {
        &[1, 10]
    } else {
        &[1, 10, 100]
    };
    let messages = if settings.quick { 100 } else { 500 };
    let nats_up = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(settings.nats.trim_start_matches("nats://")),
    )
    .await
    .is_ok_and(|c| c.is_ok());
    for &services in sizes {
        let mut row = vec![services.to_string()];
        let (publish, rate) = point("http", &settings.nats, services, messages).await?;
        row.push(human(publish));
        row.push(format!("{rate:.0}"));
        if nats_up {
            let (publish, rate) = point("nats", &settings.nats, services, messages).await?;
            row.push(human(publish));
            row.push(format!("{rate:.0}"));
        } else {
            row.push(format!("no NATS at {}", settings.nats));
            row.push("—".to_owned());
        }
        table.row(row);
    }
    Ok(table)
}
