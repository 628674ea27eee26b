//! One call: pick nodes, pick each node's transport, attempt, retry only when that cannot
//! run the call twice, all within one deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{CallOptions, ClientInner, ID, guard};
use crate::codec::Format;
use crate::context::Context;
use crate::error::{Error, Failure, Result};
use crate::registry::Node;
use crate::selector::{Candidate, Next, Outcome};
use crate::transport::{CallHead, Connection, StreamStart, UnaryReply};

/// What every attempt of one call shares.
pub(crate) struct CallPlan<'a> {
    pub(crate) ctx: &'a Context,
    pub(crate) service: &'a str,
    pub(crate) endpoint: &'a str,
    pub(crate) opts: &'a CallOptions,
    pub(crate) format: Format,
}

/// Where a call may go: fixed addresses, or the selector's candidates.
enum Candidates {
    Fixed { addresses: Vec<String>, at: usize },
    Selected(Next),
}

/// One node to try.
struct Target {
    node: Arc<Node>,
    candidate: Option<Candidate>,
}

impl Candidates {
    fn next(&mut self) -> Option<Target> {
        match self {
            Candidates::Fixed { addresses, at } => {
                let address = addresses.get(*at)?.clone();
                *at += 1;
                Some(Target {
                    node: Arc::new(Node::new(address.clone(), address)),
                    candidate: None,
                })
            }
            Candidates::Selected(next) => next.next().map(|c| Target {
                node: c.node.clone(),
                candidate: Some(c),
            }),
        }
    }
}

/// What every attempt's head shares; [`Heads::at`] adds the path.
struct Heads<'a> {
    format: Format,
    deadline: Instant,
    metadata: [&'a crate::context::Metadata; 2],
}

impl<'a> Heads<'a> {
    fn at<'p>(&'p self, path: &'p str) -> CallHead<'p>
    where
        'a: 'p,
    {
        CallHead {
            path,
            format: self.format,
            deadline: self.deadline,
            metadata: self.metadata,
        }
    }
}

/// The error of a call whose deadline passed on `target` (which is marked for it by the
/// caller's selector on the plain path; hedged calls mark nothing: another node answered or
/// both were slow).
fn timed_out(call: &CallPlan<'_>, target: &Target) -> Error {
    Error::timeout(
        ID,
        format!(
            "call to {} {} timed out: deadline exceeded on {}",
            call.service, call.endpoint, target.node.address
        ),
    )
}

/// `Service.Method`, checked.
pub(crate) fn split_endpoint(endpoint: &str) -> Result<(&str, &str)> {
    match endpoint.split_once('.') {
        Some((svc, method)) if !svc.is_empty() && !method.is_empty() && !method.contains('.') => {
            Ok((svc, method))
        }
        _ => Err(Error::bad_request(
            ID,
            format!(
                "invalid endpoint {endpoint:?}: write it as Service.Method, e.g. Greeter.Hello"
            ),
        )),
    }
}

impl Target {
    /// The gRPC path: borrowed from the registry record when it has one (no copy per
    /// call).
    fn path(&self, endpoint: &str, opts: &CallOptions) -> Result<std::borrow::Cow<'_, str>> {
        let (svc, method) = split_endpoint(endpoint)?;
        if let Some(pkg) = &opts.package {
            return Ok(format!("/{pkg}.{svc}/{method}").into());
        }
        if let Some(path) = self
            .candidate
            .as_ref()
            .and_then(|c| c.service.endpoint(endpoint))
            .and_then(|e| e.metadata.get("grpc_path"))
        {
            return Ok(path.as_str().into());
        }
        Ok(format!("/{svc}/{method}").into())
    }

    fn idempotent(&self, endpoint: &str, opts: &CallOptions) -> bool {
        opts.idempotent.unwrap_or_else(|| {
            self.candidate
                .as_ref()
                .and_then(|c| c.service.endpoint(endpoint))
                .is_some_and(|e| e.is_idempotent())
        })
    }
}

