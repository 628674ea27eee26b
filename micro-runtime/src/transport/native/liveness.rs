//! Keeping a native server connection honest: a coarse tick beside the reader pings a quiet
//! peer and closes it when the ping goes unanswered, and asks idle and old connections to
//! go away. Calls pay nothing for it (no timer is polled per frame).

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;

use super::kind;
use super::server::Conn;

/// Watch a connection on a coarse tick: ping it when quiet (if it answers pings) and
/// return `true` when it does not answer; send `GOAWAY` when it is idle or past its age,
/// and return `false` once its calls are done (or, idle, a second after the `GOAWAY`, for
/// a call that crossed it).
pub(super) async fn keep(conn: &Conn, limits: &crate::endpoint::Limits) -> bool {
    let mut life = Liveness::new(limits);
    let mut away: Option<Instant> = None;
    loop {
        tokio::time::sleep(life.tick).await;
        let idle = conn.idle();
        if let Some(at) = away
            && idle
            && at.elapsed() >= std::time::Duration::from_secs(1)
        {
            return false;
        }
        let pings = conn.pings.load(Ordering::Relaxed);
        match life.check(conn.frames.load(Ordering::Relaxed), idle, pings) {
            Check::Fine => {}
            Check::Ping => {
                conn.writer
                    .with(|f| f.frame(kind::PING, 0, 0, Bytes::from_static(&[0; 8])));
            }
            Check::Drain(why) => {
                if away.is_none() {
                    tracing::debug!(peer = ?conn.peer, why, "asking a native connection to go away");
                    conn.go_away();
                    away = Some(Instant::now());
                }
            }
            Check::Dead => {
                tracing::debug!(peer = ?conn.peer, "native connection did not answer a ping; closing it");
                return true;
            }
        }
    }
}

/// Keepalive, idle and age bookkeeping of one connection, checked on a coarse tick (so the
/// per-frame path only counts frames).
struct Liveness {
    tick: std::time::Duration,
    limits: crate::endpoint::Limits,
    born: Instant,
    /// Frames read so far, and how many had been read at the last tick.
    frames: u64,
    seen: u64,
    /// When a frame last arrived (to a tick's precision).
    heard: Instant,
    /// When the connection last became free of calls.
    idle_since: Option<Instant>,
    /// When an unanswered ping went out.
    pinged: Option<Instant>,
}

enum Check {
    Fine,
    Ping,
    Drain(&'static str),
    Dead,
}

impl Liveness {
    fn new(limits: &crate::endpoint::Limits) -> Liveness {
        let shortest = [
            limits.keepalive_interval,
            Some(limits.keepalive_timeout),
            limits.idle_timeout,
            limits.max_connection_age,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(std::time::Duration::from_secs(1));
        let now = Instant::now();
        Liveness {
            tick: (shortest / 4).clamp(
                std::time::Duration::from_millis(10),
                std::time::Duration::from_secs(1),
            ),
            limits: *limits,
            born: now,
            frames: 0,
            seen: 0,
            heard: now,
            idle_since: Some(now),
            pinged: None,
        }
    }

    fn check(&mut self, frames: u64, idle: bool, pings: bool) -> Check {
        self.frames = frames;
        let now = Instant::now();
        if self.frames != self.seen {
            self.seen = self.frames;
            self.heard = now;
            self.pinged = None;
        }
        self.idle_since = match (idle, self.idle_since) {
            (false, _) => None,
            (true, None) => Some(now),
            (true, since) => since,
        };
        if let Some(sent) = self.pinged
            && now.duration_since(sent) >= self.limits.keepalive_timeout
        {
            return Check::Dead;
        }
        if let (Some(limit), Some(since)) = (self.limits.idle_timeout, self.idle_since)
            && now.duration_since(since) >= limit
        {
            return Check::Drain("idle");
        }
        if let Some(age) = self.limits.max_connection_age
            && now.duration_since(self.born) >= age
        {
            return Check::Drain("max connection age reached");
        }
        if let Some(every) = self.limits.keepalive_interval
            && pings
            && self.pinged.is_none()
            && now.duration_since(self.heard) >= every
        {
            self.pinged = Some(now);
            return Check::Ping;
        }
        Check::Fine
    }
}
