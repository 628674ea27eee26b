//! The raw clients, each used as a plain user of it would: the path micro's messages take on
//! that server, without micro's headers and dispatch. Every round publishes `n` bodies of
//! `shape.body` bytes and counts deliveries across `shape.subscribers` members of one queue
//! group, each on a connection of its own.

use std::sync::Arc;

use broker_tests::{mqtt_url, nats_url, rabbitmq_url, redis_url, unique_topic};
use bytes::Bytes;
use futures_util::StreamExt;

use crate::{Clock, Shape};

/// Raw async-nats core publish → queue subscribe; with `headers`, each message carries the
/// three headers micro adds (id, timestamp, content type).
pub(crate) async fn core(
    client: &async_nats::Client,
    n: usize,
    shape: Shape,
    headers: bool,
) -> (f64, usize) {
    let topic = unique_topic("bench-raw");
    let clock = Arc::new(Clock::default());
    let mut readers = Vec::new();
    for _ in 0..shape.subscribers {
        let sub_client = async_nats::connect(nats_url()).await.unwrap();
        let mut sub = sub_client
            .queue_subscribe(topic.clone(), "bench".to_owned())
            .await
            .unwrap();
        sub_client.flush().await.unwrap();
        let c = clock.clone();
        readers.push(tokio::spawn(async move {
            let _keep = sub_client;
            while sub.next().await.is_some() {
                c.tick();
            }
        }));
    }
    let payload = shape.payload();
    clock.start();
    for i in 0..n {
        if headers {
            let mut h = async_nats::HeaderMap::new();
            h.insert("micro-id", format!("{:032x}", i).as_str());
            h.insert("micro-timestamp", "1763683200000");
            h.insert("content-type", "application/octet-stream");
            client
                .publish_with_headers(topic.clone(), h, payload.clone())
                .await
                .unwrap();
        } else {
            client
                .publish(topic.clone(), payload.clone())
                .await
                .unwrap();
        }
    }
    client.flush().await.unwrap();
    let result = clock.finish(n).await;
    readers.iter().for_each(|r| r.abort());
    result
}

