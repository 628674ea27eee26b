//! Client keepalive: a task beside each connection's reader.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::Conn;
use crate::transport::native::kind;

/// Keepalive, beside the reader (so calls pay nothing for it): while calls are open, a
/// connection quiet for `every` is pinged, and dropped when nothing arrives for as long
/// again (a node that hangs keeps the TCP connection up; only an answer tells it is alive):
/// its reader and writer tasks are stopped and its calls fail.
pub(super) async fn keep_alive(
    conn: Weak<Conn>,
    every: Duration,
    tasks: [tokio::task::AbortHandle; 2],
) {
    let tick = (every / 4).max(Duration::from_millis(10));
    let mut seen = 0u64;
    let mut heard = Instant::now();
    let mut pinged: Option<Instant> = None;
    loop {
        tokio::time::sleep(tick).await;
        let Some(conn) = conn.upgrade() else {
            return;
        };
        if conn.is_closed() && conn.slots_len() == 0 {
            return;
        }
        let now = Instant::now();
        let frames = conn.frames.load(Ordering::Relaxed);
        if frames != seen || conn.slots_len() == 0 {
            (seen, heard, pinged) = (frames, now, None);
            continue;
        }
        match pinged {
            Some(at) if now.duration_since(at) >= every => {
                tracing::debug!(addr = %conn.addr, "native connection did not answer a ping; dropping it");
                // The reader, and the writer (which may be stuck on a full socket).
                for task in &tasks {
                    task.abort();
                }
                conn.lost_all();
                return;
            }
            None if now.duration_since(heard) >= every => {
                pinged = Some(now);
                conn.writer
                    .with(|f| f.frame(kind::PING, 0, 0, Bytes::from_static(&[0; 8])));
            }
            _ => {}
        }
    }
}
