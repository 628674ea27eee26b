//! The limits that protect a service's server, as builder methods (each also a `MICRO_*`
//! setting where it says so).

use std::time::Duration;

use super::ServiceBuilder;

impl ServiceBuilder {
    /// The largest message accepted or sent, in bytes (default 4 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.limits.max_recv = bytes;
        self.limits.max_send = bytes;
        self
    }

    /// The most calls served at once on one connection (default 200). Clients see it in the
    /// HTTP/2 settings and queue further calls until one ends; streams opened beyond it are
    /// refused with `REFUSED_STREAM`, which a client may retry safely.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.limits.max_concurrent_streams = streams;
        self
    }

    /// The largest header block (metadata) accepted on an HTTP/2 request, in bytes
    /// (default 16 KiB). Larger requests are answered with HTTP 431 and never reach a handler.
    /// HTTP/1.1 requests keep hyper's limits (100 headers, 400 KiB read buffer).
    pub fn max_header_list_size(mut self, bytes: u32) -> Self {
        self.limits.max_header_list_size = bytes;
        self
    }

    /// The deadline of a unary call whose caller set none (default 60 s, `None` for no
    /// limit; `MICRO_SERVER_TIMEOUT`). A caller's deadline always wins.
    pub fn default_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.server_timeout = timeout;
        self
    }

    /// Shed unary calls while this process's CPU share is over `cpu` (0.0–1.0) and more
    /// calls are in flight than the server carried lately, answering `RESOURCE_EXHAUSTED`
    /// (503) at once; health checks are never shed (default `Some(0.9)`, `None` turns it off;
    /// `MICRO_SERVER_LOAD_SHEDDING`).
    pub fn load_shedding(mut self, cpu: Option<f64>) -> Self {
        self.settings.server_load_shedding = cpu;
        self
    }

    /// How long a new connection may take to show which transport it speaks (its first
    /// bytes, the native preface, an HTTP/1.1 request head) before it is closed (default
    /// 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.limits.handshake_timeout = timeout;
        self
    }

    /// Close connections without calls after this long (default 5 min, `None` for never;
    /// `MICRO_SERVER_IDLE_TIMEOUT`). On HTTP/2 a connection counts as idle when it started
    /// no call for this long; calls still open on it finish after the `GOAWAY`.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.server_idle_timeout = timeout;
        self
    }

    /// Ping quiet connections this often and close those that do not answer within 20 s (or
    /// within the interval, when it is shorter) (default 30 s, `None` for no pings;
    /// `MICRO_SERVER_KEEPALIVE`). HTTP/2 connections get `PING` frames, native ones the
    /// native `PING`.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.settings.server_keepalive = interval;
        self
    }

    /// Serve at most this many connections at once; more are closed as they arrive
    /// (default 10,000; `MICRO_SERVER_MAX_CONNECTIONS`).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.settings.server_max_connections = max.max(1);
        self
    }

    /// Ask connections older than this to go away (`GOAWAY`) once their calls are done, so
    /// long-lived clients spread over nodes added later (default: no limit;
    /// `MICRO_SERVER_MAX_CONNECTION_AGE`).
    pub fn max_connection_age(mut self, age: Option<Duration>) -> Self {
        self.settings.server_max_connection_age = age;
        self
    }
}