/// Raw async-nats JetStream: acknowledged publishes, one durable pull consumer read by every
/// member, acknowledging each message.
pub(crate) async fn jetstream(
    client: &async_nats::Client,
    n: usize,
    in_flight: usize,
    shape: Shape,
) -> (f64, usize) {
    use async_nats::jetstream::{self, consumer, stream};
    let topic = unique_topic("bench-rawjs");
    let js = jetstream::new(client.clone());
    let name = format!("bench-{}", topic.replace('.', "_"));
    let stream = js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![topic.clone()],
            retention: stream::RetentionPolicy::Interest,
            ..Default::default()
        })
        .await
        .unwrap();
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("bench".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            max_ack_pending: 4096,
            ..Default::default()
        })
        .await
        .unwrap();
    let clock = Arc::new(Clock::default());
    let mut readers = Vec::new();
    for _ in 0..shape.subscribers {
        let mut messages = consumer.messages().await.unwrap();
        let c = clock.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(m)) = messages.next().await {
                let _ = m.ack().await;
                c.tick();
            }
        }));
    }
    let payload = shape.payload();
    clock.start();
    let acks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let js = js.clone();
            let topic = topic.clone();
            let payload = payload.clone();
            async move {
                match js.publish(topic, payload).await {
                    Ok(ack) => ack.await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(acks.iter().all(|ok| *ok), "raw JetStream publishes failed");
    let result = clock.finish(n).await;
    readers.iter().for_each(|r| r.abort());
    let _ = js.delete_stream(&name).await;
    result
}

/// Raw Redis Streams through redis-rs: XADD (`in_flight` at once); each member a consumer of
/// one group reading with XREADGROUP and acknowledging each entry with XACK.
pub(crate) async fn redis(n: usize, in_flight: usize, shape: Shape) -> (f64, usize) {
    let topic = unique_topic("bench-rawredis");
    let key = format!("bench:{topic}");
    let client = redis::Client::open(redis_url()).unwrap();
    let publisher = client.get_multiplexed_async_connection().await.unwrap();
    let mut setup = client.get_multiplexed_async_connection().await.unwrap();
    let _: redis::Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg("bench")
        .arg("$")
        .arg("MKSTREAM")
        .query_async(&mut setup)
        .await
        .unwrap();
    let clock = Arc::new(Clock::default());
    let mut readers = Vec::new();
    for member in 0..shape.subscribers {
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let c = clock.clone();
        let key = key.clone();
        readers.push(tokio::spawn(async move {
            loop {
                let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("bench")
                    .arg(format!("c{member}"))
                    .arg("COUNT")
                    .arg(64)
                    .arg("BLOCK")
                    .arg(100)
                    .arg("STREAMS")
                    .arg(&key)
                    .arg(">")
                    .query_async(&mut con)
                    .await
                    .unwrap_or(None);
                for stream in reply.map(|r| r.keys).unwrap_or_default() {
                    for entry in stream.ids {
                        let _: redis::RedisResult<i64> = redis::cmd("XACK")
                            .arg(&key)
                            .arg("bench")
                            .arg(&entry.id)
                            .query_async(&mut con)
                            .await;
                        c.tick();
                    }
                }
            }
        }));
    }
    let payload = shape.payload();
    clock.start();
    let oks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let mut con = publisher.clone();
            let key = key.clone();
            let payload = payload.clone();
            async move {
                redis::cmd("XADD")
                    .arg(&key)
                    .arg("*")
                    .arg("b")
                    .arg(&payload[..])
                    .query_async::<redis::Value>(&mut con)
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(oks.iter().all(|ok| *ok), "raw XADDs failed");
    let result = clock.finish(n).await;
    readers.iter().for_each(|r| r.abort());
    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&key).query_async(&mut setup).await;
    result
}

/// Raw RabbitMQ through lapin: confirmed, persistent publishes (`in_flight` at once) through
/// a topic exchange to a durable quorum queue; each member a consumer on a connection of its
/// own acknowledging each message.
pub(crate) async fn rabbitmq(n: usize, in_flight: usize, shape: Shape) -> (f64, usize) {
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
    };
    use lapin::types::FieldTable;
    let queue = unique_topic("bench-rawamqp");
    let url = rabbitmq_url();
    let connect = || lapin::Connection::connect(&url, lapin::ConnectionProperties::default());
    let connection = connect().await.unwrap();
    let publisher = connection.create_channel().await.unwrap();
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("quorum".into()),
    );
    publisher
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .unwrap();
    // Routed through a topic exchange, as micro's messages are.
    publisher
        .exchange_declare(
            "micro-bench-raw".into(),
            lapin::ExchangeKind::Topic,
            lapin::options::ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    publisher
        .queue_bind(
            queue.as_str().into(),
            "micro-bench-raw".into(),
            queue.as_str().into(),
            lapin::options::QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let clock = Arc::new(Clock::default());
    let mut readers = Vec::new();
    for _ in 0..shape.subscribers {
        let member = connect().await.unwrap();
        let channel = member.create_channel().await.unwrap();
        channel
            .basic_qos(4096, BasicQosOptions::default())
            .await
            .unwrap();
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let c = clock.clone();
        readers.push(tokio::spawn(async move {
            let _keep = member;
            while let Some(Ok(delivery)) = consumer.next().await {
                let _ = delivery.acker.ack(BasicAckOptions::default()).await;
                c.tick();
            }
        }));
    }
    let payload = shape.payload();
    clock.start();
    let oks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let publisher = publisher.clone();
            let queue = queue.clone();
            let payload = payload.clone();
            async move {
                let properties = lapin::BasicProperties::default().with_delivery_mode(2);
                match publisher
                    .basic_publish(
                        "micro-bench-raw".into(),
                        queue.as_str().into(),
                        BasicPublishOptions::default(),
                        &payload,
                        properties,
                    )
                    .await
                {
                    Ok(confirm) => confirm.await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(oks.iter().all(|ok| *ok), "raw lapin publishes failed");
    let result = clock.finish(n).await;
    readers.iter().for_each(|r| r.abort());
    let _ = publisher
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = connection.close(200, "done".into()).await;
    result
}

/// Raw MQTT 5 through rumqttc: QoS 1 publishes (rumqttc's own flow control: the server's
/// receive maximum in flight); each member a client of the shared subscription
/// `$share/bench/<topic>`, acknowledging on receipt as rumqttc does by default.
pub(crate) async fn mqtt(n: usize, shape: Shape) -> (f64, usize) {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};
    let url = mqtt_url();
    let hostport = url.trim_start_matches("mqtt://").trim_end_matches('/');
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "1883"));
    let port: u16 = port.parse().unwrap();
    let options = |id: String| {
        let mut o = MqttOptions::new(id, host, port);
        o.set_max_packet_size(Some(1 << 20));
        o
    };
    let topic = unique_topic("bench-rawmqtt").replace('.', "/");
    let clock = Arc::new(Clock::default());
    let mut readers = Vec::new();
    for member in 0..shape.subscribers {
        let (client, mut eventloop) =
            AsyncClient::new(options(format!("bench-sub-{member}-{}", fastrand())), 4096);
        client
            .subscribe(format!("$share/bench/{topic}"), QoS::AtLeastOnce)
            .await
            .unwrap();
        // Until the server confirmed the subscription.
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await.unwrap() {
                break;
            }
        }
        let c = clock.clone();
        readers.push(tokio::spawn(async move {
            let _keep = client;
            while let Ok(event) = eventloop.poll().await {
                if let Event::Incoming(Packet::Publish(_)) = event {
                    c.tick();
                }
            }
        }));
    }
    let (client, mut eventloop) =
        AsyncClient::new(options(format!("bench-pub-{}", fastrand())), 4096);
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let a = acked.clone();
    let driver = tokio::spawn(async move {
        while let Ok(event) = eventloop.poll().await {
            if let Event::Incoming(Packet::PubAck(_)) = event {
                a.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    let payload: Bytes = shape.payload();
    clock.start();
    for _ in 0..n {
        client
            .publish(topic.clone(), QoS::AtLeastOnce, false, payload.clone())
            .await
            .unwrap();
    }
    let result = clock.finish(n).await;
    let all_acked = broker_tests::wait_until(std::time::Duration::from_secs(10), || {
        acked.load(std::sync::atomic::Ordering::Relaxed) >= n
    })
    .await;
    assert!(all_acked, "raw rumqttc publishes were not all acknowledged");
    readers.iter().for_each(|r| r.abort());
    driver.abort();
    result
}

fn fastrand() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}
