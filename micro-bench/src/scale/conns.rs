//! Server memory and accept rate with 100, 1,000 and 10,000 idle connections: each
//! connection makes one gRPC call, then stays open and quiet. micro and tonic servers, both
//! driven by tonic's client, so the client side is the same.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use super::{Settings, Table, file_limit};
use crate::echo::{Framework, tonic_pb};
use crate::run::{spawn_server, status_kib};

/// Open `n` connections to `addr`, one call on each; the clients (keep them to keep the
/// connections) and the connections made per second.
async fn connect_all(
    addr: std::net::SocketAddr,
    n: usize,
) -> Result<
    (
        Vec<tonic_pb::echo_client::EchoClient<tonic::transport::Channel>>,
        f64,
    ),
    String,
> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(10));
    let start = Instant::now();
    let clients: Vec<_> = futures_util::stream::iter(0..n)
        .map(|_| {
            let endpoint = endpoint.clone();
            async move {
                let channel = endpoint.connect().await.map_err(|e| format!("{e:?}"))?;
                let mut client = tonic_pb::echo_client::EchoClient::new(channel);
                client
                    .echo(tonic_pb::Payload {
                        data: Bytes::from_static(b"0123456789abcdef"),
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(client)
            }
        })
        .buffer_unordered(64)
        .try_collect()
        .await?;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    Ok((clients, rate))
}

/// The connections table.
pub async fn run(settings: &Settings) -> Result<Table, String> {
    let mut table = Table::new(
        "Idle connections: server memory and accept rate",
        "A fresh server process per point (current-thread runtime); the driver opens the \
         connections 64 at a time with tonic's client, makes one 16 B call on each and keeps \
         them open. RSS is read 0.5 s after the last call; per connection = (RSS − RSS at \
         start) / connections.",
        &[
            "connections",
            "micro RSS MiB",
            "micro KiB/conn",
            "micro conns/s",
            "tonic RSS MiB",
            "tonic KiB/conn",
            "tonic conns/s",
        ],
    );
    // Each connection takes a descriptor here and one in the server.
    let limit = file_limit().saturating_sub(200) as usize;
    let sizes: &[usize] = if settings.quick {
        &[100]
    } else {
        &[100, 1_000, 10_000]
    };
    for &n in sizes {
        if n > limit {
            table.row(vec![
                n.to_string(),
                format!("skipped: open-file limit {}", limit + 200),
            ]);
            continue;
        }
        let mut row = vec![n.to_string()];
        for framework in [Framework::Micro, Framework::Tonic] {
            let server = spawn_server(framework, false)?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let pid = server.child.id().to_string();
            let base = status_kib(&pid, "VmRSS:");
            let (clients, rate) = connect_all(server.addr, n).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let rss = status_kib(&pid, "VmRSS:");
            drop(clients);
            server.stop().await;
            let per = rss.saturating_sub(base) as f64 / n as f64;
            row.push(format!("{:.1}", rss as f64 / 1024.0));
            row.push(format!("{per:.1}"));
            row.push(format!("{rate:.0}"));
        }
        table.row(row);
    }
    Ok(table)
}
