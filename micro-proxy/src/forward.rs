//! Calls that arrive over micro's transports: to the app behind the sidecar (as HTTP
//! `POST /{Endpoint}`), or on to the service a proxy-mode client names.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use micro::client::{CallOptions, PROXY_SERVICE_HEADER};
use micro::codec::Format;
use micro::{Context, Error};

use crate::Sidecar;

const ID: &str = "micro.proxy";

/// Metadata a sidecar passes to the app's sidecar for a Dapr invocation: the HTTP verb.
pub(crate) const VERB_HEADER: &str = "dapr-http-verb";
/// ... and the query string.
pub(crate) const QUERY_HEADER: &str = "dapr-http-query";
/// The endpoint's service part for Dapr methods that have none: `neworder` travels as
/// `Dapr.neworder` and reaches the app as `POST /neworder`.
pub(crate) const DAPR_SERVICE: &str = "Dapr";

/// The client requests to the app go out with.
pub(crate) type HttpClient = Client<HttpConnector, Body>;

pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// What the app answered.
pub(crate) struct AppReply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

impl Sidecar {
    /// A call that arrived over micro's transports.
    pub(crate) async fn take_call(
        &self,
        ctx: Context,
        format: Format,
        body: Bytes,
    ) -> micro::Result<Bytes> {
        let endpoint = ctx.endpoint().unwrap_or_default().to_owned();
        let app = self.inner.options.app.as_ref();
        match ctx.metadata().get(PROXY_SERVICE_HEADER) {
            Some(service) if app.is_none_or(|a| a.name != service) => {
                let service = service.to_owned();
                self.relay(ctx, &service, &endpoint, format, body).await
            }
            _ => {
                if format != Format::Json {
                    return Err(Error::new(
                        ID,
                        format!(
                            "the app behind this sidecar takes JSON; {endpoint} came as {format}"
                        ),
                        415,
                    ));
                }
                self.to_app(&ctx, &endpoint, body).await
            }
        }
    }

    /// A proxy-mode call on to `service`, resolved and balanced here.
    async fn relay(
        &self,
        ctx: Context,
        service: &str,
        endpoint: &str,
        format: Format,
        body: Bytes,
    ) -> micro::Result<Bytes> {
        let mut out = Context::new();
        if let Some(deadline) = ctx.deadline() {
            out = out.with_deadline(deadline);
        }
        for (k, v) in ctx.metadata().iter() {
            if k != PROXY_SERVICE_HEADER {
                out.metadata_mut().insert(k, v);
            }
        }
        if self.inner.client.options().proxy.is_some() {
            // Its own client would send the call straight back here.
            return Err(Error::internal(
                ID,
                "this sidecar's client is in proxy mode itself (MICRO_PROXY): it cannot relay",
            ));
        }
        let opts = CallOptions::new().timeout(self.inner.options.call_timeout);
        let rsp = self
            .inner
            .client
            .call_raw(&out, service, endpoint, format, body, &opts)
            .await?;
        Ok(rsp.message)
    }

    /// A call to the app: `POST /{Endpoint}` with the JSON body (a Dapr method travels with
    /// its verb and query).
    async fn to_app(&self, ctx: &Context, endpoint: &str, body: Bytes) -> micro::Result<Bytes> {
        let Some(app) = &self.inner.options.app else {
            return Err(Error::unimplemented(
                ID,
                format!(
                    "no app behind this sidecar to take {endpoint} (start it with --server_name and --server_address)"
                ),
            ));
        };
        let meta = ctx.metadata();
        let (method, path) = match endpoint
            .strip_prefix(DAPR_SERVICE)
            .and_then(|m| m.strip_prefix('.'))
        {
            Some(m) => {
                let verb = meta.get(VERB_HEADER).unwrap_or("POST");
                let method = Method::from_bytes(verb.as_bytes())
                    .map_err(|_| Error::bad_request(ID, format!("invalid HTTP verb {verb:?}")))?;
                let query = meta.get(QUERY_HEADER).filter(|q| !q.is_empty());
                let path = match query {
                    Some(q) => format!("/{m}?{q}"),
                    None => format!("/{m}"),
                };
                (method, path)
            }
            None => (Method::POST, format!("/{endpoint}")),
        };
        let timeout = ctx.remaining().unwrap_or(self.inner.options.call_timeout);
        let reply = self
            .app_request(
                &app.address,
                method,
                &path,
                Some("application/json"),
                body,
                timeout,
            )
            .await?;
        if reply.status.is_success() {
            return Ok(reply.body);
        }
        Err(app_error(&app.name, endpoint, &reply))
    }

    /// One request to the app at `base` (`http://host:port`).
    pub(crate) async fn app_request(
        &self,
        base: &str,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
        timeout: Duration,
    ) -> micro::Result<AppReply> {
        let uri = format!("{}{path}", base.trim_end_matches('/'));
        let mut req = Request::builder().method(method).uri(&uri);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| Error::bad_request(ID, format!("cannot send to the app at {uri}: {e}")))?;
        let sent = async {
            let rsp = self.inner.http.request(req).await.map_err(|e| {
                Error::unavailable(ID, format!("the app at {uri} cannot be reached: {e}"))
            })?;
            let status = rsp.status();
            let content_type = rsp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = rsp
                .into_body()
                .collect()
                .await
                .map_err(|e| {
                    Error::unavailable(ID, format!("the app at {uri} broke off its answer: {e}"))
                })?
                .to_bytes();
            Ok(AppReply {
                status,
                content_type,
                body,
            })
        };
        tokio::time::timeout(timeout, sent).await.map_err(|_| {
            Error::timeout(
                ID,
                format!("the app at {uri} did not answer within {timeout:?}"),
            )
        })?
    }
}

/// The app's failure as a micro error: its own go-micro error when it sent one, else the
/// HTTP status with the body as the detail.
fn app_error(app: &str, endpoint: &str, reply: &AppReply) -> Error {
    let text = String::from_utf8_lossy(&reply.body);
    let parsed = Error::parse(&text);
    if parsed.code() == i32::from(reply.status.as_u16()) && !parsed.detail().is_empty() {
        return parsed;
    }
    let detail = if text.trim().is_empty() {
        format!("{app} answered {} to {endpoint}", reply.status)
    } else {
        text.trim().chars().take(1024).collect()
    };
    Error::new(app, detail, i32::from(reply.status.as_u16()))
}