impl ClientInner {
    /// The call's options with the target's policy filled in where the call set nothing
    /// (borrowed as they are when no policy is configured).
    pub(crate) fn policed<'a>(
        &self,
        service: &str,
        endpoint: &str,
        opts: &'a CallOptions,
    ) -> std::borrow::Cow<'a, CallOptions> {
        let policy = (!self.options.policies.is_empty())
            .then(|| self.options.policies.find(service, endpoint))
            .flatten();
        let proxy = self
            .options
            .proxy
            .as_ref()
            .filter(|_| opts.addresses.is_empty());
        if policy.is_none() && proxy.is_none() {
            return std::borrow::Cow::Borrowed(opts);
        }
        let mut own = opts.clone();
        if let Some(proxy) = proxy {
            // Through a proxy: it resolves and balances; the call names the service.
            own.addresses.push(proxy.clone());
            own.metadata
                .insert(super::PROXY_SERVICE_HEADER, service.to_owned());
        }
        if let Some(policy) = policy {
            own.timeout = own.timeout.or(policy.timeout);
            own.retries = own.retries.or(policy.retries);
            own.breaker = own.breaker.or(policy.breaker);
            own.hedge = own.hedge.or(policy.hedge);
        }
        std::borrow::Cow::Owned(own)
    }

    /// Whether the breaker guards this call.
    fn breaker_on(&self, opts: &CallOptions) -> bool {
        opts.breaker.unwrap_or_else(|| self.breakers.on())
    }

    /// When the call must be done: the call's timeout (or the client's), or the context's
    /// deadline when that comes first.
    pub(crate) fn deadline(&self, ctx: &Context, opts: &CallOptions) -> Instant {
        self.deadline_from(Instant::now(), ctx, opts)
    }

    /// [`ClientInner::deadline`] for a call starting at `now`.
    fn deadline_from(&self, now: Instant, ctx: &Context, opts: &CallOptions) -> Instant {
        let timeout = opts.timeout.unwrap_or(self.options.request_timeout);
        let own = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        match ctx.deadline() {
            Some(d) if d < own => d,
            _ => own,
        }
    }

    async fn candidates(&self, service: &str, opts: &CallOptions) -> Result<Candidates> {
        if !opts.addresses.is_empty() {
            return Ok(Candidates::Fixed {
                addresses: opts.addresses.clone(),
                at: 0,
            });
        }
        Ok(Candidates::Selected(
            self.selector.select(service, &opts.filters).await?,
        ))
    }

    fn mark(&self, target: &Target, outcome: Outcome) {
        if target.candidate.is_some() {
            self.selector.mark(&target.node, outcome);
        }
    }

    /// The connection a call to `node` of `service` takes: the transport the policy picks
    /// for it. With `MICRO_TLS_VERIFY_SERVICE`, the node's certificate must name the service.
    async fn connection(
        &self,
        service: &str,
        node: &Node,
    ) -> Result<(&'static str, Arc<dyn Connection>)> {
        let transport = self.options.transport.transport_for(node);
        let conn = self.pool.get(transport, &node.address).await?;
        // In-process (memory) nodes have no certificate and need none.
        if transport != "memory"
            && self
                .options
                .tls
                .as_ref()
                .is_some_and(|tls| tls.verify_service)
        {
            crate::tls::check_identity(service, &node.address, conn.peer_names())?;
        }
        Ok((transport, conn))
    }

    /// True when `e` came from a connection that had closed before the request left (the
    /// node restarted, an idle connection was dropped): then the call goes once more on a
    /// fresh connection to the same node.
    fn stale(&self, e: &Error, transport: &str, node: &Node, conn: &Arc<dyn Connection>) -> bool {
        let stale = e.is_retry_safe() && conn.is_closed();
        if stale {
            self.pool.evict(transport, &node.address, conn);
        }
        stale
    }

    async fn unary_on(
        &self,
        service: &str,
        node: &Node,
        head: &CallHead<'_>,
        frame: &Bytes,
    ) -> Result<UnaryReply> {
        let attempt = crate::metrics::Attempting::start(service, head.path, &node.address);
        let result = async {
            let (transport, conn) = self.connection(service, node).await?;
            match conn.unary(head, frame.clone()).await {
                Err(e) if self.stale(&e, transport, node, &conn) => {
                    let (_, conn) = self.connection(service, node).await?;
                    conn.unary(head, frame.clone()).await
                }
                result => result,
            }
        }
        .await;
        attempt.done(result.as_ref().map(|_| ()));
        result
    }

    async fn stream_on(
        &self,
        service: &str,
        node: &Node,
        head: &CallHead<'_>,
    ) -> Result<StreamStart> {
        let attempt = crate::metrics::Attempting::start(service, head.path, &node.address);
        let result = async {
            let (transport, conn) = self.connection(service, node).await?;
            match conn.stream(head).await {
                Err(e) if self.stale(&e, transport, node, &conn) => {
                    let (_, conn) = self.connection(service, node).await?;
                    conn.stream(head).await
                }
                result => result,
            }
        }
        .await;
        attempt.done(result.as_ref().map(|_| ()));
        result
    }

    /// A unary call: `frame` to a node of the service, the answer back. Errors the client
    /// produced itself name the service as their [dependency](Error::dependency).
    pub(crate) async fn unary(
        &self,
        call: &CallPlan<'_>,
        frame: Bytes,
    ) -> Result<(UnaryReply, Arc<Node>)> {
        self.unary_attempts(call, frame)
            .await
            .map_err(|e| e.calling(call.service))
    }

    async fn unary_attempts(
        &self,
        call: &CallPlan<'_>,
        frame: Bytes,
    ) -> Result<(UnaryReply, Arc<Node>)> {
        let CallPlan {
            ctx,
            service,
            endpoint,
            opts,
            format,
        } = *call;
        split_endpoint(endpoint)?;
        let started = Instant::now();
        let deadline = self.deadline_from(started, ctx, opts);
        let mut candidates = self.candidates(service, opts).await?;
        let retries = opts.retries.unwrap_or(self.options.retries);
        let mut retried = 0;
        let mut last: Option<Error> = None;
        let forwarded = ctx.forwarded_metadata();
        self.budget.call(started);
        let mut sent = 0u32;
        while let Some(target) = candidates.next() {
            let path = target.path(endpoint, opts)?;
            let guarded = self.breaker_on(opts);
            let breaker = if guarded {
                guard::key(&target.node.address, &path)
            } else {
                0
            };
            if let Err(e) =
                self.breakers
                    .allow(guarded, breaker, started, &target.node.address, &path)
            {
                tracing::debug!(service, endpoint, error = %e, "attempt refused by the breaker");
                last = Some(e);
                continue;
            }
            if sent > 0 && !self.budget.retry(started) {
                tracing::debug!(service, endpoint, "retry budget spent: no further attempt");
                break;
            }
            sent += 1;
            if let Some(delay) = opts.hedge.filter(|_| sent == 1)
                && target.idempotent(endpoint, opts)
            {
                let heads = Heads {
                    format,
                    deadline,
                    metadata: [&forwarded, &opts.metadata],
                };
                return self
                    .hedged(
                        &target,
                        &mut candidates,
                        call,
                        &heads,
                        &frame,
                        delay,
                        started,
                    )
                    .await;
            }
            let head = CallHead {
                path: &path,
                format,
                deadline,
                metadata: [&forwarded, &opts.metadata],
            };
            let in_flight = self.selector.start(&target.node);
            let attempt = self.unary_on(call.service, &target.node, &head, &frame);
            let result = tokio::time::timeout_at(deadline.into(), attempt).await;
            let result = match result {
                Ok(result) => {
                    let accepted = guard::accepted(&result.as_ref().map(|_| ()));
                    if guarded {
                        // A failure counts when it happened (an attempt may have taken longer
                        // than the window); a success is placed by its start, which saves a
                        // clock read on every call.
                        let at = if accepted { started } else { Instant::now() };
                        self.breakers.record(true, breaker, at, accepted);
                    }
                    if !accepted && let Some(load) = in_flight {
                        // An overloaded node answers fast: it must not look fast.
                        load.failed();
                    }
                    result
                }
                Err(_) => {
                    if guarded {
                        self.breakers.record(true, breaker, Instant::now(), false);
                    }
                    if let Some(load) = in_flight {
                        load.failed();
                    }
                    // A node that lets the deadline pass is suspect: the next calls prefer
                    // the others while it cools off.
                    self.mark(&target, Outcome::TimedOut);
                    return Err(Error::timeout(
                        ID,
                        format!(
                            "call to {service} {endpoint} timed out: deadline exceeded on {}",
                            target.node.address
                        ),
                    ));
                }
            };
            match result {
                Ok(reply) => {
                    self.mark(&target, Outcome::Answered);
                    return Ok((reply, target.node));
                }
                Err(e) if !e.is_transport_failure() => {
                    self.mark(&target, Outcome::Answered);
                    return Err(e);
                }
                Err(e) => {
                    self.mark(&target, Outcome::ConnectionFailed);
                    let retry = match e.failure() {
                        // Never reached a handler: try the other nodes.
                        Failure::BeforeSend => true,
                        // May have run: only if the endpoint says running twice is fine.
                        _ => {
                            let ok = target.idempotent(endpoint, opts) && retried < retries;
                            retried += 1;
                            ok
                        }
                    };
                    tracing::debug!(service, endpoint, node = %target.node.address, error = %e, retry, "call attempt failed");
                    if !retry {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::unavailable(ID, format!("service {service}: no node available"))
        }))
    }

    /// A hedged call (idempotent endpoints only): `first` gets the call; when it has not
    /// answered within `delay`, the next node gets it too (if the retry budget allows), and
    /// the first success wins (the other attempt is cancelled). When both fail, the later
    /// error is the call's.
    #[allow(clippy::too_many_arguments)]
    async fn hedged(
        &self,
        first: &Target,
        candidates: &mut Candidates,
        call: &CallPlan<'_>,
        head: &Heads<'_>,
        frame: &Bytes,
        delay: Duration,
        started: Instant,
    ) -> Result<(UnaryReply, Arc<Node>)> {
        let (endpoint, opts) = (call.endpoint, call.opts);
        let path_a = first.path(endpoint, opts)?;
        let head_a = head.at(&path_a);
        let deadline = head_a.deadline;
        let a = self.unary_on(call.service, &first.node, &head_a, frame);
        tokio::pin!(a);
        tokio::select! {
            r = &mut a => return self.settle_hedge(first, r),
            () = tokio::time::sleep(delay) => {}
            () = tokio::time::sleep_until(deadline.into()) => return Err(timed_out(call, first)),
        }
        let second = candidates.next().filter(|_| self.budget.retry(started));
        let Some(second) = second else {
            return match tokio::time::timeout_at(deadline.into(), a).await {
                Ok(r) => self.settle_hedge(first, r),
                Err(_) => Err(timed_out(call, first)),
            };
        };
        let path_b = second.path(endpoint, opts)?;
        let head_b = head.at(&path_b);
        let b = self.unary_on(call.service, &second.node, &head_b, frame);
        tokio::pin!(b);
        // The first success wins; when both fail, the later error is the call's.
        let (mut failed_a, mut failed_b): (Option<Error>, Option<Error>) = (None, None);
        loop {
            tokio::select! {
                r = &mut a, if failed_a.is_none() => {
                    match self.settle_hedge(first, r) {
                        Ok(v) => return Ok(v),
                        Err(e) => failed_a = Some(e),
                    }
                }
                r = &mut b, if failed_b.is_none() => {
                    match self.settle_hedge(&second, r) {
                        Ok(v) => return Ok(v),
                        Err(e) => failed_b = Some(e),
                    }
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    return Err(timed_out(call, first));
                }
            }
            if failed_a.is_some()
                && let Some(e) = failed_b.take()
            {
                return Err(e);
            }
        }
    }

    /// Mark the node by what an attempt gave.
    fn settle_hedge(
        &self,
        target: &Target,
        result: Result<UnaryReply>,
    ) -> Result<(UnaryReply, Arc<Node>)> {
        match result {
            Ok(reply) => {
                self.mark(target, Outcome::Answered);
                Ok((reply, target.node.clone()))
            }
            Err(e) => {
                let outcome = if e.is_transport_failure() {
                    Outcome::ConnectionFailed
                } else {
                    Outcome::Answered
                };
                self.mark(target, outcome);
                Err(e)
            }
        }
    }

    /// Open a stream on a node of the service. Only failures before the stream started are
    /// retried on another node.
    pub(crate) async fn open(
        &self,
        call: &CallPlan<'_>,
        deadline: Instant,
    ) -> Result<(StreamStart, Arc<Node>)> {
        self.open_attempts(call, deadline)
            .await
            .map_err(|e| e.calling(call.service))
    }

    async fn open_attempts(
        &self,
        call: &CallPlan<'_>,
        deadline: Instant,
    ) -> Result<(StreamStart, Arc<Node>)> {
        let CallPlan {
            ctx,
            service,
            endpoint,
            opts,
            format,
        } = *call;
        split_endpoint(endpoint)?;
        let mut candidates = self.candidates(service, opts).await?;
        let mut last: Option<Error> = None;
        let forwarded = ctx.forwarded_metadata();
        while let Some(target) = candidates.next() {
            let path = target.path(endpoint, opts)?;
            let head = CallHead {
                path: &path,
                format,
                deadline,
                metadata: [&forwarded, &opts.metadata],
            };
            let guarded = self.breaker_on(opts);
            let breaker = guard::key(&target.node.address, &path);
            let at = Instant::now();
            if let Err(e) = self
                .breakers
                .allow(guarded, breaker, at, &target.node.address, &path)
            {
                last = Some(e);
                continue;
            }
            let start = self.stream_on(call.service, &target.node, &head);
            let Ok(started) = tokio::time::timeout_at(deadline.into(), start).await else {
                self.breakers
                    .record(guarded, breaker, Instant::now(), false);
                self.mark(&target, Outcome::TimedOut);
                return Err(Error::timeout(
                    ID,
                    format!(
                        "stream to {service} {endpoint} timed out on {}",
                        target.node.address
                    ),
                ));
            };
            let accepted = guard::accepted(&started.as_ref().map(|_| ()));
            self.breakers
                .record(guarded, breaker, Instant::now(), accepted);
            match started {
                Ok(start) => {
                    self.mark(&target, Outcome::Answered);
                    return Ok((start, target.node));
                }
                Err(e) => {
                    self.mark(&target, Outcome::ConnectionFailed);
                    if !e.is_retry_safe() {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::unavailable(ID, format!("service {service}: no node available"))
        }))
    }
}
